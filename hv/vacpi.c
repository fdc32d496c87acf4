/* A partition's ACPI tables (ACPI 6.4 layouts), generated into a buffer the guest sees at a
 * given guest-physical address.
 *
 * Buffer layout (every table 16-byte aligned, padding zero):
 *   +0    RSDP, revision 2: the XSDT only (RsdtAddress 0)
 *   +64   FACS, 64 bytes, 64-byte aligned (named by the FADT only)
 *   +128  XSDT: FADT, MADT
 *   then  FADT (revision 6.4, 276 bytes), DSDT (\_S5 only), MADT (one entry per CPU last)
 * Decisions (which FADT flags, why no RSDT, why an SCI override): docs/guest-boot.md. */
#include "types.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/string.h"
#include "hv/vacpi.h"

#define HDR_SIZE 36
#define TABLE_ALIGN 16
#define CREATOR_ID "BLKH"
#define CREATOR_REVISION 1
#define DEFAULT_OEM_ID "BLKHD"
#define DEFAULT_OEM_TABLE_ID "BULKHEAD"

#define RSDP_SIZE 36
#define RSDP_V1_SIZE 20
#define FACS_OFF 64
#define FACS_SIZE 64
#define FACS_VERSION 2
#define XSDT_OFF 128
#define XSDT_ENTRIES 2

#define FADT_SIZE 276
#define FADT_REVISION 6
#define FADT_MINOR 4
#define MADT_REVISION 5
#define DSDT_REVISION 2      /* 64-bit AML integers */
#define XSDT_REVISION 1

/* FADT fields (ACPI 6.4, table 5.9) */
#define F_FIRMWARE_CTRL 36
#define F_DSDT 40
#define F_PREFERRED_PM_PROFILE 45
#define F_SCI_INT 46
#define F_SMI_CMD 48
#define F_PM1A_EVT_BLK 56
#define F_PM1A_CNT_BLK 64
#define F_PM_TMR_BLK 76
#define F_PM1_EVT_LEN 88
#define F_PM1_CNT_LEN 89
#define F_PM_TMR_LEN 91
#define F_P_LVL2_LAT 96
#define F_P_LVL3_LAT 98
#define F_CENTURY 108
#define F_IAPC_BOOT_ARCH 109
#define F_FLAGS 112
#define F_RESET_REG 116
#define F_RESET_VALUE 128
#define F_MINOR_VERSION 131
#define F_X_FIRMWARE_CTRL 132
#define F_X_DSDT 140
#define F_X_PM1A_EVT_BLK 148
#define F_X_PM1A_CNT_BLK 172
#define F_X_PM_TMR_BLK 208
#define F_HYPERVISOR_ID 268

#define PM1_EVT_LEN 4
#define PM1_CNT_LEN 2
#define PM_TMR_LEN 4
#define LAT_C2_NONE 101      /* > 100 us: C2 not supported */
#define LAT_C3_NONE 1001     /* > 1000 us: C3 not supported */

/* IAPC_BOOT_ARCH: ISA-style devices (COM1, PIT, RTC) exist, no VGA; no 8042, MSI allowed,
 * CMOS RTC present. */
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_VGA_NOT_PRESENT (1u << 2)
#define IAPC_BOOT_ARCH (BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT)

/* FADT flags */
#define FL_WBINVD (1u << 0)
#define FL_PROC_C1 (1u << 2)
#define FL_PWR_BUTTON (1u << 4)   /* set: no fixed-feature power button */
#define FL_SLP_BUTTON (1u << 5)   /* set: no fixed-feature sleep button */
#define FL_FIX_RTC (1u << 6)      /* set: no RTC wake status in the fixed registers */
#define FL_TMR_VAL_EXT (1u << 8)  /* 32-bit PM timer */
#define FL_RESET_REG_SUP (1u << 10)
#define FL_HEADLESS (1u << 12)
#define FADT_FLAGS (FL_WBINVD | FL_PROC_C1 | FL_PWR_BUTTON | FL_SLP_BUTTON | FL_FIX_RTC | \
		    FL_TMR_VAL_EXT | FL_RESET_REG_SUP | FL_HEADLESS)

/* Generic Address Structure */
#define GAS_SIZE 12
#define GAS_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

