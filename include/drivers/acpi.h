/* ACPI table parser. Pure: it reads firmware tables only through `struct acpi_mem`, checks every
 * length against the bounds it was given and every checksum, and never trusts a pointer it has not
 * mapped through that interface. The hypervisor maps physical memory directly; the host unit tests
 * feed it table dumps saved under tests/data/acpi/. */
#ifndef BH_DRIVERS_ACPI_H
#define BH_DRIVERS_ACPI_H

#include "types.h"

#define ACPI_MAX_CPUS 256
#define ACPI_MAX_IOAPICS 16
#define ACPI_MAX_ISOS 32
#define ACPI_MAX_MCFG 8
#define ACPI_MAX_TABLES 64
#define ACPI_MAX_WARNINGS 16

/* Access to physical memory: returns a pointer through which `len` bytes at `phys` may be read, or
 * NULL if that range is not readable (outside RAM, wraps around, not in the dump). */
struct acpi_mem {
	const void *(*map)(void *ctx, u64 phys, u64 len);
	void *ctx;
};

/* Generic Address Structure (ACPI 6.x, 5.2.3.2), decoded. */
enum acpi_space { ACPI_SPACE_MEMORY = 0, ACPI_SPACE_IO = 1, ACPI_SPACE_PCI = 2 };
struct acpi_gas {
	u8 space_id;
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;
	u64 address;
};

struct acpi_table_ref {
	char signature[5];
	u64 address;
	u32 length;
	bool checksum_ok;
};

struct acpi_cpu {
	u32 apic_id;
	u32 uid;
	bool enabled;        /* MADT flag bit 0 */
	bool online_capable; /* MADT flag bit 1 (ACPI 6.3+) */
	bool x2apic_entry;   /* came from a type 9 (x2APIC) entry */
};

struct acpi_ioapic {
	u8 id;
	u32 address;
	u32 gsi_base;
};

struct acpi_override { /* interrupt source override */
	u8 bus;
	u8 source;
	u32 gsi;
	u16 flags;
};

struct acpi_mcfg {
	u64 base;
	u16 segment;
	u8 bus_start;
	u8 bus_end;
};

struct acpi_fadt_info {
	bool present;
	u8 revision;
	u32 flags;
	u16 sci_irq;
	u16 iapc_boot_arch;
	u64 dsdt;               /* X_DSDT when present and non-zero, else DSDT */
	struct acpi_gas pm1a_cnt; /* X_ block when present, else built from the 32-bit port field */
	struct acpi_gas pm1b_cnt; /* address 0 when absent */
	struct acpi_gas pm_timer; /* address 0 when absent */
	bool pm_timer_32bit;    /* FADT flag TMR_VAL_EXT */
	bool reset_supported;   /* FADT flag RESET_REG_SUP */
	struct acpi_gas reset_reg;
	u8 reset_value;
	u32 smi_cmd;
	u8 acpi_enable;
};

struct acpi_info {
	u64 rsdp_address;
	u8 rsdp_revision;
	char oem_id[7];
	bool xsdt_used;         /* false: RSDT fallback */
	u32 table_count;
	struct acpi_table_ref tables[ACPI_MAX_TABLES];

	bool madt_present;
	u64 lapic_address;
	bool pic_present;       /* MADT PCAT_COMPAT */
	u32 cpu_count;
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	u32 ioapic_count;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	u32 override_count;
	struct acpi_override overrides[ACPI_MAX_ISOS];

	u32 mcfg_count;
	struct acpi_mcfg mcfg[ACPI_MAX_MCFG];

	struct acpi_fadt_info fadt;

	bool s5_present;        /* \_S5 found in the DSDT */
	u8 s5_slp_typa;
	u8 s5_slp_typb;

	/* Problems that did not stop the parse (a table with a bad checksum is skipped, a
	 * truncated MADT entry ends the MADT walk, ...), as human-readable lines. */
	u32 warning_count;
	char warnings[ACPI_MAX_WARNINGS][96];
};

/* Parses everything reachable from the RSDP at `rsdp_phys` into *out (zeroed first). Returns 0
 * when the RSDP and its root table (XSDT, else RSDT) are valid, even if individual tables were
 * rejected (see warnings); BH_EINVAL/BH_ECHECKSUM/BH_ERANGE when the root is unusable, with a
 * reason in `why` (may be NULL). */
int acpi_parse(const struct acpi_mem *mem, u64 rsdp_phys, struct acpi_info *out,
	       char *why, size_t why_size);

/* Finds \_S5 in an AML byte stream (DSDT or SSDT body, header excluded) and decodes the first two
 * package elements. Returns 0 and sets *typa and *typb, or BH_ENOENT/BH_EINVAL. */
int acpi_aml_find_s5(const u8 *aml, size_t len, u8 *typa, u8 *typb);

#endif
