/* Unit tests of drivers/acpi.c, fed with the real tables of QEMU q35, QEMU pc and Bochs saved
 * under tests/data/acpi/ (see the README there), and with damaged variants of them.
 *
 * The tables are loaded at their original physical addresses into a fake physical memory. Its
 * `map` hands out a fresh heap copy of exactly the bytes asked for, so AddressSanitizer reports
 * any read the parser makes beyond what it mapped, not just beyond the dump. Run from the
 * repository root (the data paths are relative to it). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types.h"
#include "lib/error.h"
#include "drivers/acpi.h"

#define DATA_DIR "tests/data/acpi/"
#define MAX_REGIONS 128
#define MAX_MAPPINGS 512
#define HDR 36

/* ---- Fake physical memory -------------------------------------------------------------- */

struct region {
	char sig[5];
	u64 phys;
	u8 *data;
	size_t len; /* bytes mappable; tests shrink it to cut a table short */
};

struct fake_mem {
	struct region regions[MAX_REGIONS];
	size_t region_count;
	void *mappings[MAX_MAPPINGS]; /* copies handed out by fake_map, freed after each parse */
	size_t mapping_count;
};

struct expected;

struct fixture {
	struct fake_mem mem;
	struct acpi_info info;
	char why[128];
	const struct expected *e; /* what the loaded machine's tables hold */
};

static const void *fake_map(void *ctx, u64 phys, u64 len)
{
	struct fake_mem *m = ctx;

	assert_true(len > 0);
	for (size_t i = 0; i < m->region_count; i++) {
		const struct region *r = &m->regions[i];
		void *copy;

		if (phys < r->phys || phys - r->phys > r->len || len > r->len - (phys - r->phys))
			continue;
		if (m->mapping_count == MAX_MAPPINGS)
			fail_msg("the parser mapped more than %d ranges in one parse", MAX_MAPPINGS);
		copy = malloc(len);
		assert_non_null(copy);
		memcpy(copy, r->data + (phys - r->phys), len);
		m->mappings[m->mapping_count++] = copy;
		return copy;
	}
	return NULL;
}

static void release_mappings(struct fake_mem *m)
{
	while (m->mapping_count > 0)
		free(m->mappings[--m->mapping_count]);
}

static struct region *add_region(struct fake_mem *m, const char *sig, u64 phys, const void *data,
				 size_t len)
{
	struct region *r;

	assert_true(m->region_count < MAX_REGIONS);
	r = &m->regions[m->region_count++];
	snprintf(r->sig, sizeof(r->sig), "%s", sig);
	r->phys = phys;
	r->data = malloc(len ? len : 1);
	assert_non_null(r->data);
	memcpy(r->data, data, len);
	r->len = len;
	return r;
}

static void free_regions(struct fake_mem *m)
{
	release_mappings(m);
	for (size_t i = 0; i < m->region_count; i++)
		free(m->regions[i].data);
	m->region_count = 0;
}

/* Replaces a region's bytes with `len` new ones. */
static void set_region_data(struct region *r, const void *data, size_t len)
{
	free(r->data);
	r->data = malloc(len ? len : 1);
	assert_non_null(r->data);
	memcpy(r->data, data, len);
	r->len = len;
}

static struct region *region(struct fake_mem *m, const char *sig)
{
	for (size_t i = 0; i < m->region_count; i++)
		if (strcmp(m->regions[i].sig, sig) == 0)
			return &m->regions[i];
	fail_msg("no %s table in the fake memory", sig);
	return NULL;
}

static bool has_region(struct fake_mem *m, const char *sig)
{
	for (size_t i = 0; i < m->region_count; i++)
		if (strcmp(m->regions[i].sig, sig) == 0)
			return true;
	return false;
}

/* Loads every SIG@ADDR.bin of a machine's dump directory at its address. */
static void load_machine(struct fake_mem *m, const char *machine)
{
	char dir[128], path[512];
	DIR *d;
	struct dirent *de;

	snprintf(dir, sizeof(dir), DATA_DIR "%s", machine);
	d = opendir(dir);
	if (d == NULL)
		fail_msg("cannot open %s (run the tests from the repository root)", dir);
	while ((de = readdir(d)) != NULL) {
		char sig[5] = { 0 };
		unsigned long long phys;
		static u8 buf[1 << 20];
		size_t len;
		FILE *f;

		if (strlen(de->d_name) < 10 || sscanf(de->d_name, "%4[^@]@%llx.bin", sig, &phys) != 2)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		add_region(m, sig, phys, buf, len);
	}
	closedir(d);
	assert_true(has_region(m, "RSDP"));
}

static void put16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static void put32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void put64(u8 *p, u64 v)
{
	put32(p, (u32)v);
	put32(p + 4, (u32)(v >> 32));
}

static u32 get32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u8 sum(const u8 *p, size_t len)
{
	u8 s = 0;

	while (len--)
		s = (u8)(s + *p++);
	return s;
}

/* Makes a (possibly modified) table's checksum right again: over the length its header
 * announces, or what the region holds if that is less. The RSDP has two checksums. */
static void fix_checksum(struct region *r)
{
	if (strcmp(r->sig, "RSDP") == 0) {
		if (r->len >= 20) {
			r->data[8] = 0;
			r->data[8] = (u8)-sum(r->data, 20);
		}
		if (r->len >= 36 && r->data[15] >= 2) {
			size_t len = MIN((size_t)get32(r->data + 20), r->len);

			r->data[32] = 0;
			r->data[32] = (u8)-sum(r->data, len);
		}
		return;
	}
	if (r->len >= 10) {
		size_t len = r->len >= 8 ? MIN((size_t)get32(r->data + 4), r->len) : r->len;

		r->data[9] = 0;
		r->data[9] = (u8)-sum(r->data, len);
	}
}

/* Builds a table in a region: header copied from `like`, then `body`. */
static void make_table(struct region *r, const char *sig, const u8 *body, size_t body_len)
{
	size_t len = HDR + body_len;
	u8 *buf = calloc(1, len);

	assert_non_null(buf);
	memcpy(buf, r->data, MIN((size_t)HDR, r->len));
	memcpy(buf, sig, 4);
	put32(buf + 4, (u32)len);
	memcpy(buf + HDR, body, body_len);
	set_region_data(r, buf, len);
	free(buf);
	fix_checksum(r);
}

/* Sets entry `i` of the XSDT (or RSDT) to `phys`. */
static void set_root_entry(struct region *root, u32 i, u64 phys)
{
	if (strcmp(root->sig, "XSDT") == 0)
		put64(root->data + HDR + 8 * i, phys);
	else
		put32(root->data + HDR + 4 * i, (u32)phys);
	fix_checksum(root);
}

static int parse(struct fixture *fx)
{
	struct acpi_mem mem = { fake_map, &fx->mem };
	int rc = acpi_parse(&mem, region(&fx->mem, "RSDP")->phys, &fx->info, fx->why,
			    sizeof(fx->why));

	release_mappings(&fx->mem);
	return rc;
}

static bool has_warning(const struct acpi_info *info, const char *a, const char *b)
{
	for (u32 i = 0; i < info->warning_count; i++)
		if (strstr(info->warnings[i], a) && (b == NULL || strstr(info->warnings[i], b)))
			return true;
	return false;
}

static void print_warnings(const struct acpi_info *info)
{
	for (u32 i = 0; i < info->warning_count; i++)
		print_message("  warning: %s\n", info->warnings[i]);
}

static const struct acpi_table_ref *table_ref(const struct acpi_info *info, const char *sig)
{
	for (u32 i = 0; i < info->table_count; i++)
		if (strcmp(info->tables[i].signature, sig) == 0)
			return &info->tables[i];
	return NULL;
}

/* ---- Fixtures ------------------------------------------------------------------------------ */

static int setup_machine(void **state, const char *machine, const struct expected *e)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	load_machine(&fx->mem, machine);
	fx->e = e;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	free_regions(&fx->mem);
	free(fx);
	return 0;
}

/* ---- What each machine is known to have --------------------------------------------------- */