/* MADT */
#define MADT_HDR 44
#define MADT_PCAT_COMPAT 1u
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_X2APIC 9
#define LAPIC_LEN 8
#define IOAPIC_LEN 12
#define ISO_LEN 10
#define X2APIC_LEN 16
#define CPU_ENABLED 1u
#define ISO_COUNT 2
#define ISO_CONFORMS 0x0000
#define ISO_LEVEL_HIGH 0x000D       /* polarity 01 active high, trigger 11 level */
#define XAPIC_ID_LIMIT 0xFF         /* 0xFF is the xAPIC broadcast: IDs from here on are x2APIC */
#define X2APIC_BROADCAST 0xFFFFFFFFu

/* \_S5: Name (\_S5_, Package (4) { 7, 7, 0, 0 }) in AML */
static const u8 dsdt_aml[] = {
	0x08, '\\', '_', 'S', '5', '_',  /* NameOp, \_S5_ */
	0x12, 0x08, 0x04,                /* PackageOp, PkgLength 8, NumElements 4 */
	0x0A, VACPI_SLP_TYP_S5,          /* SLP_TYPa */
	0x0A, VACPI_SLP_TYP_S5,          /* SLP_TYPb (no PM1b block: never used) */
	0x00, 0x00,                      /* reserved */
};

struct layout {
	u64 fadt, dsdt, madt, size;     /* offsets in the buffer */
	u32 madt_len;
};

static void put16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static void put32(u8 *p, u32 v)
{
	put16(p, (u16)v);
	put16(p + 2, (u16)(v >> 16));
}

static void put64(u8 *p, u64 v)
{
	put32(p, (u32)v);
	put32(p + 4, (u32)(v >> 32));
}

