/* ACPI table parser: RSDP → XSDT (RSDT fallback) → MADT, FADT, MCFG, and \_S5 from the DSDT.
 *
 * Firmware tables are input like any other: every byte is read through `mem->map` with a length
 * that covers it, every length field is checked against what was mapped, and every checksum is
 * verified before a table is believed. A broken table is skipped with a warning; only a broken
 * RSDP or root table fails the whole parse. Pointers returned by `map` are assumed to stay
 * valid until acpi_parse returns. Multi-byte fields are assembled byte by byte: ACPI tables are
 * packed and often unaligned (Bochs puts its FADT at ...0034). */
#include "types.h"
#include "lib/string.h"
#include "lib/format.h"
#include "lib/error.h"
#include "drivers/acpi.h"

/* Common table header (ACPI 6.5, 5.2.6). */
#define HDR_SIGNATURE 0
#define HDR_LENGTH 4
#define HDR_REVISION 8
#define HDR_CHECKSUM 9
#define HDR_SIZE 36
/* No firmware table comes near this; a larger length is corruption, not data. */
#define TABLE_MAX_LENGTH (16u * 1024 * 1024)

/* RSDP (5.2.5.3). */
#define RSDP_V1_SIZE 20
#define RSDP_V2_SIZE 36
#define RSDP_MAX_LENGTH 4096
#define RSDP_OEM_ID 9
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24

/* MADT (5.2.12). */
#define MADT_LAPIC_ADDRESS 36
#define MADT_FLAGS 40
#define MADT_ENTRIES 44
#define MADT_PCAT_COMPAT 0x1u
#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_IOAPIC 1
#define MADT_TYPE_ISO 2
#define MADT_TYPE_LAPIC_OVERRIDE 5
#define MADT_TYPE_X2APIC 9
#define MADT_CPU_ENABLED 0x1u
#define MADT_CPU_ONLINE_CAPABLE 0x2u

/* FADT (5.2.9): byte offsets of the fields used here. */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1B_CNT_BLK 68
#define FADT_PM_TMR_BLK 76
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN 91
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_X_DSDT 140
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM1B_CNT_BLK 184
#define FADT_X_PM_TMR_BLK 208
#define FADT_V1_SIZE 116 /* ACPI 1.0 FADT, still produced by Bochs and QEMU's pc machine */
#define FADT_FLAG_TMR_VAL_EXT (1u << 8)
#define FADT_FLAG_RESET_REG_SUP (1u << 10)
#define GAS_SIZE 12

/* MCFG (PCI Firmware Specification 3.0, 4.1.2). */
#define MCFG_ENTRIES 44
#define MCFG_ENTRY_SIZE 16

/* AML opcodes (ACPI 6.5, 20.3). */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e
#define AML_PACKAGE_OP 0x12
#define AML_ONES_OP 0xff
#define AML_ROOT_PREFIX '\\'

/* A table whose full length has been mapped. */
struct table {
	const u8 *p;
	u64 phys;
	u32 len;
	char sig[5];
};

/* What the RSDP points to. */
struct rsdp {
	u32 rsdt;
	u64 xsdt; /* 0 when there is none or the v2 part is unusable */
};

/* Entries the fixed-size result arrays had no room for, reported once per MADT. */
struct madt_overflow {
	u32 cpus, ioapics, overrides;
};

static u16 rd16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 rd32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 rd64(const u8 *p)
{
	return (u64)rd32(p) | (u64)rd32(p + 4) << 32;
}

static unsigned long long ull(u64 v)
{
	return (unsigned long long)v;
}

static void set_why(char *why, size_t why_size, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void set_why(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || why_size == 0)
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
}

/* The last slot is kept to say that warnings were dropped, so a flood of them (a corrupted
 * MADT) is visible as such instead of silently truncated. */