struct expected {
	const char *machine;
	u8 rsdp_revision;
	bool xsdt_used;
	u32 cpus;
	u8 ioapic_id;
	u32 overrides;
	u16 pm1a_cnt;
	u16 pm_timer;
	u8 fadt_revision;
	u32 fadt_flags;
	bool reset;
	bool mcfg;
	u32 tables; /* listed by the root, plus the DSDT */
};

static const struct expected q35 = {
	"qemu-q35", 2, true, 4, 0, 5, 0x604, 0x608, 3, 0x84a5, true, true, 7,
};
static const struct expected pc = {
	"qemu-pc", 2, true, 2, 0, 5, 0xb004, 0xb008, 1, 0x80a5, false, false, 6,
};
static const struct expected bochs = {
	"bochs", 0, false, 2, 2, 1, 0xb004, 0xb008, 1, 0x75, false, false, 5,
};

/* The CPUs, IOAPIC, overrides, power registers, MCFG and \_S5 of an intact dump. */
static void check_madt(const struct acpi_info *info, const struct expected *e)
{
	assert_true(info->madt_present);
	assert_int_equal(info->lapic_address, 0xfee00000);
	assert_true(info->pic_present);
	assert_int_equal(info->cpu_count, e->cpus);
	for (u32 i = 0; i < e->cpus; i++) {
		assert_int_equal(info->cpus[i].apic_id, i);
		assert_int_equal(info->cpus[i].uid, i);
		assert_true(info->cpus[i].enabled);
		assert_false(info->cpus[i].x2apic_entry);
	}
	assert_int_equal(info->ioapic_count, 1);
	assert_int_equal(info->ioapics[0].id, e->ioapic_id);
	assert_int_equal(info->ioapics[0].address, 0xfec00000);
	assert_int_equal(info->ioapics[0].gsi_base, 0);
	assert_int_equal(info->override_count, e->overrides);
	/* Every PC firmware routes the PIT (IRQ 0) to GSI 2. */
	assert_int_equal(info->overrides[0].bus, 0);
	assert_int_equal(info->overrides[0].source, 0);
	assert_int_equal(info->overrides[0].gsi, 2);
	assert_int_equal(info->overrides[0].flags, 0);
	if (e->overrides == 5) {
		/* QEMU: the PCI interrupt lines 5, 9, 10, 11 are level-triggered, active high. */
		static const u8 irqs[] = { 5, 9, 10, 11 };

		for (int i = 0; i < 4; i++) {
			assert_int_equal(info->overrides[1 + i].source, irqs[i]);
			assert_int_equal(info->overrides[1 + i].gsi, irqs[i]);
			assert_int_equal(info->overrides[1 + i].flags, 0x000d);
		}
	}
}

static void check_fadt(const struct acpi_info *info, const struct expected *e)
{
	const struct acpi_fadt_info *f = &info->fadt;

	assert_true(f->present);
	assert_int_equal(f->revision, e->fadt_revision);
	assert_int_equal(f->flags, e->fadt_flags);
	assert_int_equal(f->sci_irq, 9);
	assert_int_equal(f->smi_cmd, 0xb2);
	assert_int_equal(f->pm1a_cnt.space_id, ACPI_SPACE_IO);
	assert_int_equal(f->pm1a_cnt.address, e->pm1a_cnt);
	assert_int_equal(f->pm1a_cnt.bit_width, 16);
	assert_int_equal(f->pm1b_cnt.address, 0);
	assert_int_equal(f->pm_timer.space_id, ACPI_SPACE_IO);
	assert_int_equal(f->pm_timer.address, e->pm_timer);
	assert_int_equal(f->pm_timer.bit_width, 32);
	assert_false(f->pm_timer_32bit); /* all three have a 24-bit PM timer */
	assert_int_equal(f->reset_supported, e->reset);
	if (e->reset) {
		assert_int_equal(f->reset_reg.space_id, ACPI_SPACE_IO);
		assert_int_equal(f->reset_reg.address, 0xcf9);
		assert_int_equal(f->reset_reg.bit_width, 8);
		assert_int_equal(f->reset_value, 0x0f);
	}
}

static void check_machine(struct fixture *fx, const struct expected *e)
{
	const struct acpi_info *info = &fx->info;

	assert_int_equal(info->rsdp_address, region(&fx->mem, "RSDP")->phys);
	assert_int_equal(info->rsdp_revision, e->rsdp_revision);
	assert_string_equal(info->oem_id, "BOCHS ");
	assert_int_equal(info->xsdt_used, e->xsdt_used);
	check_madt(info, e);
	check_fadt(info, e);
	assert_int_equal(info->fadt.dsdt, region(&fx->mem, "DSDT")->phys);
	if (e->mcfg) {
		assert_int_equal(info->mcfg_count, 1);
		assert_int_equal(info->mcfg[0].base, 0xb0000000);
		assert_int_equal(info->mcfg[0].segment, 0);
		assert_int_equal(info->mcfg[0].bus_start, 0);
		assert_int_equal(info->mcfg[0].bus_end, 255);
	} else {
		assert_int_equal(info->mcfg_count, 0);
	}
	/* Name (_S5, Package (4) { Zero, Zero, Zero, Zero }) in all three. */
	assert_true(info->s5_present);
	assert_int_equal(info->s5_slp_typa, 0);
	assert_int_equal(info->s5_slp_typb, 0);
}

/* Everything the intact dump has, except what depends on the table `damaged` (a signature,
 * or "" for none). */
static void check_all_but(struct fixture *fx, const struct expected *e, const char *damaged)
{
	const struct acpi_info *info = &fx->info;
	bool fadt_ok = strcmp(damaged, "FACP") != 0;

	if (strcmp(damaged, "APIC") != 0) {
		check_madt(info, e);
	} else {
		assert_false(info->madt_present);
		assert_int_equal(info->cpu_count, 0);
		assert_int_equal(info->ioapic_count, 0);
	}
	if (fadt_ok)
		check_fadt(info, e);
	else
		assert_false(info->fadt.present);
	if (fadt_ok && strcmp(damaged, "DSDT") != 0) {
		assert_true(info->s5_present);
		assert_int_equal(info->s5_slp_typa, 0);
		assert_int_equal(info->s5_slp_typb, 0);
	} else {
		assert_false(info->s5_present);
	}
	if (strcmp(damaged, "MCFG") != 0)
		assert_int_equal(info->mcfg_count, e->mcfg ? 1 : 0);
	else
		assert_int_equal(info->mcfg_count, 0);
}

static int setup_q35(void **state)
{
	return setup_machine(state, "qemu-q35", &q35);
}

static int setup_pc(void **state)
{
	return setup_machine(state, "qemu-pc", &pc);
}

static int setup_bochs(void **state)
{
	return setup_machine(state, "bochs", &bochs);
}

static const struct expected *expected_for(void **state)
{
	return ((struct fixture *)*state)->e;
}

/* The root table the parser should use for this machine. */
static const char *root_sig(const struct expected *e)
{
	return e->xsdt_used ? "XSDT" : "RSDT";
}

/* ---- The real dumps, intact --------------------------------------------------------------- */

static void test_real_dump(void **state)
{
	struct fixture *fx = *state;
	const struct expected *e = expected_for(state);
	int rc = parse(fx);

	if (rc != 0)
		print_message("%s: %s\n", e->machine, fx->why);
	print_warnings(&fx->info);
	assert_int_equal(rc, 0);
	assert_int_equal(fx->info.warning_count, 0);
	check_machine(fx, e);
	assert_int_equal(fx->info.table_count, e->tables);
	for (u32 i = 0; i < fx->info.table_count; i++) {
		const struct acpi_table_ref *t = &fx->info.tables[i];
		const struct region *r = region(&fx->mem, t->signature);

		assert_true(t->checksum_ok);
		assert_int_equal(t->address, r->phys);
		assert_int_equal(t->length, r->len);
	}
	assert_non_null(table_ref(&fx->info, "DSDT"));
	assert_null(table_ref(&fx->info, "FACS")); /* FADT child, not parsed */
}

/* ---- Root table selection ------------------------------------------------------------------ */