static void set_why(char *why, size_t why_size, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void set_why(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (!why || !why_size)
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
}

static bool x2apic_entry(const struct vacpi_config *cfg, u32 i)
{
	/* a LAPIC entry holds an 8-bit ID and an 8-bit UID, 0xFF excluded from both */
	return cfg->apic_ids[i] >= XAPIC_ID_LIMIT || i >= XAPIC_ID_LIMIT;
}

static u32 madt_length(const struct vacpi_config *cfg)
{
	u32 n = MADT_HDR + IOAPIC_LEN + ISO_COUNT * ISO_LEN;

	for (u32 i = 0; i < cfg->cpu_count; i++)
		n += x2apic_entry(cfg, i) ? X2APIC_LEN : LAPIC_LEN;
	return n;
}

static void plan(const struct vacpi_config *cfg, struct layout *l)
{
	l->fadt = ALIGN_UP((u64)XSDT_OFF + HDR_SIZE + 8 * XSDT_ENTRIES, TABLE_ALIGN);
	l->dsdt = ALIGN_UP(l->fadt + FADT_SIZE, TABLE_ALIGN);
	l->madt = ALIGN_UP(l->dsdt + HDR_SIZE + sizeof(dsdt_aml), TABLE_ALIGN);
	l->madt_len = madt_length(cfg);
	l->size = l->madt + l->madt_len;
}

/* ------------------------------------------------------------------ checks */

static int check_string(const char *s, size_t max, const char *what, char *why, size_t why_size)
{
	size_t n;

	if (!s)
		return 0;
	n = strnlen(s, max + 1);
	if (n > max) {
		set_why(why, why_size, "%s \"%.*s...\" is longer than %u characters", what,
			(int)max, s, (unsigned)max);
		return BH_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if ((u8)s[i] < 0x20 || (u8)s[i] > 0x7E) {
			set_why(why, why_size, "%s has a byte 0x%02x that is not printable ASCII", what,
				(u8)s[i]);
			return BH_EINVAL;
		}
	}
	return 0;
}

struct port_block {
	const char *name;
	u32 port, len;
};

static int check_ports(const struct vacpi_config *cfg, char *why, size_t why_size)
{
	const struct port_block b[] = {
		{ "PM1a event block", cfg->pm1a_evt_port, PM1_EVT_LEN },
		{ "PM1a control block", cfg->pm1a_cnt_port, PM1_CNT_LEN },
		{ "PM timer", cfg->pm_tmr_port, PM_TMR_LEN },
		{ "reset register", VACPI_RESET_PORT, 1 },
	};

	for (u32 i = 0; i < ARRAY_SIZE(b); i++) {
		if (!b[i].port || b[i].port + b[i].len > 0x10000) {
			set_why(why, why_size, "%s at port 0x%x: not a place for %u ports", b[i].name,
				b[i].port, b[i].len);
			return BH_ERANGE;
		}
		for (u32 j = 0; j < i; j++) {
			if (b[i].port < b[j].port + b[j].len && b[j].port < b[i].port + b[i].len) {
				set_why(why, why_size, "%s at ports 0x%x-0x%x overlaps the %s at "
					"0x%x-0x%x", b[i].name, b[i].port, b[i].port + b[i].len - 1,
					b[j].name, b[j].port, b[j].port + b[j].len - 1);
				return BH_EINVAL;
			}
		}
	}
	return 0;
}

static int check_cpus(const struct vacpi_config *cfg, char *why, size_t why_size)
{
	if (!cfg->cpu_count || cfg->cpu_count > VACPI_MAX_CPUS) {
		set_why(why, why_size, "%u CPUs: 1 to %d are supported", cfg->cpu_count,
			VACPI_MAX_CPUS);
		return BH_ERANGE;
	}
	if (!cfg->apic_ids) {
		set_why(why, why_size, "%u CPUs but no APIC IDs", cfg->cpu_count);
		return BH_EINVAL;
	}
	for (u32 i = 0; i < cfg->cpu_count; i++) {
		if (cfg->apic_ids[i] == X2APIC_BROADCAST) {
			set_why(why, why_size, "CPU %u: APIC ID 0xffffffff is the x2APIC broadcast", i);
			return BH_EINVAL;
		}
		for (u32 j = 0; j < i; j++) {
			if (cfg->apic_ids[i] == cfg->apic_ids[j]) {
				set_why(why, why_size, "CPUs %u and %u have the same APIC ID %u", j, i,
					cfg->apic_ids[i]);
				return BH_EINVAL;
			}
		}
	}
	return 0;
}

int vacpi_size(const struct vacpi_config *cfg, u64 *size, char *why, size_t why_size)
{
	struct layout l;
	int err;

	set_why(why, why_size, "%s", "");
	if (!cfg || !size) {
		set_why(why, why_size, "no configuration, or no size to fill");
		return BH_EINVAL;
	}
	err = check_cpus(cfg, why, why_size);
	if (!err && !cfg->ioapic_address) {
		set_why(why, why_size, "IOAPIC address 0");
		err = BH_EINVAL;
	}
	if (!err && cfg->ioapic_gsi_base) {
		set_why(why, why_size, "IOAPIC GSI base %u: the only IOAPIC serves ISA IRQs 0-15, "
			"so it must start at GSI 0", cfg->ioapic_gsi_base);
		err = BH_EINVAL;
	}
	if (!err)
		err = check_ports(cfg, why, why_size);
	if (!err)
		err = check_string(cfg->oem_id, 6, "OEM ID", why, why_size);
	if (!err)
		err = check_string(cfg->oem_table_id, 8, "OEM table ID", why, why_size);
	if (err)
		return err;
	plan(cfg, &l);
	*size = l.size;
	return 0;
}

/* ------------------------------------------------------------------ writing */

static void checksum(u8 *p, u64 len, u8 *field)
{
	u8 sum = 0;

	*field = 0;
	for (u64 i = 0; i < len; i++)
		sum = (u8)(sum + p[i]);
	*field = (u8)-sum;
}

/* Space-padded, as ACPI's fixed-width identifiers are. */
static void put_id(u8 *p, const char *s, const char *def, size_t width)
{
	size_t n;

	if (!s || !*s)
		s = def;
	n = strnlen(s, width);
	memset(p, ' ', width);
	memcpy(p, s, n);
}

static void header(const struct vacpi_config *cfg, u8 *p, const char *sig, u32 len, u8 rev)
{
	memcpy(p, sig, 4);
	put32(p + 4, len);
	p[8] = rev;
	put_id(p + 10, cfg->oem_id, DEFAULT_OEM_ID, 6);
	put_id(p + 16, cfg->oem_table_id, DEFAULT_OEM_TABLE_ID, 8);
	put32(p + 24, cfg->oem_revision);
	memcpy(p + 28, CREATOR_ID, 4);
	put32(p + 32, CREATOR_REVISION);
}

static void gas_io(u8 *p, u16 port, u8 bytes, u8 access)
{
	p[0] = GAS_IO;
	p[1] = (u8)(bytes * 8);
	p[2] = 0;
	p[3] = access;
	put64(p + 4, port);
}

static void write_rsdp(const struct vacpi_config *cfg, u8 *p, u64 xsdt)
{
	memcpy(p, "RSD PTR ", 8);
	put_id(p + 9, cfg->oem_id, DEFAULT_OEM_ID, 6);
	p[15] = 2;                      /* revision: ACPI 2.0+ */
	put32(p + 16, 0);               /* no RSDT */
	put32(p + 20, RSDP_SIZE);
	put64(p + 24, xsdt);
	checksum(p, RSDP_V1_SIZE, p + 8);
	checksum(p, RSDP_SIZE, p + 32);
}

static void write_facs(u8 *p)
{
	memcpy(p, "FACS", 4);
	put32(p + 4, FACS_SIZE);
	p[32] = FACS_VERSION;           /* all else 0: no waking vector, lock free, no flags */
}

static void write_xsdt(const struct vacpi_config *cfg, u8 *p, u64 fadt, u64 madt)
{
	u32 len = HDR_SIZE + 8 * XSDT_ENTRIES;

	header(cfg, p, "XSDT", len, XSDT_REVISION);
	put64(p + HDR_SIZE, fadt);
	put64(p + HDR_SIZE + 8, madt);
	checksum(p, len, p + 9);
}

static void write_fadt(const struct vacpi_config *cfg, u8 *p, u64 facs, u64 dsdt)
{
	header(cfg, p, "FACP", FADT_SIZE, FADT_REVISION);
	/* the 32-bit pointers too while they reach, equal to the 64-bit ones */
	if (facs < 0x100000000ULL)
		put32(p + F_FIRMWARE_CTRL, (u32)facs);
	if (dsdt < 0x100000000ULL)
		put32(p + F_DSDT, (u32)dsdt);
	p[F_PREFERRED_PM_PROFILE] = 0;  /* unspecified */
	put16(p + F_SCI_INT, VACPI_SCI_IRQ);
	put32(p + F_SMI_CMD, 0);        /* no SMM: the platform is always in ACPI mode */
	put32(p + F_PM1A_EVT_BLK, cfg->pm1a_evt_port);
	put32(p + F_PM1A_CNT_BLK, cfg->pm1a_cnt_port);
	put32(p + F_PM_TMR_BLK, cfg->pm_tmr_port);
	p[F_PM1_EVT_LEN] = PM1_EVT_LEN;
	p[F_PM1_CNT_LEN] = PM1_CNT_LEN;
	p[F_PM_TMR_LEN] = PM_TMR_LEN;
	put16(p + F_P_LVL2_LAT, LAT_C2_NONE);
	put16(p + F_P_LVL3_LAT, LAT_C3_NONE);
	p[F_CENTURY] = VACPI_CENTURY_INDEX;
	put16(p + F_IAPC_BOOT_ARCH, IAPC_BOOT_ARCH);
	put32(p + F_FLAGS, FADT_FLAGS);
	gas_io(p + F_RESET_REG, VACPI_RESET_PORT, 1, GAS_ACCESS_BYTE);
	p[F_RESET_VALUE] = VACPI_RESET_VALUE;
	p[F_MINOR_VERSION] = FADT_MINOR;
	put64(p + F_X_FIRMWARE_CTRL, facs);
	put64(p + F_X_DSDT, dsdt);
	gas_io(p + F_X_PM1A_EVT_BLK, cfg->pm1a_evt_port, PM1_EVT_LEN, GAS_ACCESS_WORD);
	gas_io(p + F_X_PM1A_CNT_BLK, cfg->pm1a_cnt_port, PM1_CNT_LEN, GAS_ACCESS_WORD);
	gas_io(p + F_X_PM_TMR_BLK, cfg->pm_tmr_port, PM_TMR_LEN, GAS_ACCESS_DWORD);
	memcpy(p + F_HYPERVISOR_ID, "Bulkhead", 8);
	checksum(p, FADT_SIZE, p + 9);
}

static void write_dsdt(const struct vacpi_config *cfg, u8 *p)
{
	u32 len = HDR_SIZE + sizeof(dsdt_aml);

	header(cfg, p, "DSDT", len, DSDT_REVISION);
	memcpy(p + HDR_SIZE, dsdt_aml, sizeof(dsdt_aml));
	checksum(p, len, p + 9);
}

static u8 *iso(u8 *e, u8 irq, u32 gsi, u16 flags)
{
	e[0] = MADT_ISO;
	e[1] = ISO_LEN;
	e[2] = 0;                       /* ISA */
	e[3] = irq;
	put32(e + 4, gsi);
	put16(e + 8, flags);
	return e + ISO_LEN;
}

static void write_madt(const struct vacpi_config *cfg, u8 *p, u32 len)
{
	u8 *e = p + MADT_HDR;

	header(cfg, p, "APIC", len, MADT_REVISION);
	put32(p + 36, VACPI_LAPIC_ADDRESS);
	put32(p + 40, MADT_PCAT_COMPAT);
	for (u32 i = 0; i < cfg->cpu_count; i++) {
		if (x2apic_entry(cfg, i)) {
			e[0] = MADT_X2APIC;
			e[1] = X2APIC_LEN;
			put16(e + 2, 0);
			put32(e + 4, cfg->apic_ids[i]);
			put32(e + 8, CPU_ENABLED);
			put32(e + 12, i);
			e += X2APIC_LEN;
		} else {
			e[0] = MADT_LAPIC;
			e[1] = LAPIC_LEN;
			e[2] = (u8)i;
			e[3] = (u8)cfg->apic_ids[i];
			put32(e + 4, CPU_ENABLED);
			e += LAPIC_LEN;
		}
	}
	e[0] = MADT_IOAPIC;
	e[1] = IOAPIC_LEN;
	e[2] = cfg->ioapic_id;
	e[3] = 0;
	put32(e + 4, cfg->ioapic_address);
	put32(e + 8, cfg->ioapic_gsi_base);
	e += IOAPIC_LEN;
	/* the PIT's IRQ 0 is wired to pin 2; the SCI is level-triggered, active high */
	e = iso(e, 0, 2, ISO_CONFORMS);
	iso(e, VACPI_SCI_IRQ, VACPI_SCI_IRQ, ISO_LEVEL_HIGH);
	checksum(p, len, p + 9);
}

int vacpi_build(const struct vacpi_config *cfg, u64 gpa, u8 *buf, u64 buf_size,
		struct vacpi_tables *out, char *why, size_t why_size)
{
	struct layout l;
	u64 size;
	int err = vacpi_size(cfg, &size, why, why_size);

	if (err)
		return err;
	if (!buf || !out) {
		set_why(why, why_size, "no buffer or no result to fill");
		return BH_EINVAL;
	}
	if (gpa % VACPI_ALIGN) {
		set_why(why, why_size, "guest-physical address 0x%llx is not %d-byte aligned",
			(unsigned long long)gpa, VACPI_ALIGN);
		return BH_EINVAL;
	}
	if (gpa + size < gpa || gpa + size > (1ULL << 52)) {
		set_why(why, why_size, "guest-physical address 0x%llx leaves no room for %llu bytes",
			(unsigned long long)gpa, (unsigned long long)size);
		return BH_ERANGE;
	}
	if (buf_size < size) {
		set_why(why, why_size, "the ACPI tables need %llu bytes, the buffer holds %llu",
			(unsigned long long)size, (unsigned long long)buf_size);
		return BH_ENOMEM;
	}
	plan(cfg, &l);
	memset(buf, 0, size);
	out->rsdp = gpa;
	out->facs = gpa + FACS_OFF;
	out->xsdt = gpa + XSDT_OFF;
	out->fadt = gpa + l.fadt;
	out->dsdt = gpa + l.dsdt;
	out->madt = gpa + l.madt;
	out->size = size;
	write_facs(buf + FACS_OFF);
	write_dsdt(cfg, buf + l.dsdt);
	write_madt(cfg, buf + l.madt, l.madt_len);
	write_fadt(cfg, buf + l.fadt, out->facs, out->dsdt);
	write_xsdt(cfg, buf + XSDT_OFF, out->fadt, out->madt);
	write_rsdp(cfg, buf, out->xsdt);
	return 0;
}
