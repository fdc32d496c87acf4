/* A partition's ACPI tables: RSDP, XSDT, FADT, FACS, DSDT and MADT describing only what the
 * partition has (its CPUs, one virtual IOAPIC, the ACPI PM registers the hypervisor emulates).
 * Pure: the tables are generated into a host buffer that the guest will see at a given
 * guest-physical address; nothing else is touched. Unit-tested by parsing the result with
 * drivers/acpi.c. Contents and decisions: docs/guest-boot.md, "ACPI tables". */
#ifndef BH_HV_VACPI_H
#define BH_HV_VACPI_H

#include "types.h"
#include "hv/vpm.h"

#define VACPI_MAX_CPUS 1024
#define VACPI_ALIGN 64                 /* the buffer's guest-physical address (FACS alignment) */

/* Fixed parts of the platform the tables describe; the hypervisor's emulation must match. */
#define VACPI_LAPIC_ADDRESS 0xFEE00000u
#define VACPI_SCI_IRQ 9                /* ISA IRQ 9 = GSI 9, level-triggered, active high */
#define VACPI_SLP_TYP_S5 VPM_SLP_TYP_S5 /* \_S5: PM1a_CNT.SLP_TYP for soft-off, as the vPM decodes it */
#define VACPI_RESET_PORT 0xCF9         /* FADT RESET_REG: an I/O byte ... */
#define VACPI_RESET_VALUE 0x06         /* ... written with this value resets the partition */
#define VACPI_CENTURY_INDEX 0x32       /* CMOS RTC register holding the century (BCD) */
#define VACPI_PM_TIMER_HZ 3579545u     /* the PM timer counts 32 bits at this rate */

/* Where the PM registers sit unless the partition code says otherwise (QEMU's q35 uses the
 * same block). PM1a_EVT is 4 ports (PM1_STS, PM1_EN), PM1a_CNT 2, PM_TMR 4. */
#define VACPI_DEFAULT_PM1A_EVT 0x600
#define VACPI_DEFAULT_PM1A_CNT 0x604
#define VACPI_DEFAULT_PM_TMR 0x608
#define VACPI_DEFAULT_IOAPIC_ADDRESS 0xFEC00000u

struct vacpi_config {
	u32 cpu_count;
	const u32 *apic_ids;      /* CPU i has APIC ID apic_ids[i] and ACPI processor UID i;
				   * IDs are unique, 0xFFFFFFFF is not one */
	u32 ioapic_address;       /* MMIO base of the virtual IOAPIC (not 0) */
	u8 ioapic_id;
	u32 ioapic_gsi_base;      /* must be 0: this IOAPIC serves the ISA IRQs */
	u16 pm1a_evt_port;        /* I/O port blocks, disjoint, not covering VACPI_RESET_PORT */
	u16 pm1a_cnt_port;
	u16 pm_tmr_port;
	const char *oem_id;       /* at most 6 printable characters; NULL or "": "BLKHD" */
	const char *oem_table_id; /* at most 8; NULL or "": "BULKHEAD" */
	u32 oem_revision;
};

/* Guest-physical addresses of what was built, and how many bytes of the buffer it used. */
struct vacpi_tables {
	u64 rsdp, facs, xsdt, fadt, dsdt, madt;
	u64 size;
};

/* Checks cfg and sets *size to the bytes vacpi_build needs. 0, or BH_EINVAL/BH_ERANGE with a
 * one-line reason in why (may be NULL). */
int vacpi_size(const struct vacpi_config *cfg, u64 *size, char *why, size_t why_size);

/* Builds the tables into buf, which the guest sees at gpa (VACPI_ALIGN-aligned), the RSDP at
 * its start. Writes exactly the first out->size bytes of buf (padding zeroed) and nothing on
 * failure: BH_ENOMEM when buf_size is too small, BH_EINVAL/BH_ERANGE for a bad cfg or gpa. */
int vacpi_build(const struct vacpi_config *cfg, u64 gpa, u8 *buf, u64 buf_size,
		struct vacpi_tables *out, char *why, size_t why_size);

#endif