static void test_rsdt_fallback_rsdp_revision_0(void **state)
{
	struct fixture *fx = *state;
	struct region *rsdp = region(&fx->mem, "RSDP");
	struct expected e = *expected_for(state);

	rsdp->data[15] = 0;
	fix_checksum(rsdp);
	assert_int_equal(parse(fx), 0);
	assert_int_equal(fx->info.warning_count, 0);
	e.rsdp_revision = 0;
	e.xsdt_used = false;
	check_machine(fx, &e);
}

static void expect_rsdt_fallback(struct fixture *fx, const struct expected *e, const char *why1,
				 const char *why2)
{
	struct expected fallback = *e;

	assert_int_equal(parse(fx), 0);
	fallback.xsdt_used = false;
	check_machine(fx, &fallback);
	assert_true(has_warning(&fx->info, why1, why2));
}

static void test_rsdt_fallback_xsdt_checksum(void **state)
{
	struct fixture *fx = *state;

	region(&fx->mem, "XSDT")->data[9]++;
	expect_rsdt_fallback(fx, expected_for(state), "XSDT", "checksum mismatch, using the RSDT");
}

static void test_rsdt_fallback_rsdp_extended_checksum(void **state)
{
	struct fixture *fx = *state;

	region(&fx->mem, "RSDP")->data[32]++;
	expect_rsdt_fallback(fx, expected_for(state), "RSDP", "extended checksum");
}

static void test_rsdt_fallback_xsdt_unmapped(void **state)
{
	struct fixture *fx = *state;
	struct region *rsdp = region(&fx->mem, "RSDP");

	put64(rsdp->data + 24, 0xdead0000);
	fix_checksum(rsdp);
	expect_rsdt_fallback(fx, expected_for(state), "XSDT at 0xdead0000", "unreadable");
}

static void test_rsdt_fallback_xsdt_signature(void **state)
{
	struct fixture *fx = *state;
	struct region *xsdt = region(&fx->mem, "XSDT");

	memcpy(xsdt->data, "XSDX", 4);
	fix_checksum(xsdt);
	expect_rsdt_fallback(fx, expected_for(state), "XSDT", "signature");
}

static void test_rsdt_fallback_xsdt_absurd_length(void **state)
{
	struct fixture *fx = *state;
	struct region *xsdt = region(&fx->mem, "XSDT");

	put32(xsdt->data + 4, 0xffffffff);
	fix_checksum(xsdt);
	expect_rsdt_fallback(fx, expected_for(state), "XSDT", "bad length");
}

static void test_rsdp_bad_length(void **state)
{
	struct fixture *fx = *state;
	struct region *rsdp = region(&fx->mem, "RSDP");
	const u32 lengths[] = { 0, 20, 35, 37, 5000, 0xffffffff };

	for (size_t i = 0; i < ARRAY_SIZE(lengths); i++) {
		put32(rsdp->data + 20, lengths[i]);
		fix_checksum(rsdp);
		assert_int_equal(parse(fx), 0);
		assert_false(fx->info.xsdt_used);
		assert_int_equal(fx->info.cpu_count, expected_for(state)->cpus);
		assert_true(fx->info.warning_count > 0);
	}
}

static void test_no_usable_root(void **state)
{
	struct fixture *fx = *state;

	region(&fx->mem, "XSDT")->data[9]++;
	region(&fx->mem, "RSDT")->data[9]++;
	assert_int_equal(parse(fx), BH_ECHECKSUM);
	assert_non_null(strstr(fx->why, "RSDT"));
	assert_non_null(strstr(fx->why, "checksum"));
}

static void test_no_root_address(void **state)
{
	struct fixture *fx = *state;
	struct region *rsdp = region(&fx->mem, "RSDP");

	put32(rsdp->data + 16, 0);
	put64(rsdp->data + 24, 0);
	fix_checksum(rsdp);
	assert_int_equal(parse(fx), BH_EINVAL);
	assert_non_null(strstr(fx->why, "no usable root"));
}

static void test_rsdt_wrong_signature(void **state)
{
	struct fixture *fx = *state;
	struct region *rsdt = region(&fx->mem, "RSDT");

	memcpy(rsdt->data, "XSDT", 4);
	fix_checksum(rsdt);
	assert_int_equal(parse(fx), BH_EINVAL);
	assert_non_null(strstr(fx->why, "signature"));
}

static void test_rsdp_bad_signature(void **state)
{
	struct fixture *fx = *state;
	struct region *rsdp = region(&fx->mem, "RSDP");

	rsdp->data[0] = 'r';
	fix_checksum(rsdp);
	assert_int_equal(parse(fx), BH_EINVAL);
	assert_non_null(strstr(fx->why, "signature"));
	assert_int_equal(fx->info.cpu_count, 0);
}

static void test_rsdp_bad_checksum(void **state)
{
	struct fixture *fx = *state;

	region(&fx->mem, "RSDP")->data[8]++;
	assert_int_equal(parse(fx), BH_ECHECKSUM);
	assert_non_null(strstr(fx->why, "checksum"));
	assert_int_equal(fx->info.cpu_count, 0);
	assert_false(fx->info.fadt.present);
}

static void test_rsdp_unmapped(void **state)
{
	struct fixture *fx = *state;
	struct acpi_mem mem = { fake_map, &fx->mem };
	const struct region *rsdp = region(&fx->mem, "RSDP");
	const u64 addresses[] = { 0, 0x1000, rsdp->phys + rsdp->len - 19, ~0ULL - 4, ~0ULL };

	for (size_t i = 0; i < ARRAY_SIZE(addresses); i++) {
		assert_int_equal(acpi_parse(&mem, addresses[i], &fx->info, fx->why, sizeof(fx->why)),
				 BH_ERANGE);
		release_mappings(&fx->mem);
		assert_non_null(strstr(fx->why, "unreadable"));
	}
	/* `why` is optional, and a missing map function is refused, not called. */
	assert_int_equal(acpi_parse(&mem, 0x1000, &fx->info, NULL, 0), BH_ERANGE);
	mem.map = NULL;
	assert_int_equal(acpi_parse(&mem, rsdp->phys, &fx->info, fx->why, sizeof(fx->why)),
			 BH_EINVAL);
	assert_int_equal(acpi_parse(NULL, rsdp->phys, &fx->info, fx->why, sizeof(fx->why)),
			 BH_EINVAL);
}

/* ---- Truncated tables ------------------------------------------------------------------------ */

/* Offset of the NameOp that defines \_S5 in a DSDT. */
static size_t s5_name_offset(const struct region *dsdt)
{
	for (size_t i = HDR; i + 7 <= dsdt->len; i++)
		if (memcmp(dsdt->data + i, "\x08_S5_\x12", 6) == 0)
			return i;
	fail_msg("no \\_S5 in the DSDT");
	return 0;
}

/* Offset just past the \_S5 package in a DSDT: the shortest DSDT that still holds it. */
static size_t s5_package_end(const struct region *dsdt)
{
	size_t i = s5_name_offset(dsdt);

	return i + 6 + dsdt->data[i + 6]; /* one-byte PkgLength in all dumps */
}

/* The table is cut: its header still announces the full length, but only k bytes are there. */
static void check_cut(struct fixture *fx, const struct expected *e, const struct region *r,
		      size_t k, int rc)
{
	const struct acpi_info *info = &fx->info;
	const char *sig = r->sig;
	char address[24];

	snprintf(address, sizeof(address), "%#" PRIx64, r->phys);
	if (strcmp(sig, "RSDP") == 0) {
		if (k < 20) {
			assert_int_equal(rc, BH_ERANGE);
			return;
		}
		assert_int_equal(rc, 0);
		assert_false(info->xsdt_used);
		check_all_but(fx, e, "");
		return;
	}
	if (strcmp(sig, root_sig(e)) == 0) {
		if (!e->xsdt_used) {
			assert_int_equal(rc, BH_ERANGE);
			return;
		}
		assert_int_equal(rc, 0);
		assert_false(info->xsdt_used);
		check_all_but(fx, e, "");
		return;
	}
	assert_int_equal(rc, 0);
	if (strcmp(sig, "FACS") == 0 || strcmp(sig, "RSDT") == 0) {
		/* Not read: the FACS is not parsed, the RSDT is only a fallback. */
		assert_int_equal(info->warning_count, 0);
		check_all_but(fx, e, "");
		return;
	}
	assert_true(has_warning(info, address, "unreadable"));
	check_all_but(fx, e, sig);
}