static void warn(struct acpi_info *out, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void warn(struct acpi_info *out, const char *fmt, ...)
{
	va_list ap;

	if (out->warning_count >= ACPI_MAX_WARNINGS)
		return;
	if (out->warning_count == ACPI_MAX_WARNINGS - 1) {
		fmt_snprintf(out->warnings[out->warning_count++], sizeof(out->warnings[0]),
			     "further warnings dropped");
		return;
	}
	va_start(ap, fmt);
	fmt_vsnprintf(out->warnings[out->warning_count++], sizeof(out->warnings[0]), fmt, ap);
	va_end(ap);
}

/* Maps [phys, phys+len), refusing empty and wrapping ranges before the callback sees them. */
static const u8 *map_range(const struct acpi_mem *mem, u64 phys, u64 len)
{
	if (len == 0 || phys + len < phys)
		return NULL;
	return mem->map(mem->ctx, phys, len);
}

static bool checksum_ok(const u8 *p, u32 len)
{
	u8 sum = 0;

	for (u32 i = 0; i < len; i++)
		sum = (u8)(sum + p[i]);
	return sum == 0;
}

/* Signatures go into messages, so anything unprintable is shown as '?'. */
static void copy_printable(char *dst, const u8 *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[n] = '\0';
}

/* Maps the table at phys and checks its length and checksum. On BH_ECHECKSUM the table is
 * mapped (t is filled) but must not be believed; on other errors t->p is NULL. The reason goes
 * to msg. */
static int load_table(const struct acpi_mem *mem, u64 phys, struct table *t, char *msg,
		      size_t msg_size)
{
	const u8 *hdr;

	memset(t, 0, sizeof(*t));
	t->phys = phys;
	hdr = map_range(mem, phys, HDR_SIZE);
	if (hdr == NULL) {
		set_why(msg, msg_size, "header unreadable");
		return BH_ERANGE;
	}
	copy_printable(t->sig, hdr + HDR_SIGNATURE, 4);
	t->len = rd32(hdr + HDR_LENGTH);
	if (t->len < HDR_SIZE || t->len > TABLE_MAX_LENGTH) {
		set_why(msg, msg_size, "bad length %u", t->len);
		return t->len < HDR_SIZE ? BH_EINVAL : BH_ERANGE;
	}
	t->p = map_range(mem, phys, t->len);
	if (t->p == NULL) {
		set_why(msg, msg_size, "%u bytes unreadable", t->len);
		return BH_ERANGE;
	}
	if (!checksum_ok(t->p, t->len)) {
		set_why(msg, msg_size, "checksum mismatch");
		return BH_ECHECKSUM;
	}
	return 0;
}

static bool has_signature(const struct table *t, const char *sig)
{
	return memcmp(t->p + HDR_SIGNATURE, sig, 4) == 0;
}

/* Lists a table in out->tables. Returns false when the array is full: the caller still parses
 * the table and reports how many went unlisted. */
static bool record_table(struct acpi_info *out, const struct table *t, bool ok)
{
	struct acpi_table_ref *ref;

	if (out->table_count == ACPI_MAX_TABLES)
		return false;
	ref = &out->tables[out->table_count++];
	memcpy(ref->signature, t->sig, sizeof(ref->signature));
	ref->address = t->phys;
	ref->length = t->len;
	ref->checksum_ok = ok;
	return true;
}

/* ---- RSDP and root table -------------------------------------------------------------- */

/* Reads the ACPI 2.0+ part of the RSDP. Problems there only cost the XSDT (the RSDT still
 * works), so they are warnings. */
static u64 rsdp_xsdt_address(const struct acpi_mem *mem, u64 rsdp_phys, struct acpi_info *out)
{
	const u8 *p = map_range(mem, rsdp_phys, RSDP_V2_SIZE);
	u32 len;

	if (p == NULL) {
		warn(out, "RSDP: revision %u but its extended part is unreadable, XSDT ignored",
		     out->rsdp_revision);
		return 0;
	}
	len = rd32(p + RSDP_LENGTH);
	if (len < RSDP_V2_SIZE || len > RSDP_MAX_LENGTH) {
		warn(out, "RSDP: bad length %u, XSDT ignored", len);
		return 0;
	}
	p = map_range(mem, rsdp_phys, len);
	if (p == NULL) {
		warn(out, "RSDP: %u bytes unreadable, XSDT ignored", len);
		return 0;
	}
	if (!checksum_ok(p, len)) {
		warn(out, "RSDP: extended checksum mismatch, XSDT ignored");
		return 0;
	}
	return rd64(p + RSDP_XSDT);
}

static int parse_rsdp(const struct acpi_mem *mem, u64 phys, struct acpi_info *out,
		      struct rsdp *rsdp, char *why, size_t why_size)
{
	const u8 *p = map_range(mem, phys, RSDP_V1_SIZE);

	if (p == NULL) {
		set_why(why, why_size, "RSDP at %#llx unreadable", ull(phys));
		return BH_ERANGE;
	}
	if (memcmp(p, "RSD PTR ", 8) != 0) {
		set_why(why, why_size, "no RSDP signature at %#llx", ull(phys));
		return BH_EINVAL;
	}
	if (!checksum_ok(p, RSDP_V1_SIZE)) {
		set_why(why, why_size, "RSDP at %#llx: checksum mismatch", ull(phys));
		return BH_ECHECKSUM;
	}
	out->rsdp_revision = p[RSDP_REVISION];
	copy_printable(out->oem_id, p + RSDP_OEM_ID, 6);
	rsdp->rsdt = rd32(p + RSDP_RSDT);
	/* Revision 0 is ACPI 1.0; 2 and later carry the XSDT (there is no revision 1). */
	rsdp->xsdt = out->rsdp_revision >= 2 ? rsdp_xsdt_address(mem, phys, out) : 0;
	return 0;
}

/* Loads the XSDT or RSDT at phys; on failure returns the error with a reason in msg. */
static int load_root(const struct acpi_mem *mem, u64 phys, const char *sig, struct table *root,
		     char *msg, size_t msg_size)
{
	int err = load_table(mem, phys, root, msg, msg_size);

	if (err == 0 && !has_signature(root, sig)) {
		set_why(msg, msg_size, "signature is \"%s\"", root->sig);
		err = BH_EINVAL;
	}
	return err;
}

/* Picks the XSDT when it is sound, else falls back to the RSDT. */
static int choose_root(const struct acpi_mem *mem, const struct rsdp *rsdp,
		       struct acpi_info *out, struct table *root, char *why, size_t why_size)
{
	char msg[64];
	int err;

	if (rsdp->xsdt != 0) {
		err = load_root(mem, rsdp->xsdt, "XSDT", root, msg, sizeof(msg));
		if (err == 0) {
			out->xsdt_used = true;
			return 0;
		}
		warn(out, "XSDT at %#llx: %s, using the RSDT", ull(rsdp->xsdt), msg);
	}
	if (rsdp->rsdt == 0) {
		set_why(why, why_size, "RSDP points to no usable root table");
		return BH_EINVAL;
	}
	err = load_root(mem, rsdp->rsdt, "RSDT", root, msg, sizeof(msg));
	if (err != 0)
		set_why(why, why_size, "RSDT at %#llx: %s", ull(rsdp->rsdt), msg);
	return err;
}

/* ---- MADT ------------------------------------------------------------------------------ */

/* Firmware may describe one CPU with both a LAPIC and an x2APIC entry; it is listed once. */
static void add_cpu(struct acpi_info *out, struct madt_overflow *over, u32 apic_id, u32 uid,
		    u32 flags, bool x2apic_entry)
{
	struct acpi_cpu *cpu;

	for (u32 i = 0; i < out->cpu_count; i++)
		if (out->cpus[i].apic_id == apic_id)
			return;
	if (out->cpu_count == ACPI_MAX_CPUS) {
		over->cpus++;
		return;
	}
	cpu = &out->cpus[out->cpu_count++];
	cpu->apic_id = apic_id;
	cpu->uid = uid;
	cpu->enabled = (flags & MADT_CPU_ENABLED) != 0;
	cpu->online_capable = (flags & MADT_CPU_ONLINE_CAPABLE) != 0;
	cpu->x2apic_entry = x2apic_entry;
}

static void add_ioapic(struct acpi_info *out, struct madt_overflow *over, const u8 *e)
{
	struct acpi_ioapic *io;

	if (out->ioapic_count == ACPI_MAX_IOAPICS) {
		over->ioapics++;
		return;
	}
	io = &out->ioapics[out->ioapic_count++];
	io->id = e[2];
	io->address = rd32(e + 4);
	io->gsi_base = rd32(e + 8);
}

static void add_override(struct acpi_info *out, struct madt_overflow *over, const u8 *e)
{
	struct acpi_override *iso;

	if (out->override_count == ACPI_MAX_ISOS) {
		over->overrides++;
		return;
	}
	iso = &out->overrides[out->override_count++];
	iso->bus = e[2];
	iso->source = e[3];
	iso->gsi = rd32(e + 4);
	iso->flags = rd16(e + 8);
}

/* Smallest length of each entry type this parser reads; 0 for types it skips. */
static u8 madt_entry_min_length(u8 type)
{
	switch (type) {
	case MADT_TYPE_LAPIC: return 8;
	case MADT_TYPE_IOAPIC: return 12;
	case MADT_TYPE_ISO: return 10;
	case MADT_TYPE_LAPIC_OVERRIDE: return 12;
	case MADT_TYPE_X2APIC: return 16;
	default: return 0;
	}
}

static void madt_entry(struct acpi_info *out, struct madt_overflow *over, const u8 *e, u8 len,
		       u32 offset)
{
	u8 min = madt_entry_min_length(e[0]);

	if (min == 0)
		return;
	if (len < min) {
		warn(out, "MADT: type %u entry at offset %u too short (%u bytes), skipped", e[0],
		     offset, len);
		return;
	}
	switch (e[0]) {
	case MADT_TYPE_LAPIC:
		add_cpu(out, over, e[3], e[2], rd32(e + 4), false);
		break;
	case MADT_TYPE_IOAPIC:
		add_ioapic(out, over, e);
		break;
	case MADT_TYPE_ISO:
		add_override(out, over, e);
		break;
	case MADT_TYPE_LAPIC_OVERRIDE:
		out->lapic_address = rd64(e + 4);
		break;
	case MADT_TYPE_X2APIC:
		add_cpu(out, over, rd32(e + 4), rd32(e + 12), rd32(e + 8), true);
		break;
	}
}

static void parse_madt(const struct table *t, struct acpi_info *out)
{
	struct madt_overflow over = { 0, 0, 0 };
	u32 off;

	if (t->len < MADT_ENTRIES) {
		warn(out, "MADT: too short (%u bytes), table ignored", t->len);
		return;
	}
	out->madt_present = true;
	out->lapic_address = rd32(t->p + MADT_LAPIC_ADDRESS);
	out->pic_present = (rd32(t->p + MADT_FLAGS) & MADT_PCAT_COMPAT) != 0;
	for (off = MADT_ENTRIES; off < t->len;) {
		const u8 *e = t->p + off;
		u8 elen;

		/* An entry's length is what moves the walk on: a bad one leaves no way to find
		 * the next entry, so the walk ends there. */
		if (t->len - off < 2) {
			warn(out, "MADT: stray byte at offset %u, walk stopped", off);
			break;
		}
		elen = e[1];
		if (elen < 2) {
			warn(out, "MADT: entry of length %u at offset %u, walk stopped", elen, off);
			break;
		}
		if (elen > t->len - off) {
			warn(out, "MADT: entry at offset %u runs past the table end, walk stopped",
			     off);
			break;
		}
		madt_entry(out, &over, e, elen, off);
		off += elen;
	}
	if (over.cpus != 0)
		warn(out, "MADT: %u CPUs beyond the first %d ignored", over.cpus, ACPI_MAX_CPUS);
	if (over.ioapics != 0)
		warn(out, "MADT: %u IOAPICs beyond the first %d ignored", over.ioapics,
		     ACPI_MAX_IOAPICS);
	if (over.overrides != 0)
		warn(out, "MADT: %u overrides beyond the first %d ignored", over.overrides,
		     ACPI_MAX_ISOS);
}

/* ---- FADT ------------------------------------------------------------------------------ */

/* True when the table is long enough to hold `size` bytes at `offset`. Older FADTs are
 * shorter; a field they do not have is absent, not zero-filled from whatever follows. */
static bool has_field(const struct table *t, u32 offset, u32 size)
{
	return t->len >= offset + size;
}

static u8 access_size_for_width(u8 bit_width)
{
	switch (bit_width) {
	case 8: return 1;
	case 16: return 2;
	case 32: return 3;
	case 64: return 4;
	default: return 0;
	}
}

static struct acpi_gas gas_decode(const u8 *p)
{
	struct acpi_gas g;

	g.space_id = p[0];
	g.bit_width = p[1];
	g.bit_offset = p[2];
	g.access_size = p[3];
	g.address = rd64(p + 4);
	return g;
}

/* The ACPI 1.0 way to name a register: an I/O port and a length in bytes. */
static struct acpi_gas gas_from_port(u32 port, u8 byte_len)
{
	struct acpi_gas g;

	g.space_id = port ? ACPI_SPACE_IO : 0;
	g.bit_width = port ? (u8)(byte_len * 8) : 0;
	g.bit_offset = 0;
	g.access_size = access_size_for_width(g.bit_width);
	g.address = port;
	return g;
}

/* A register block: the 64-bit X_ form when the table has it and it is filled in, else the
 * 32-bit port field (ACPI 6.5, 5.2.9: the X_ field wins when non-zero). */
static struct acpi_gas fadt_register(const struct table *t, u32 port_off, u32 len_off,
				     u32 x_off)
{
	struct acpi_gas legacy = { 0, 0, 0, 0, 0 };

	if (has_field(t, x_off, GAS_SIZE)) {
		struct acpi_gas x = gas_decode(t->p + x_off);

		if (x.address != 0)
			return x;
	}
	if (has_field(t, port_off, 4) && has_field(t, len_off, 1))
		legacy = gas_from_port(rd32(t->p + port_off), t->p[len_off]);
	return legacy;
}

static void parse_fadt_reset(const struct table *t, struct acpi_fadt_info *f,
			     struct acpi_info *out)
{
	if (!(f->flags & FADT_FLAG_RESET_REG_SUP))
		return;
	if (!has_field(t, FADT_RESET_VALUE, 1)) {
		warn(out, "FADT: RESET_REG_SUP set but the table (%u bytes) has no reset register",
		     t->len);
		return;
	}
	f->reset_supported = true;
	f->reset_reg = gas_decode(t->p + FADT_RESET_REG);
	f->reset_value = t->p[FADT_RESET_VALUE];
}

static void parse_fadt(const struct table *t, struct acpi_info *out)
{
	struct acpi_fadt_info *f = &out->fadt;
	u64 x_dsdt = 0;

	f->present = true;
	f->revision = t->p[HDR_REVISION];
	if (t->len < FADT_V1_SIZE)
		warn(out, "FADT: only %u bytes, missing fields treated as absent", t->len);
	if (has_field(t, FADT_DSDT, 4))
		f->dsdt = rd32(t->p + FADT_DSDT);
	if (has_field(t, FADT_X_DSDT, 8))
		x_dsdt = rd64(t->p + FADT_X_DSDT);
	if (x_dsdt != 0)
		f->dsdt = x_dsdt;
	if (has_field(t, FADT_SCI_INT, 2))
		f->sci_irq = rd16(t->p + FADT_SCI_INT);
	if (has_field(t, FADT_SMI_CMD, 4))
		f->smi_cmd = rd32(t->p + FADT_SMI_CMD);
	if (has_field(t, FADT_ACPI_ENABLE, 1))
		f->acpi_enable = t->p[FADT_ACPI_ENABLE];
	/* Reserved (zero) in ACPI 1.0 tables, so reading it there is harmless. */
	if (has_field(t, FADT_IAPC_BOOT_ARCH, 2))
		f->iapc_boot_arch = rd16(t->p + FADT_IAPC_BOOT_ARCH);
	if (has_field(t, FADT_FLAGS, 4))
		f->flags = rd32(t->p + FADT_FLAGS);
	f->pm_timer_32bit = (f->flags & FADT_FLAG_TMR_VAL_EXT) != 0;
	f->pm1a_cnt = fadt_register(t, FADT_PM1A_CNT_BLK, FADT_PM1_CNT_LEN, FADT_X_PM1A_CNT_BLK);
	f->pm1b_cnt = fadt_register(t, FADT_PM1B_CNT_BLK, FADT_PM1_CNT_LEN, FADT_X_PM1B_CNT_BLK);
	f->pm_timer = fadt_register(t, FADT_PM_TMR_BLK, FADT_PM_TMR_LEN, FADT_X_PM_TMR_BLK);
	parse_fadt_reset(t, f, out);
}

/* ---- MCFG ------------------------------------------------------------------------------ */

static void parse_mcfg(const struct table *t, struct acpi_info *out)
{
	u32 count, dropped = 0;

	if (t->len < MCFG_ENTRIES) {
		warn(out, "MCFG: too short (%u bytes), table ignored", t->len);
		return;
	}
	count = (t->len - MCFG_ENTRIES) / MCFG_ENTRY_SIZE;
	if ((t->len - MCFG_ENTRIES) % MCFG_ENTRY_SIZE != 0)
		warn(out, "MCFG: length %u leaves a partial entry, ignored", t->len);
	for (u32 i = 0; i < count; i++) {
		const u8 *e = t->p + MCFG_ENTRIES + i * MCFG_ENTRY_SIZE;
		struct acpi_mcfg *m;

		if (e[11] < e[10]) {
			warn(out, "MCFG: entry %u has buses %u-%u, ignored", i, e[10], e[11]);
			continue;
		}
		if (out->mcfg_count == ACPI_MAX_MCFG) {
			dropped++;
			continue;
		}
		m = &out->mcfg[out->mcfg_count++];
		m->base = rd64(e);
		m->segment = rd16(e + 8);
		m->bus_start = e[10];
		m->bus_end = e[11];
	}
	if (dropped != 0)
		warn(out, "MCFG: %u entries beyond the first %d ignored", dropped, ACPI_MAX_MCFG);
}

/* ---- Root walk --------------------------------------------------------------------------- */

static void dispatch_table(const struct table *t, struct acpi_info *out)
{
	if (has_signature(t, "APIC")) {
		if (out->madt_present)
			warn(out, "MADT: second table at %#llx ignored", ull(t->phys));
		else
			parse_madt(t, out);
	} else if (has_signature(t, "FACP")) {
		if (out->fadt.present)
			warn(out, "FADT: second table at %#llx ignored", ull(t->phys));
		else
			parse_fadt(t, out);
	} else if (has_signature(t, "MCFG")) {
		if (out->mcfg_count != 0)
			warn(out, "MCFG: second table at %#llx ignored", ull(t->phys));
		else
			parse_mcfg(t, out);
	}
}

/* Loads one table named by the root; a table that fails its checks is listed (when it could
 * be mapped) but not parsed. Returns false if it should have been listed but found no room. */
static bool visit_table(const struct acpi_mem *mem, u64 phys, struct acpi_info *out)
{
	struct table t;
	char msg[48];
	int err = load_table(mem, phys, &t, msg, sizeof(msg));
	bool listed = t.p == NULL || record_table(out, &t, err == 0);

	if (err != 0)
		warn(out, "%s at %#llx: %s, table ignored", t.sig[0] ? t.sig : "table", ull(phys),
		     msg);
	else
		dispatch_table(&t, out);
	return listed;
}

static bool already_listed(const struct acpi_info *out, u64 phys)
{
	for (u32 i = 0; i < out->table_count; i++)
		if (out->tables[i].address == phys)
			return true;
	return false;
}

static void walk_root(const struct acpi_mem *mem, const struct table *root, struct acpi_info *out)
{
	u32 entry_size = out->xsdt_used ? 8 : 4;
	u32 body = root->len - HDR_SIZE;
	u32 count = body / entry_size;
	u32 unlisted = 0, duplicates = 0;

	if (body % entry_size != 0)
		warn(out, "%s: length %u is not 36 + n*%u, last bytes ignored", root->sig, root->len,
		     entry_size);
	for (u32 i = 0; i < count; i++) {
		const u8 *e = root->p + HDR_SIZE + i * entry_size;
		u64 phys = entry_size == 8 ? rd64(e) : rd32(e);

		if (phys == 0) {
			warn(out, "%s: entry %u is null, skipped", root->sig, i);
			continue;
		}
		/* The same table named twice is one table (and one warning, not one per entry). */
		if (already_listed(out, phys)) {
			duplicates++;
			continue;
		}
		if (!visit_table(mem, phys, out))
			unlisted++;
	}
	if (duplicates != 0)
		warn(out, "%s: %u duplicate entries ignored", root->sig, duplicates);
	if (unlisted != 0)
		warn(out, "%s: %u tables beyond the first %d parsed but not listed", root->sig,
		     unlisted, ACPI_MAX_TABLES);
}

/* ---- DSDT and \_S5 ------------------------------------------------------------------------ */

/* Decodes a PkgLength (ACPI 6.5, 20.2.4) at p: the lead byte's top two bits count the bytes
 * that follow; with none, its low 6 bits are the length, else its low 4 bits are the least
 * significant nibble. Returns the bytes consumed, 0 if it runs past `avail`. */
static size_t aml_pkg_length(const u8 *p, size_t avail, u32 *value)
{
	size_t follow;
	u32 v;

	if (avail == 0)
		return 0;
	follow = p[0] >> 6;
	if (follow == 0) {
		*value = p[0] & 0x3f;
		return 1;
	}
	if (avail < 1 + follow)
		return 0;
	v = p[0] & 0x0f;
	for (size_t i = 0; i < follow; i++)
		v |= (u32)p[1 + i] << (4 + 8 * i);
	*value = v;
	return 1 + follow;
}

/* Decodes an integer data object at p (ZeroOp, OneOp, OnesOp, Byte/Word/DWord/QWord prefix).
 * Returns the bytes consumed, 0 if p holds no integer or it runs past `avail`. */
static size_t aml_integer(const u8 *p, size_t avail, u64 *value)
{
	size_t size;

	if (avail == 0)
		return 0;
	switch (p[0]) {
	case AML_ZERO_OP: *value = 0; return 1;
	case AML_ONE_OP: *value = 1; return 1;
	case AML_ONES_OP: *value = ~(u64)0; return 1;
	case AML_BYTE_PREFIX: size = 1; break;
	case AML_WORD_PREFIX: size = 2; break;
	case AML_DWORD_PREFIX: size = 4; break;
	case AML_QWORD_PREFIX: size = 8; break;
	default: return 0;
	}
	if (avail < 1 + size)
		return 0;
	*value = 0;
	for (size_t i = 0; i < size; i++)
		*value |= (u64)p[1 + i] << (8 * i);
	return 1 + size;
}

/* If a NameOp defining _S5_ (optionally \_S5_) starts at aml[i], returns the index just past
 * the name, else 0. */
static size_t aml_s5_name_end(const u8 *aml, size_t len, size_t i)
{
	size_t j = i + 1;

	if (aml[i] != AML_NAME_OP)
		return 0;
	if (j < len && aml[j] == AML_ROOT_PREFIX)
		j++;
	if (len - j < 4 || memcmp(aml + j, "_S5_", 4) != 0)
		return 0;
	return j + 4;
}

/* Decodes the Package at aml[pos] (pos is in bounds) that \_S5 names. Its first two elements
 * are SLP_TYPa and SLP_TYPb; a one-element package packs both into one integer (byte 0 and
 * byte 1), as some old firmware does. */
static int aml_s5_package(const u8 *aml, size_t len, size_t pos, u8 *typa, u8 *typb)
{
	size_t start = pos + 1, n, end, cur;
	u32 pkg_len;
	u8 count;
	u64 a, b;

	if (aml[pos] != AML_PACKAGE_OP)
		return BH_EINVAL;
	n = aml_pkg_length(aml + start, len - start, &pkg_len);
	/* PkgLength counts itself and everything after it, NumElements included. */
	if (n == 0 || pkg_len < n + 1 || pkg_len > len - start)
		return BH_EINVAL;
	end = start + pkg_len;
	cur = start + n;
	count = aml[cur++];
	if (count == 0)
		return BH_EINVAL;
	n = aml_integer(aml + cur, end - cur, &a);
	if (n == 0)
		return BH_EINVAL;
	cur += n;
	if (count == 1)
		b = a >> 8;
	else if (aml_integer(aml + cur, end - cur, &b) == 0)
		return BH_EINVAL;
	*typa = (u8)a;
	*typb = (u8)b;
	return 0;
}

int acpi_aml_find_s5(const u8 *aml, size_t len, u8 *typa, u8 *typb)
{
	int result = BH_ENOENT;

	if (aml == NULL)
		return BH_ENOENT;
	/* The bytes 08 "_S5_" may also occur inside other data; a candidate that does not
	 * decode is passed over, and the next one tried. */
	for (size_t i = 0; i < len; i++) {
		size_t pkg = aml_s5_name_end(aml, len, i);

		if (pkg == 0)
			continue;
		if (pkg < len && aml_s5_package(aml, len, pkg, typa, typb) == 0)
			return 0;
		result = BH_EINVAL;
	}
	return result;
}

/* Looks for \_S5 in an AML table; returns 0 when found (sets out->s5_*). */
static int find_s5_in(const struct table *t, struct acpi_info *out)
{
	int err = acpi_aml_find_s5(t->p + HDR_SIZE, t->len - HDR_SIZE, &out->s5_slp_typa,
				   &out->s5_slp_typb);

	out->s5_present = err == 0;
	return err;
}

/* \_S5 normally sits in the DSDT; firmware that moved it to an SSDT is still served. */
static int find_s5_in_ssdts(const struct acpi_mem *mem, struct acpi_info *out)
{
	for (u32 i = 0; i < out->table_count; i++) {
		const struct acpi_table_ref *ref = &out->tables[i];
		struct table t;

		if (!ref->checksum_ok || memcmp(ref->signature, "SSDT", 4) != 0)
			continue;
		if (load_table(mem, ref->address, &t, NULL, 0) == 0 && find_s5_in(&t, out) == 0)
			return 0;
	}
	return BH_ENOENT;
}

static void parse_dsdt(const struct acpi_mem *mem, struct acpi_info *out)
{
	struct table t;
	char msg[48];
	int err;

	if (!out->fadt.present)
		return; /* already warned about */
	if (out->fadt.dsdt == 0) {
		warn(out, "FADT: no DSDT address, \\_S5 unknown");
		return;
	}
	err = load_table(mem, out->fadt.dsdt, &t, msg, sizeof(msg));
	if (err == 0 && !has_signature(&t, "DSDT")) {
		fmt_snprintf(msg, sizeof(msg), "signature is \"%s\"", t.sig);
		err = BH_EINVAL;
	}
	if (t.p != NULL && !record_table(out, &t, err == 0))
		warn(out, "DSDT: no room to list it");
	if (err != 0) {
		warn(out, "DSDT at %#llx: %s, table ignored", ull(out->fadt.dsdt), msg);
		return;
	}
	err = find_s5_in(&t, out);
	if (err == BH_ENOENT)
		err = find_s5_in_ssdts(mem, out);
	if (err != 0)
		warn(out, "DSDT: \\_S5 %s", err == BH_ENOENT ? "not found" : "malformed");
}

/* ---- Entry point ---------------------------------------------------------------------------- */

int acpi_parse(const struct acpi_mem *mem, u64 rsdp_phys, struct acpi_info *out, char *why,
	       size_t why_size)
{
	struct rsdp rsdp;
	struct table root;
	int err;

	memset(out, 0, sizeof(*out));
	set_why(why, why_size, "%s", "");
	out->rsdp_address = rsdp_phys;
	if (mem == NULL || mem->map == NULL) {
		set_why(why, why_size, "no memory access");
		return BH_EINVAL;
	}
	err = parse_rsdp(mem, rsdp_phys, out, &rsdp, why, why_size);
	if (err != 0)
		return err;
	err = choose_root(mem, &rsdp, out, &root, why, why_size);
	if (err != 0)
		return err;
	walk_root(mem, &root, out);
	if (!out->madt_present)
		warn(out, "no usable MADT: CPUs and IOAPICs unknown");
	if (!out->fadt.present)
		warn(out, "no usable FADT: power and reset registers unknown");
	parse_dsdt(mem, out);
	return 0;
}