/* True when a MADT of length k ends exactly between two entries. */
static bool madt_entry_boundary(const struct region *madt, size_t k)
{
	size_t off = 44;

	while (off < k && off + 1 < madt->len && madt->data[off + 1] != 0)
		off += madt->data[off + 1];
	return off == k;
}

/* The table is short: its header announces k bytes, checksum fixed, so it passes the checks
 * and the parser must cope with the fields it lacks. */
static void check_short(struct fixture *fx, const struct expected *e, const struct region *r,
			size_t k, int rc)
{
	const struct acpi_info *info = &fx->info;
	const char *sig = r->sig;

	if (k < HDR) {
		if (strcmp(sig, "RSDT") == 0 && !e->xsdt_used)
			assert_int_equal(rc, BH_EINVAL);
		else if (strcmp(sig, "FACS") != 0 && strcmp(sig, "RSDT") != 0)
			assert_true(has_warning(info, sig, "bad length"));
		return;
	}
	if (strcmp(sig, "XSDT") == 0 || strcmp(sig, "RSDT") == 0) {
		assert_int_equal(rc, 0);
		assert_true(info->table_count <= e->tables);
		assert_int_equal(info->xsdt_used, e->xsdt_used);
		return;
	}
	assert_int_equal(rc, 0);
	if (strcmp(sig, "APIC") == 0) {
		assert_int_equal(info->madt_present, k >= 44);
		assert_true(info->cpu_count <= e->cpus);
		for (u32 i = 0; i < info->cpu_count; i++)
			assert_int_equal(info->cpus[i].apic_id, i);
		assert_true(info->ioapic_count <= 1);
		assert_true(info->override_count <= e->overrides);
		if (k >= 44 && !madt_entry_boundary(r, k))
			assert_true(has_warning(info, "MADT", "walk stopped"));
	} else if (strcmp(sig, "FACP") == 0) {
		const struct acpi_fadt_info *f = &info->fadt;

		assert_true(f->present);
		assert_int_equal(f->dsdt, k >= 44 ? region(&fx->mem, "DSDT")->phys : 0);
		assert_int_equal(info->s5_present, k >= 44);
		assert_int_equal(f->pm1a_cnt.address, k >= 90 ? e->pm1a_cnt : 0);
		assert_int_equal(f->pm_timer.address, k >= 92 ? e->pm_timer : 0);
		assert_int_equal(f->reset_supported, e->reset && k >= 129);
		if (k < 116)
			assert_true(has_warning(info, "FADT", "only"));
	} else if (strcmp(sig, "DSDT") == 0) {
		assert_int_equal(info->s5_present, k >= s5_package_end(r));
		if (!info->s5_present)
			assert_true(has_warning(info, "\\_S5", NULL));
	} else if (strcmp(sig, "MCFG") == 0) {
		assert_int_equal(info->mcfg_count, k >= 60 ? 1 : 0);
	} else {
		check_all_but(fx, e, "");
	}
}

/* Cuts every table of the dump at every length, then shortens its length field to every
 * length. AddressSanitizer watches the reads; the checks watch the results. */
static void test_every_table_truncated(void **state)
{
	struct fixture *fx = *state;
	const struct expected *e = expected_for(state);

	for (size_t ri = 0; ri < fx->mem.region_count; ri++) {
		struct region *r = &fx->mem.regions[ri];
		size_t full = r->len;
		u8 *orig = malloc(full);

		assert_non_null(orig);
		memcpy(orig, r->data, full);
		for (size_t k = 0; k < full; k++) {
			r->len = k;
			check_cut(fx, e, r, k, parse(fx));
			if (k >= 8 && strcmp(r->sig, "RSDP") != 0) {
				/* every byte is there; the header claims fewer */
				r->len = full;
				put32(r->data + 4, (u32)k);
				fix_checksum(r);
				check_short(fx, e, r, k, parse(fx));
				memcpy(r->data, orig, full);
			}
		}
		r->len = full;
		free(orig);
	}
	assert_int_equal(parse(fx), 0);
	check_machine(fx, e);
}

/* ---- Corrupted checksums ------------------------------------------------------------------- */

static void test_every_checksum_corrupted(void **state)
{
	struct fixture *fx = *state;
	const struct expected *e = expected_for(state);

	for (size_t ri = 0; ri < fx->mem.region_count; ri++) {
		struct region *r = &fx->mem.regions[ri];
		const char *sig = r->sig;
		size_t at = strcmp(sig, "RSDP") == 0 ? 8 : 9;
		int rc;

		if (strcmp(sig, "FACS") == 0)
			continue; /* has no checksum */
		r->data[at]++;
		rc = parse(fx);
		r->data[at]--;
		if (strcmp(sig, "RSDP") == 0 || (strcmp(sig, "RSDT") == 0 && !e->xsdt_used)) {
			assert_int_equal(rc, BH_ECHECKSUM);
			assert_non_null(strstr(fx->why, "checksum"));
			continue;
		}
		assert_int_equal(rc, 0);
		if (strcmp(sig, "XSDT") == 0) {
			assert_false(fx->info.xsdt_used);
			check_all_but(fx, e, "");
		} else if (strcmp(sig, "RSDT") == 0) {
			assert_int_equal(fx->info.warning_count, 0);
			check_all_but(fx, e, "");
		} else {
			const struct acpi_table_ref *t = table_ref(&fx->info, sig);

			assert_non_null(t);
			assert_false(t->checksum_ok);
			assert_true(has_warning(&fx->info, sig, "checksum mismatch, table ignored"));
			check_all_but(fx, e, sig);
		}
	}
}

/* ---- MADT ------------------------------------------------------------------------------------ */

/* q35's MADT: 4 LAPIC entries at 44, 52, 60, 68; IOAPIC at 76; ISOs at 88..128; NMI at 138. */
static void test_madt_zero_length_entry(void **state)
{
	struct fixture *fx = *state;
	struct region *madt = region(&fx->mem, "APIC");
	const u8 bad_lengths[] = { 0, 1 };

	for (size_t i = 0; i < ARRAY_SIZE(bad_lengths); i++) {
		madt->data[60 + 1] = bad_lengths[i];
		fix_checksum(madt);
		assert_int_equal(parse(fx), 0);
		assert_true(fx->info.madt_present);
		assert_int_equal(fx->info.cpu_count, 2);
		assert_int_equal(fx->info.ioapic_count, 0);
		assert_true(has_warning(&fx->info, "MADT: entry of length", "walk stopped"));
		assert_true(fx->info.fadt.present); /* the rest is still parsed */
		assert_true(fx->info.s5_present);
	}
}

static void test_madt_entry_overruns_table(void **state)
{
	struct fixture *fx = *state;
	struct region *madt = region(&fx->mem, "APIC");
	const u8 lengths[] = { 7, 0xff };

	assert_int_equal(madt->data[138], 4);
	for (size_t i = 0; i < ARRAY_SIZE(lengths); i++) {
		madt->data[138 + 1] = lengths[i];
		fix_checksum(madt);
		assert_int_equal(parse(fx), 0);
		check_madt(&fx->info, &q35);
		assert_true(has_warning(&fx->info, "offset 138", "runs past the table end"));
	}
	/* Cutting the last entry to one byte leaves a byte that is not an entry. */
	put32(madt->data + 4, 139);
	fix_checksum(madt);
	assert_int_equal(parse(fx), 0);
	check_madt(&fx->info, &q35);
	assert_true(has_warning(&fx->info, "MADT: stray byte", NULL));
}

static size_t lapic_entry(u8 *p, u8 uid, u8 id, u32 flags)
{
	p[0] = 0;
	p[1] = 8;
	p[2] = uid;
	p[3] = id;
	put32(p + 4, flags);
	return 8;
}

static size_t x2apic_entry(u8 *p, u32 id, u32 uid, u32 flags)
{
	memset(p, 0, 16);
	p[0] = 9;
	p[1] = 16;
	put32(p + 4, id);
	put32(p + 8, flags);
	put32(p + 12, uid);
	return 16;
}

static size_t ioapic_entry(u8 *p, u8 id, u32 address, u32 gsi_base)
{
	memset(p, 0, 12);
	p[0] = 1;
	p[1] = 12;
	p[2] = id;
	put32(p + 4, address);
	put32(p + 8, gsi_base);
	return 12;
}

static size_t iso_entry(u8 *p, u8 source, u32 gsi, u16 flags)
{
	p[0] = 2;
	p[1] = 10;
	p[2] = 0;
	p[3] = source;
	put32(p + 4, gsi);
	put16(p + 8, flags);
	return 10;
}

/* A MADT body: local APIC address, flags, then the given entries. */
static size_t madt_body(u8 *body, u32 flags)
{
	put32(body, 0xfee00000);
	put32(body + 4, flags);
	return 8;
}

static void test_madt_x2apic_and_variants(void **state)
{
	struct fixture *fx = *state;
	u8 body[256];
	size_t n = madt_body(body, 0);
	const struct acpi_cpu *c;

	n += lapic_entry(body + n, 0, 0, 1);
	n += x2apic_entry(body + n, 0, 0, 1);        /* the same CPU again: listed once */
	n += x2apic_entry(body + n, 0x100, 7, 1);    /* beyond 8-bit APIC IDs */
	n += lapic_entry(body + n, 3, 3, 2);         /* online capable, not enabled */
	n += lapic_entry(body + n, 4, 4, 0);         /* neither */
	n += ioapic_entry(body + n, 1, 0xfec01000, 24);
	n += iso_entry(body + n, 9, 20, 0x000f);
	body[n] = 5;                                 /* local APIC address override */
	body[n + 1] = 12;
	put16(body + n + 2, 0);
	put64(body + n + 4, 0x1fee00000ULL);
	n += 12;
	body[n] = 0x7f;                              /* unknown type: skipped */
	body[n + 1] = 4;
	n += 4;
	body[n] = 0;                                 /* LAPIC entry too short to read */
	body[n + 1] = 6;
	n += 6;
	n += lapic_entry(body + n, 5, 5, 1);         /* the walk goes on after it */
	make_table(region(&fx->mem, "APIC"), "APIC", body, n);

	assert_int_equal(parse(fx), 0);
	assert_false(fx->info.pic_present);
	assert_int_equal(fx->info.lapic_address, 0x1fee00000ULL);
	assert_int_equal(fx->info.cpu_count, 5);
	c = fx->info.cpus;
	assert_int_equal(c[0].apic_id, 0);
	assert_false(c[0].x2apic_entry);
	assert_int_equal(c[1].apic_id, 0x100);
	assert_int_equal(c[1].uid, 7);
	assert_true(c[1].enabled);
	assert_true(c[1].x2apic_entry);
	assert_int_equal(c[2].apic_id, 3);
	assert_false(c[2].enabled);
	assert_true(c[2].online_capable);
	assert_int_equal(c[3].apic_id, 4);
	assert_false(c[3].enabled);
	assert_false(c[3].online_capable);
	assert_int_equal(c[4].apic_id, 5);
	assert_int_equal(fx->info.ioapic_count, 1);
	assert_int_equal(fx->info.ioapics[0].id, 1);
	assert_int_equal(fx->info.ioapics[0].address, 0xfec01000);
	assert_int_equal(fx->info.ioapics[0].gsi_base, 24);
	assert_int_equal(fx->info.override_count, 1);
	assert_int_equal(fx->info.overrides[0].source, 9);
	assert_int_equal(fx->info.overrides[0].gsi, 20);
	assert_int_equal(fx->info.overrides[0].flags, 0x000f);
	assert_int_equal(fx->info.warning_count, 1);
	assert_true(has_warning(&fx->info, "type 0 entry", "too short"));
}

static void test_madt_capacity(void **state)
{
	struct fixture *fx = *state;
	size_t cap = 8 + 300 * 16 + 20 * 12 + 40 * 10;
	u8 *body = malloc(cap);
	size_t n;

	assert_non_null(body);
	n = madt_body(body, 1);
	for (u32 i = 0; i < 300; i++)
		n += x2apic_entry(body + n, i, i, 1);
	for (u32 i = 0; i < 20; i++)
		n += ioapic_entry(body + n, (u8)i, 0xfec00000 + i * 0x1000, i * 24);
	for (u32 i = 0; i < 40; i++)
		n += iso_entry(body + n, (u8)i, i, 0);
	assert_int_equal(n, cap);
	make_table(region(&fx->mem, "APIC"), "APIC", body, n);
	free(body);

	assert_int_equal(parse(fx), 0);
	assert_int_equal(fx->info.cpu_count, ACPI_MAX_CPUS);
	assert_int_equal(fx->info.cpus[ACPI_MAX_CPUS - 1].apic_id, ACPI_MAX_CPUS - 1);
	assert_int_equal(fx->info.ioapic_count, ACPI_MAX_IOAPICS);
	assert_int_equal(fx->info.override_count, ACPI_MAX_ISOS);
	assert_true(has_warning(&fx->info, "44 CPUs beyond the first 256", NULL));
	assert_true(has_warning(&fx->info, "4 IOAPICs beyond", NULL));
	assert_true(has_warning(&fx->info, "8 overrides beyond", NULL));
}

static void test_madt_too_short(void **state)
{
	struct fixture *fx = *state;
	u8 body[4] = { 0 };

	make_table(region(&fx->mem, "APIC"), "APIC", body, sizeof(body));
	assert_int_equal(parse(fx), 0);
	assert_false(fx->info.madt_present);
	assert_true(has_warning(&fx->info, "MADT: too short", NULL));
	assert_true(has_warning(&fx->info, "no usable MADT", NULL));
}

static void test_warnings_are_bounded(void **state)
{
	struct fixture *fx = *state;
	u8 body[8 + 30 * 2];
	size_t n = madt_body(body, 1);

	for (int i = 0; i < 30; i++, n += 2) {
		body[n] = 0; /* LAPIC entries of 2 bytes: each one too short */
		body[n + 1] = 2;
	}
	make_table(region(&fx->mem, "APIC"), "APIC", body, n);
	assert_int_equal(parse(fx), 0);
	assert_int_equal(fx->info.warning_count, ACPI_MAX_WARNINGS);
	assert_string_equal(fx->info.warnings[ACPI_MAX_WARNINGS - 1], "further warnings dropped");
	for (u32 i = 0; i < ACPI_MAX_WARNINGS; i++)
		assert_true(strlen(fx->info.warnings[i]) < sizeof(fx->info.warnings[i]));
	assert_true(fx->info.fadt.present);
}

/* ---- Root table entries ---------------------------------------------------------------------- */

static u32 root_entry_index(const struct region *root, u64 phys)
{
	size_t size = strcmp(root->sig, "XSDT") == 0 ? 8 : 4;

	for (u32 i = 0; HDR + (i + 1) * size <= root->len; i++) {
		const u8 *e = root->data + HDR + i * size;
		u64 v = size == 8 ? (u64)get32(e) | (u64)get32(e + 4) << 32 : get32(e);

		if (v == phys)
			return i;
	}
	fail_msg("table %#" PRIx64 " not in %s", phys, root->sig);
	return 0;
}

static void test_root_entry_unmapped(void **state)
{
	struct fixture *fx = *state;
	const struct expected *e = expected_for(state);
	struct region *root = region(&fx->mem, root_sig(e));
	struct region *madt = region(&fx->mem, "APIC");
	u32 i = root_entry_index(root, madt->phys);
	/* nowhere; straddling the end of the MADT's buffer; header readable but not the rest */
	const u64 targets[] = { 0xdead0000, madt->phys + madt->len - 20, madt->phys + 8 };

	for (size_t t = 0; t < ARRAY_SIZE(targets); t++) {
		set_root_entry(root, i, targets[t]);
		assert_int_equal(parse(fx), 0);
		assert_true(fx->info.warning_count > 0);
		check_all_but(fx, e, "APIC");
	}
	set_root_entry(root, i, 0);
	assert_int_equal(parse(fx), 0);
	assert_true(has_warning(&fx->info, "entry", "is null"));
	check_all_but(fx, e, "APIC");
}

static void test_root_entry_bad_length(void **state)
{
	struct fixture *fx = *state;
	const struct expected *e = expected_for(state);
	struct region *hpet = region(&fx->mem, "HPET");
	const u32 lengths[] = { 0, 35, 16 * 1024 * 1024 + 1, 0xffffffff };

	for (size_t t = 0; t < ARRAY_SIZE(lengths); t++) {
		put32(hpet->data + 4, lengths[t]);
		fix_checksum(hpet);
		assert_int_equal(parse(fx), 0);
		assert_true(has_warning(&fx->info, "HPET", "bad length"));
		check_all_but(fx, e, "");
	}
}

static void test_root_length_not_whole_entries(void **state)
{
	struct fixture *fx = *state;
	const struct expected *e = expected_for(state);
	struct region *root = region(&fx->mem, root_sig(e));

	put32(root->data + 4, (u32)root->len - 2);
	fix_checksum(root);
	assert_int_equal(parse(fx), 0);
	assert_true(has_warning(&fx->info, "is not 36 + n*", NULL));
	assert_int_equal(fx->info.table_count, e->tables - 1); /* the last entry is gone */
}

/* Writes `count` entries into a new body for the root table (XSDT or RSDT). */
static void make_root(struct region *root, const u64 *entries, size_t count)
{
	size_t size = strcmp(root->sig, "XSDT") == 0 ? 8 : 4;
	u8 *body = calloc(count ? count : 1, size);

	assert_non_null(body);
	for (size_t i = 0; i < count; i++) {
		if (size == 8)
			put64(body + i * 8, entries[i]);
		else
			put32(body + i * 4, (u32)entries[i]);
	}
	make_table(root, root->sig, body, count * size);
	free(body);
}

/* The same table named several times is parsed and listed once, with one warning. */
static void test_root_duplicate_entries(void **state)
{
	struct fixture *fx = *state;
	const struct expected *e = expected_for(state);
	u64 apic = region(&fx->mem, "APIC")->phys;
	const u64 entries[] = { region(&fx->mem, "FACP")->phys, apic, apic,
				region(&fx->mem, "HPET")->phys, apic };

	make_root(region(&fx->mem, root_sig(e)), entries, ARRAY_SIZE(entries));
	assert_int_equal(parse(fx), 0);
	assert_int_equal(fx->info.warning_count, 1);
	assert_true(has_warning(&fx->info, "2 duplicate entries ignored", NULL));
	assert_int_equal(fx->info.table_count, 4); /* FACP, APIC, HPET, DSDT */
	check_all_but(fx, e, e->mcfg ? "MCFG" : "");
}

/* More tables than the list holds, and a second MADT: all parsed, the list bounded. */
static void test_root_with_many_entries(void **state)
{
	struct fixture *fx = *state;
	const struct expected *e = expected_for(state);
	const struct region *apic = region(&fx->mem, "APIC");
	u64 entries[70];
	u8 oem[HDR] = "OEMX";

	entries[0] = region(&fx->mem, "FACP")->phys;
	entries[1] = apic->phys;
	entries[2] = 0x10000000;
	add_region(&fx->mem, "APIC", entries[2], apic->data, apic->len);
	for (size_t i = 3; i < ARRAY_SIZE(entries); i++) {
		entries[i] = 0x10001000 + i * 0x40;
		put32(oem + 4, HDR);
		fix_checksum(add_region(&fx->mem, "OEMX", entries[i], oem, sizeof(oem)));
	}
	make_root(region(&fx->mem, root_sig(e)), entries, ARRAY_SIZE(entries));
	assert_int_equal(parse(fx), 0);
	assert_int_equal(fx->info.table_count, ACPI_MAX_TABLES);
	assert_true(has_warning(&fx->info, "6 tables beyond the first 64", NULL));
	assert_true(has_warning(&fx->info, "MADT: second table at 0x10000000 ignored", NULL));
	assert_true(has_warning(&fx->info, "DSDT: no room", NULL));
	check_madt(&fx->info, e);
	check_fadt(&fx->info, e);
	assert_true(fx->info.s5_present);
	assert_int_equal(fx->info.mcfg_count, 0);
}

static void test_no_madt_no_fadt(void **state)
{
	struct fixture *fx = *state;
	const struct expected *e = expected_for(state);
	struct region *root = region(&fx->mem, root_sig(e));
	u8 body[8];

	put64(body, region(&fx->mem, "HPET")->phys);
	make_table(root, root->sig, body, e->xsdt_used ? 8 : 4);
	assert_int_equal(parse(fx), 0);
	assert_int_equal(fx->info.table_count, 1);
	assert_false(fx->info.madt_present);
	assert_false(fx->info.fadt.present);
	assert_false(fx->info.s5_present);
	assert_true(has_warning(&fx->info, "no usable MADT", NULL));
	assert_true(has_warning(&fx->info, "no usable FADT", NULL));
}

/* ---- FADT ------------------------------------------------------------------------------------ */

static void test_fadt_x_fields_zero_use_legacy(void **state)
{
	struct fixture *fx = *state;
	struct region *fadt = region(&fx->mem, "FACP");

	memset(fadt->data + 132, 0, 244 - 132); /* every X_ field */
	fix_checksum(fadt);
	assert_int_equal(parse(fx), 0);
	assert_int_equal(fx->info.warning_count, 0);
	check_machine(fx, &q35);
	/* Built from the 32-bit fields: width from the *_LEN bytes, access size to match. */
	assert_int_equal(fx->info.fadt.pm1a_cnt.access_size, 2);
	assert_int_equal(fx->info.fadt.pm_timer.access_size, 3);
}

static void test_fadt_x_fields_win(void **state)
{
	struct fixture *fx = *state;
	struct region *fadt = region(&fx->mem, "FACP");
	const struct acpi_fadt_info *f = &fx->info.fadt;

	put64(fadt->data + 172 + 4, 0x1604);              /* X_PM1a_CNT_BLK */
	put64(fadt->data + 208 + 4, 0x1608);              /* X_PM_TMR_BLK */
	put32(fadt->data + 40, 0);                        /* DSDT: only X_DSDT left */
	fix_checksum(fadt);
	assert_int_equal(parse(fx), 0);
	assert_int_equal(f->pm1a_cnt.address, 0x1604);
	assert_int_equal(f->pm_timer.address, 0x1608);
	assert_int_equal(f->dsdt, region(&fx->mem, "DSDT")->phys);
	assert_true(fx->info.s5_present);
}

static void test_fadt_flags(void **state)
{
	struct fixture *fx = *state;
	struct region *fadt = region(&fx->mem, "FACP");
	u32 flags = get32(fadt->data + 112);

	/* pc's ACPI 1.0 FADT ends before the reset register: the flag alone cannot be honoured. */
	put32(fadt->data + 112, flags | (1u << 10) | (1u << 8));
	fix_checksum(fadt);
	assert_int_equal(parse(fx), 0);
	assert_true(fx->info.fadt.pm_timer_32bit);
	assert_false(fx->info.fadt.reset_supported);
	assert_true(has_warning(&fx->info, "RESET_REG_SUP", "no reset register"));
}

static void test_fadt_dsdt_pointer_bad(void **state)
{
	struct fixture *fx = *state;
	const struct expected *e = expected_for(state);
	struct region *fadt = region(&fx->mem, "FACP");
	const u64 targets[] = { 0x12345000, region(&fx->mem, "APIC")->phys, 0 };
	const char *why[] = { "unreadable", "signature", "no DSDT address" };

	for (size_t t = 0; t < ARRAY_SIZE(targets); t++) {
		put32(fadt->data + 40, (u32)targets[t]);
		if (fadt->len >= 148)
			put64(fadt->data + 140, targets[t]);
		fix_checksum(fadt);
		assert_int_equal(parse(fx), 0);
		assert_false(fx->info.s5_present);
		assert_true(has_warning(&fx->info, why[t], NULL));
		check_madt(&fx->info, e);
		assert_true(fx->info.fadt.present);
	}
}

/* A second FADT elsewhere in memory is ignored, even when it says something else. */
static void test_fadt_duplicate(void **state)
{
	struct fixture *fx = *state;
	struct region *fadt = region(&fx->mem, "FACP");
	struct region *other = add_region(&fx->mem, "FACP", 0x10000000, fadt->data, fadt->len);
	const u64 entries[] = { fadt->phys, other->phys };

	put32(other->data + 64, 0x1234); /* PM1a_CNT_BLK */
	fix_checksum(other);
	make_root(region(&fx->mem, "RSDT"), entries, ARRAY_SIZE(entries));
	assert_int_equal(parse(fx), 0);
	assert_true(has_warning(&fx->info, "FADT: second table at 0x10000000 ignored", NULL));
	check_fadt(&fx->info, &bochs);
}

/* ---- MCFG ------------------------------------------------------------------------------------ */

static size_t mcfg_entry(u8 *p, u64 base, u16 segment, u8 start, u8 end)
{
	memset(p, 0, 16);
	put64(p, base);
	put16(p + 8, segment);
	p[10] = start;
	p[11] = end;
	return 16;
}

static void test_mcfg_entries(void **state)
{
	struct fixture *fx = *state;
	u8 body[8 + 12 * 16 + 7] = { 0 };
	size_t n = 8;

	n += mcfg_entry(body + n, 0xb0000000, 0, 0, 255);
	n += mcfg_entry(body + n, 0xc0000000, 1, 10, 5); /* buses backwards: skipped */
	n += mcfg_entry(body + n, 0x4000000000ULL, 2, 0, 63);
	for (unsigned i = 0; i < 9; i++)
		n += mcfg_entry(body + n, 0xd0000000 + i * 0x1000000ULL, (u16)(3 + i), 0, 15);
	n += 7; /* a partial entry */
	make_table(region(&fx->mem, "MCFG"), "MCFG", body, n);
	assert_int_equal(parse(fx), 0);
	assert_int_equal(fx->info.mcfg_count, ACPI_MAX_MCFG);
	assert_int_equal(fx->info.mcfg[0].base, 0xb0000000);
	assert_int_equal(fx->info.mcfg[1].base, 0x4000000000ULL);
	assert_int_equal(fx->info.mcfg[1].segment, 2);
	assert_int_equal(fx->info.mcfg[1].bus_end, 63);
	assert_int_equal(fx->info.mcfg[7].segment, 8);
	assert_true(has_warning(&fx->info, "MCFG: entry 1 has buses 10-5", NULL));
	assert_true(has_warning(&fx->info, "partial entry", NULL));
	assert_true(has_warning(&fx->info, "3 entries beyond", NULL));
}

static void test_mcfg_too_short(void **state)
{
	struct fixture *fx = *state;
	u8 body[4] = { 0 };

	make_table(region(&fx->mem, "MCFG"), "MCFG", body, sizeof(body));
	assert_int_equal(parse(fx), 0);
	assert_int_equal(fx->info.mcfg_count, 0);
	assert_true(has_warning(&fx->info, "MCFG: too short", NULL));
}

/* ---- \_S5 in the parse ------------------------------------------------------------------------ */

/* Renames \_S5 in the DSDT so that it is no longer there. */
static void hide_dsdt_s5(struct fixture *fx)
{
	struct region *dsdt = region(&fx->mem, "DSDT");

	dsdt->data[s5_name_offset(dsdt) + 3] = '6';
	fix_checksum(dsdt);
}

static void test_s5_from_ssdt(void **state)
{
	struct fixture *fx = *state;
	static const u8 aml[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x02,
				  0x0a, 0x05, 0x0b, 0x07, 0x01, 0x00 };

	hide_dsdt_s5(fx);
	assert_int_equal(parse(fx), 0);
	assert_false(fx->info.s5_present);
	assert_true(has_warning(&fx->info, "\\_S5 not found", NULL));

	make_table(region(&fx->mem, "SSDT"), "SSDT", aml, sizeof(aml));
	assert_int_equal(parse(fx), 0);
	assert_int_equal(fx->info.warning_count, 0);
	assert_true(fx->info.s5_present);
	assert_int_equal(fx->info.s5_slp_typa, 5);
	assert_int_equal(fx->info.s5_slp_typb, 7);

	/* An SSDT with a bad checksum is not believed. */
	region(&fx->mem, "SSDT")->data[9]++;
	assert_int_equal(parse(fx), 0);
	assert_false(fx->info.s5_present);
}

static void test_s5_malformed_in_dsdt(void **state)
{
	struct fixture *fx = *state;
	struct region *dsdt = region(&fx->mem, "DSDT");
	size_t end = s5_package_end(dsdt);

	/* Package (4) → NumElements 0. The package is at end - 6 (PkgLength 6). */
	assert_int_equal(dsdt->data[end - 6 - 1], 0x12);
	dsdt->data[end - 6 + 1] = 0;
	fix_checksum(dsdt);
	assert_int_equal(parse(fx), 0);
	assert_false(fx->info.s5_present);
	assert_true(has_warning(&fx->info, "\\_S5 malformed", NULL));
}

/* ---- acpi_aml_find_s5 on its own --------------------------------------------------------------- */

/* Runs the finder on an exact-size heap copy, so that any read past `len` is caught. */
static int find_s5(const u8 *aml, size_t len, u8 *a, u8 *b)
{
	u8 *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, aml, len);
	rc = acpi_aml_find_s5(copy, len, a, b);
	free(copy);
	return rc;
}

#define S5_NAME 0x08, '_', 'S', '5', '_'
#define COPY(dst, ...)                                              \
	do {                                                        \
		static const u8 src_[] = { __VA_ARGS__ };           \
		memcpy(dst, src_, sizeof(src_));                    \
	} while (0)

static void expect_s5(const u8 *aml, size_t len, u8 want_a, u8 want_b)
{
	u8 a = 0xee, b = 0xee;

	assert_int_equal(find_s5(aml, len, &a, &b), 0);
	assert_int_equal(a, want_a);
	assert_int_equal(b, want_b);
}

static void test_aml_s5_integer_encodings(void **state)
{
	static const u8 zero[] = { S5_NAME, 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00 };
	static const u8 rooted_bytes[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x02,
					   0x0a, 0x05, 0x0a, 0x07 };
	static const u8 words[] = { S5_NAME, 0x12, 0x08, 0x02, 0x0b, 0x34, 0x12, 0x0b, 0x78, 0x56 };
	static const u8 dword_qword[] = { S5_NAME, 0x12, 0x10, 0x02, 0x0c, 0x03, 0x02, 0x01, 0x00,
					  0x0e, 0x04, 1, 2, 3, 4, 5, 6, 7 };
	static const u8 one_ones[] = { S5_NAME, 0x12, 0x04, 0x02, 0x01, 0xff };
	/* One element holding both values, as some old firmware writes it. */
	static const u8 packed[] = { S5_NAME, 0x12, 0x05, 0x01, 0x0b, 0x05, 0x07 };

	(void)state;
	expect_s5(zero, sizeof(zero), 0, 0);
	expect_s5(rooted_bytes, sizeof(rooted_bytes), 5, 7);
	expect_s5(words, sizeof(words), 0x34, 0x78);
	expect_s5(dword_qword, sizeof(dword_qword), 0x03, 0x04);
	expect_s5(one_ones, sizeof(one_ones), 1, 0xff);
	expect_s5(packed, sizeof(packed), 5, 7);
}

/* PkgLength in 2, 3 and 4 bytes: the lead byte's bits 7-6 count the bytes that follow. */
static void test_aml_s5_multibyte_pkg_length(void **state)
{
	u8 aml[6000];
	size_t n;

	(void)state;
	/* 2 bytes: length 0x47 = lead 0x47 (low nibble 7), next 0x04. */
	memset(aml, 0, sizeof(aml));
	COPY(aml, S5_NAME, 0x12, 0x47, 0x04, 0x03, 0x0a, 0x05, 0x0a, 0x06);
	n = 6 + 0x47; /* package starts with the PkgLength at offset 6 */
	expect_s5(aml, n, 5, 6);
	assert_int_equal(find_s5(aml, n - 1, &aml[5999], &aml[5998]), BH_EINVAL);

	/* 3 bytes: length 5000 = 0x1388: lead 0x88, then 0x38, 0x01. */
	COPY(aml, S5_NAME, 0x12, 0x88, 0x38, 0x01, 0x02, 0x0a, 0x03, 0x0a, 0x04);
	n = 6 + 5000;
	expect_s5(aml, n, 3, 4);
	assert_int_equal(find_s5(aml, n - 1, &aml[5999], &aml[5998]), BH_EINVAL);

	/* 4 bytes, a small length written long: 9 = lead 0xc9, then 0, 0, 0. */
	COPY(aml, S5_NAME, 0x12, 0xc9, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01, 0x00);
	expect_s5(aml, 6 + 9, 1, 1);
	assert_int_equal(find_s5(aml, 6 + 8, &aml[5999], &aml[5998]), BH_EINVAL);
}

static void test_aml_s5_missing(void **state)
{
	static const u8 s4[] = { S5_NAME, 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00 };
	u8 other[sizeof(s4)];
	u8 a, b;

	(void)state;
	memcpy(other, s4, sizeof(s4));
	other[3] = '4'; /* \_S4 */
	assert_int_equal(find_s5(other, sizeof(other), &a, &b), BH_ENOENT);
	other[3] = '5';
	other[0] = 0x10; /* "_S5_" without NameOp: a reference, not a definition */
	assert_int_equal(find_s5(other, sizeof(other), &a, &b), BH_ENOENT);
	assert_int_equal(find_s5(other, 0, &a, &b), BH_ENOENT);
	assert_int_equal(acpi_aml_find_s5(NULL, 0, &a, &b), BH_ENOENT);
	assert_int_equal(acpi_aml_find_s5(NULL, 100, &a, &b), BH_ENOENT);
}

static void test_aml_s5_malformed(void **state)
{
	static const u8 cases[][13] = {
		{ S5_NAME, 0x0a, 0x05 },                               /* Name (_S5, 5) */
		{ S5_NAME, 0x12, 0x00 },                               /* PkgLength 0 */
		{ S5_NAME, 0x12, 0x01, 0x02 },                         /* no room for NumElements */
		{ S5_NAME, 0x12, 0x02, 0x00 },                         /* no elements */
		{ S5_NAME, 0x12, 0x06, 0x02, 'A', 'B', 'C', 'D' },     /* a name, not an integer */
		{ S5_NAME, 0x12, 0x04, 0x02, 0x0c, 0x01, 0x02, 0x03 }, /* dword past package end */
		{ S5_NAME, 0x12, 0x04, 0x02, 0x0a, 0x01, 0x0a, 0x02 }, /* 2nd element past end */
		{ S5_NAME, 0x12, 0x3f, 0x02, 0x00, 0x00 },             /* package past the AML */
		{ S5_NAME, 0x12, 0xc0, 0xff },                         /* PkgLength bytes missing */
	};
	static const size_t lengths[] = { 7, 7, 8, 8, 12, 12, 12, 10, 8 };
	u8 a, b;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(find_s5(cases[i], lengths[i], &a, &b), BH_EINVAL);
	}
}

static void test_aml_s5_decoy_then_real(void **state)
{
	static const u8 aml[] = { 0x10, 0x08, S5_NAME, 0x0a, 0x09, /* Name (_S5, 9): skipped */
				  0x5b, 0x80, S5_NAME, 0x12, 0x05, 0x02, 0x0a, 0x02, 0x01 };

	(void)state;
	expect_s5(aml, sizeof(aml), 2, 1);
}

/* Every prefix of a valid stream: nothing past `len` is read, and only the whole package
 * decodes. */
static void test_aml_s5_every_truncation(void **state)
{
	static const u8 aml[] = { 0x5b, 0x82, 0x10, 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x4b,
				  0x00, 0x02, 0x0c, 0x05, 0x00, 0x00, 0x00, 0x0b, 0x07, 0x00 };
	const size_t end = 10 + 0x0b; /* PkgLength 0x4b,0x00: 2 bytes, value 11 */
	u8 a, b;

	(void)state;
	assert_int_equal(end, sizeof(aml));
	for (size_t k = 0; k <= sizeof(aml); k++) {
		int rc = find_s5(aml, k, &a, &b);

		if (k < 9)
			assert_int_equal(rc, BH_ENOENT);
		else if (k < end)
			assert_int_equal(rc, BH_EINVAL);
		else
			assert_int_equal(rc, 0);
	}
	expect_s5(aml, sizeof(aml), 5, 7);
}

static void test_aml_s5_real_dsdts(void **state)
{
	static const char *const machines[] = { "qemu-q35", "qemu-pc", "bochs" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(machines); i++) {
		struct fake_mem m = { 0 };
		const struct region *dsdt;

		load_machine(&m, machines[i]);
		dsdt = region(&m, "DSDT");
		expect_s5(dsdt->data + HDR, dsdt->len - HDR, 0, 0);
		free_regions(&m);
	}
}

/* ---- Runner ----------------------------------------------------------------------------------- */

#define ON(machine, test) cmocka_unit_test_setup_teardown(test, setup_##machine, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		ON(q35, test_real_dump),
		ON(pc, test_real_dump),
		ON(bochs, test_real_dump),

		ON(q35, test_rsdt_fallback_rsdp_revision_0),
		ON(pc, test_rsdt_fallback_rsdp_revision_0),
		ON(q35, test_rsdt_fallback_xsdt_checksum),
		ON(pc, test_rsdt_fallback_xsdt_checksum),
		ON(q35, test_rsdt_fallback_rsdp_extended_checksum),
		ON(q35, test_rsdt_fallback_xsdt_unmapped),
		ON(q35, test_rsdt_fallback_xsdt_signature),
		ON(q35, test_rsdt_fallback_xsdt_absurd_length),
		ON(q35, test_rsdp_bad_length),
		ON(q35, test_no_usable_root),
		ON(q35, test_no_root_address),
		ON(bochs, test_rsdt_wrong_signature),
		ON(q35, test_rsdp_bad_signature),
		ON(bochs, test_rsdp_bad_signature),
		ON(q35, test_rsdp_bad_checksum),
		ON(bochs, test_rsdp_bad_checksum),
		ON(q35, test_rsdp_unmapped),
		ON(bochs, test_rsdp_unmapped),

		ON(q35, test_every_table_truncated),
		ON(pc, test_every_table_truncated),
		ON(bochs, test_every_table_truncated),
		ON(q35, test_every_checksum_corrupted),
		ON(pc, test_every_checksum_corrupted),
		ON(bochs, test_every_checksum_corrupted),

		ON(q35, test_madt_zero_length_entry),
		ON(q35, test_madt_entry_overruns_table),
		ON(q35, test_madt_x2apic_and_variants),
		ON(q35, test_madt_capacity),
		ON(bochs, test_madt_too_short),
		ON(bochs, test_warnings_are_bounded),

		ON(q35, test_root_entry_unmapped),
		ON(bochs, test_root_entry_unmapped),
		ON(pc, test_root_entry_bad_length),
		ON(bochs, test_root_entry_bad_length),
		ON(q35, test_root_length_not_whole_entries),
		ON(bochs, test_root_length_not_whole_entries),
		ON(q35, test_root_duplicate_entries),
		ON(bochs, test_root_duplicate_entries),
		ON(q35, test_root_with_many_entries),
		ON(bochs, test_root_with_many_entries),
		ON(pc, test_no_madt_no_fadt),

		ON(q35, test_fadt_x_fields_zero_use_legacy),
		ON(q35, test_fadt_x_fields_win),
		ON(pc, test_fadt_flags),
		ON(q35, test_fadt_dsdt_pointer_bad),
		ON(bochs, test_fadt_dsdt_pointer_bad),
		ON(bochs, test_fadt_duplicate),

		ON(q35, test_mcfg_entries),
		ON(q35, test_mcfg_too_short),

		ON(bochs, test_s5_from_ssdt),
		ON(q35, test_s5_malformed_in_dsdt),

		cmocka_unit_test(test_aml_s5_integer_encodings),
		cmocka_unit_test(test_aml_s5_multibyte_pkg_length),
		cmocka_unit_test(test_aml_s5_missing),
		cmocka_unit_test(test_aml_s5_malformed),
		cmocka_unit_test(test_aml_s5_decoy_then_real),
		cmocka_unit_test(test_aml_s5_every_truncation),
		cmocka_unit_test(test_aml_s5_real_dsdts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
