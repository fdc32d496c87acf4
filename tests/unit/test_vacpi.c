/* Unit tests for the guest ACPI tables (hv/vacpi.c). What is generated is read back two ways:
 * through drivers/acpi.c, the parser the hypervisor uses on firmware tables (so a guest's
 * tables pass the same checks as a real machine's), and byte by byte with offsets spelled out
 * from the ACPI 6.4 specification. The parser's map hands out heap copies of exactly the bytes
 * asked for, so AddressSanitizer catches a read beyond what a length field announced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "types.h"
#include "lib/error.h"
#include "drivers/acpi.h"
#include "hv/vacpi.h"

#define BUF_CAP (128 * 1024)
#define GPA 0xE0000ULL

static u16 r16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 r32(const u8 *p) { return r16(p) | (u32)r16(p + 2) << 16; }
static u64 r64(const u8 *p) { return r32(p) | (u64)r32(p + 4) << 32; }

/* ---------------------------------------------------------------------------------------- */
/* fixture: the buffer as guest memory at `base` */

static u8 buf[BUF_CAP];
static u64 base;
static struct vacpi_tables tab;
static struct acpi_info info;
static char why[256];
static void *maps[256];
static u32 nmaps;

static const void *map(void *ctx, u64 phys, u64 len)
{
	void *copy;

	(void)ctx;
	if (phys < base || len > BUF_CAP || phys - base > BUF_CAP - len)
		return NULL;
	assert_true(nmaps < ARRAY_SIZE(maps));
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, buf + (phys - base), len);
	maps[nmaps++] = copy;
	return copy;
}

static void unmap_all(void)
{
	while (nmaps)
		free(maps[--nmaps]);
}

static u32 ids2[] = { 0, 1 };

static struct vacpi_config config(u32 n, const u32 *ids)
{
	return (struct vacpi_config){
		.cpu_count = n,
		.apic_ids = ids,
		.ioapic_address = VACPI_DEFAULT_IOAPIC_ADDRESS,
		.ioapic_id = 0,
		.ioapic_gsi_base = 0,
		.pm1a_evt_port = VACPI_DEFAULT_PM1A_EVT,
		.pm1a_cnt_port = VACPI_DEFAULT_PM1A_CNT,
		.pm_tmr_port = VACPI_DEFAULT_PM_TMR,
		.oem_id = NULL,
		.oem_table_id = NULL,
		.oem_revision = 0,
	};
}

#define assert_ok(expr) do { int rc_ = (expr); if (rc_) fail_msg("rc %d: %s", rc_, why); } \
	while (0)

static int build_at(const struct vacpi_config *c, u64 gpa)
{
	memset(buf, 0xEE, sizeof(buf));
	memset(&tab, 0x5A, sizeof(tab));
	memset(why, 'X', sizeof(why));
	base = gpa;
	return vacpi_build(c, gpa, buf, BUF_CAP, &tab, why, sizeof(why));
}

/* Builds, then parses with drivers/acpi.c: no error and no warning. */
static void build_and_parse(const struct vacpi_config *c, u64 gpa)
{
	struct acpi_mem mem = { map, NULL };
	char perr[128];
	u64 size;

	assert_ok(build_at(c, gpa));
	assert_ok(vacpi_size(c, &size, why, sizeof(why)));
	assert_int_equal(size, tab.size);
	/* nothing written beyond the tables */
	for (u64 i = tab.size; i < BUF_CAP; i++)
		if (buf[i] != 0xEE)
			fail_msg("byte %llu beyond the %llu used was written", (unsigned long long)i,
				 (unsigned long long)tab.size);
	if (acpi_parse(&mem, tab.rsdp, &info, perr, sizeof(perr)))
		fail_msg("the parser refused the tables: %s", perr);
	unmap_all();
	for (u32 i = 0; i < info.warning_count; i++)
		print_message("warning: %s\n", info.warnings[i]);
	assert_int_equal(info.warning_count, 0);
}

static const u8 *at(u64 gpa)
{
	assert_true(gpa >= base && gpa - base < tab.size);
	return buf + (gpa - base);
}

static bool sum_ok(const u8 *p, u64 len)
{
	u8 s = 0;

	for (u64 i = 0; i < len; i++)
		s = (u8)(s + p[i]);
	return s == 0;
}

/* A table's common header, its checksum, and its place inside what was built. */
static void check_header(u64 gpa, const char *sig, u32 len, u8 rev, const char *oem,
			 const char *oem_table, u32 oem_rev)
{
	const u8 *p = at(gpa);

	assert_int_equal(gpa % 16, 0);
	assert_memory_equal(p, sig, 4);
	assert_int_equal(r32(p + 4), len);
	assert_true(gpa - base + len <= tab.size);
	assert_int_equal(p[8], rev);
	assert_true(sum_ok(p, len));
	assert_memory_equal(p + 10, oem, 6);
	assert_memory_equal(p + 16, oem_table, 8);
	assert_int_equal(r32(p + 24), oem_rev);
	assert_memory_equal(p + 28, "BLKH", 4);
	assert_int_equal(r32(p + 32), 1);
}

static void check_gas(const u8 *p, u8 space, u8 width, u8 access, u64 address)
{
	assert_int_equal(p[0], space);
	assert_int_equal(p[1], width);
	assert_int_equal(p[2], 0);
	assert_int_equal(p[3], access);
	assert_int_equal(r64(p + 4), address);
}

/* Every fixed byte of what vacpi_build produces for the given configuration. */
static void check_raw(const struct vacpi_config *c, const char *oem, const char *oem_table)
{
	const u8 *rsdp = at(tab.rsdp), *facs = at(tab.facs), *xsdt = at(tab.xsdt);
	const u8 *fadt = at(tab.fadt), *dsdt = at(tab.dsdt);
	static const u8 aml[] = {
		0x08, 0x5C, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x08, 0x04, 0x0A, 0x07, 0x0A, 0x07,
		0x00, 0x00,
	};
	bool low = tab.facs < 0x100000000ULL;

	/* RSDP: revision 2, both checksums, XSDT only */
	assert_int_equal(tab.rsdp, base);
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_true(sum_ok(rsdp, 20));
	assert_true(sum_ok(rsdp, 36));
	assert_memory_equal(rsdp + 9, oem, 6);
	assert_int_equal(rsdp[15], 2);
	assert_int_equal(r32(rsdp + 16), 0);
	assert_int_equal(r32(rsdp + 20), 36);
	assert_int_equal(r64(rsdp + 24), tab.xsdt);
	assert_int_equal(rsdp[33] | rsdp[34] | rsdp[35], 0);

	/* FACS: 64 bytes, 64-byte aligned, version 2, everything else zero */
	assert_int_equal(tab.facs % 64, 0);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(r32(facs + 4), 64);
	assert_int_equal(facs[32], 2);
	for (u32 i = 8; i < 64; i++)
		assert_int_equal(facs[i], i == 32 ? 2 : 0);

	/* XSDT: the FADT and the MADT */
	check_header(tab.xsdt, "XSDT", 52, 1, oem, oem_table, c->oem_revision);
	assert_int_equal(r64(xsdt + 36), tab.fadt);
	assert_int_equal(r64(xsdt + 44), tab.madt);

	/* FADT 6.4 */
	check_header(tab.fadt, "FACP", 276, 6, oem, oem_table, c->oem_revision);
	assert_int_equal(r32(fadt + 36), low ? tab.facs : 0);
	assert_int_equal(r32(fadt + 40), low ? tab.dsdt : 0);
	assert_int_equal(fadt[44], 0);
	assert_int_equal(fadt[45], 0);
	assert_int_equal(r16(fadt + 46), 9);
	assert_int_equal(r32(fadt + 48), 0);               /* SMI_CMD: no SMM */
	assert_int_equal(fadt[52] | fadt[53] | fadt[54] | fadt[55], 0);
	assert_int_equal(r32(fadt + 56), c->pm1a_evt_port);
	assert_int_equal(r32(fadt + 60), 0);
	assert_int_equal(r32(fadt + 64), c->pm1a_cnt_port);
	assert_int_equal(r32(fadt + 68), 0);
	assert_int_equal(r32(fadt + 72), 0);
	assert_int_equal(r32(fadt + 76), c->pm_tmr_port);
	assert_int_equal(r32(fadt + 80) | r32(fadt + 84), 0); /* no GPE blocks */
	assert_int_equal(fadt[88], 4);
	assert_int_equal(fadt[89], 2);
	assert_int_equal(fadt[90], 0);
	assert_int_equal(fadt[91], 4);
	assert_int_equal(fadt[92] | fadt[93] | fadt[94] | fadt[95], 0);
	assert_true(r16(fadt + 96) > 100);                 /* no C2 */
	assert_true(r16(fadt + 98) > 1000);                /* no C3 */
	assert_int_equal(r32(fadt + 100) | r16(fadt + 104) | r16(fadt + 106), 0);
	assert_int_equal(fadt[108], 0x32);                 /* century in CMOS 0x32 */
	assert_int_equal(r16(fadt + 109), 0x0005);         /* legacy devices, no VGA, no 8042 */
	assert_int_equal(fadt[111], 0);
	assert_int_equal(r32(fadt + 112), 0x1575);
	assert_false(r32(fadt + 112) & (1u << 20));        /* not HW_REDUCED_ACPI */
	check_gas(fadt + 116, 1, 8, 1, 0xCF9);
	assert_int_equal(fadt[128], 6);
	assert_int_equal(r16(fadt + 129), 0);
	assert_int_equal(fadt[131], 4);
	assert_int_equal(r64(fadt + 132), tab.facs);
	assert_int_equal(r64(fadt + 140), tab.dsdt);
	check_gas(fadt + 148, 1, 32, 2, c->pm1a_evt_port);
	for (u32 i = 160; i < 172; i++)
		assert_int_equal(fadt[i], 0);                  /* X_PM1b_EVT */
	check_gas(fadt + 172, 1, 16, 2, c->pm1a_cnt_port);
	for (u32 i = 184; i < 208; i++)
		assert_int_equal(fadt[i], 0);                  /* X_PM1b_CNT, X_PM2_CNT */
	check_gas(fadt + 208, 1, 32, 3, c->pm_tmr_port);
	for (u32 i = 220; i < 268; i++)
		assert_int_equal(fadt[i], 0);                  /* GPEs, sleep registers */
	assert_memory_equal(fadt + 268, "Bulkhead", 8);

	/* DSDT: \_S5 and nothing else */
	check_header(tab.dsdt, "DSDT", 36 + sizeof(aml), 2, oem, oem_table, c->oem_revision);
	assert_memory_equal(dsdt + 36, aml, sizeof(aml));

	/* the tables in order, none overlapping another */
	assert_true(tab.rsdp + 36 <= tab.facs && tab.facs + 64 <= tab.xsdt);
	assert_true(tab.xsdt + 52 <= tab.fadt && tab.fadt + 276 <= tab.dsdt);
	assert_true(tab.dsdt + 36 + sizeof(aml) <= tab.madt);
	assert_int_equal(tab.madt + r32(at(tab.madt) + 4), base + tab.size);
}

/* What the parser found: CPUs in order with UIDs 0.., one IOAPIC, two overrides, FADT, \_S5. */
static void check_parsed(const struct vacpi_config *c, const char *oem)
{
	assert_int_equal(info.rsdp_revision, 2);
	assert_string_equal(info.oem_id, oem);
	assert_true(info.xsdt_used);
	assert_int_equal(info.table_count, 3);
	assert_string_equal(info.tables[0].signature, "FACP");
	assert_int_equal(info.tables[0].address, tab.fadt);
	assert_string_equal(info.tables[1].signature, "APIC");
	assert_int_equal(info.tables[1].address, tab.madt);
	assert_string_equal(info.tables[2].signature, "DSDT");
	assert_int_equal(info.tables[2].address, tab.dsdt);
	for (u32 i = 0; i < 3; i++)
		assert_true(info.tables[i].checksum_ok);

	assert_true(info.madt_present);
	assert_int_equal(info.lapic_address, 0xFEE00000);
	assert_true(info.pic_present);
	assert_int_equal(info.cpu_count, MIN(c->cpu_count, ACPI_MAX_CPUS));
	for (u32 i = 0; i < info.cpu_count; i++) {
		assert_int_equal(info.cpus[i].apic_id, c->apic_ids[i]);
		assert_int_equal(info.cpus[i].uid, i);
		assert_true(info.cpus[i].enabled);
		assert_false(info.cpus[i].online_capable);
		assert_int_equal(info.cpus[i].x2apic_entry, c->apic_ids[i] >= 255 || i >= 255);
	}
	assert_int_equal(info.ioapic_count, 1);
	assert_int_equal(info.ioapics[0].id, c->ioapic_id);
	assert_int_equal(info.ioapics[0].address, c->ioapic_address);
	assert_int_equal(info.ioapics[0].gsi_base, 0);
	assert_int_equal(info.override_count, 2);
	assert_int_equal(info.overrides[0].bus, 0);
	assert_int_equal(info.overrides[0].source, 0);
	assert_int_equal(info.overrides[0].gsi, 2);
	assert_int_equal(info.overrides[0].flags, 0);
	assert_int_equal(info.overrides[1].bus, 0);
	assert_int_equal(info.overrides[1].source, 9);
	assert_int_equal(info.overrides[1].gsi, 9);
	assert_int_equal(info.overrides[1].flags, 0x000D); /* level, active high */
	assert_int_equal(info.mcfg_count, 0);

	assert_true(info.fadt.present);
	assert_int_equal(info.fadt.revision, 6);
	assert_int_equal(info.fadt.sci_irq, 9);
	assert_int_equal(info.fadt.smi_cmd, 0);
	assert_int_equal(info.fadt.dsdt, tab.dsdt);
	assert_int_equal(info.fadt.iapc_boot_arch & 0x2, 0);   /* no 8042 */
	assert_true(info.fadt.iapc_boot_arch & 0x4);           /* VGA not present */
	assert_int_equal(info.fadt.iapc_boot_arch & 0x8, 0);   /* MSI supported */
	assert_int_equal(info.fadt.iapc_boot_arch & 0x20, 0);  /* CMOS RTC present */
	assert_int_equal(info.fadt.pm1a_cnt.space_id, ACPI_SPACE_IO);
	assert_int_equal(info.fadt.pm1a_cnt.bit_width, 16);
	assert_int_equal(info.fadt.pm1a_cnt.address, c->pm1a_cnt_port);
	assert_int_equal(info.fadt.pm1b_cnt.address, 0);
	assert_int_equal(info.fadt.pm_timer.space_id, ACPI_SPACE_IO);
	assert_int_equal(info.fadt.pm_timer.bit_width, 32);
	assert_int_equal(info.fadt.pm_timer.address, c->pm_tmr_port);
	assert_true(info.fadt.pm_timer_32bit);
	assert_true(info.fadt.reset_supported);
	assert_int_equal(info.fadt.reset_reg.space_id, ACPI_SPACE_IO);
	assert_int_equal(info.fadt.reset_reg.bit_width, 8);
	assert_int_equal(info.fadt.reset_reg.address, 0xCF9);
	assert_int_equal(info.fadt.reset_value, 6);

	assert_true(info.s5_present);
	assert_int_equal(info.s5_slp_typa, VACPI_SLP_TYP_S5);
	assert_int_equal(info.s5_slp_typb, VACPI_SLP_TYP_S5);
}

/* ---------------------------------------------------------------------------------------- */

static void test_two_cpus(void **state)
{
	struct vacpi_config c = config(2, ids2);
	u8 typa, typb;

	(void)state;
	build_and_parse(&c, GPA);
	check_raw(&c, "BLKHD ", "BULKHEAD");
	check_parsed(&c, "BLKHD ");
	/* MADT: header, two LAPIC entries, IOAPIC, two overrides */
	check_header(tab.madt, "APIC", 44 + 2 * 8 + 12 + 2 * 10, 5, "BLKHD ", "BULKHEAD", 0);
	assert_int_equal(tab.size, tab.madt - GPA + 92);
	assert_int_equal(tab.rsdp, GPA);
	assert_int_equal(tab.facs, GPA + 64);
	assert_int_equal(tab.xsdt, GPA + 128);
	/* the parser's own AML search finds \_S5 in the DSDT body */
	assert_int_equal(acpi_aml_find_s5(at(tab.dsdt) + 36, r32(at(tab.dsdt) + 4) - 36, &typa,
					  &typb), 0);
	assert_int_equal(typa, VPM_SLP_TYP_S5);
	/* the tables fit the area the loader reserves for them, with the RSDP where a legacy scan
	 * of 0xE0000-0xFFFFF looks (16-byte boundaries) */
	assert_true(tab.size < 4096);
	assert_int_equal(tab.rsdp % 16, 0);
}

static void test_madt_entries(void **state)
{
	static const u32 ids[] = { 0, 254, 255, 256, 0x10000, 7, 0xFFFFFFFE };
	struct vacpi_config c = config(ARRAY_SIZE(ids), ids);
	const u8 *e;
	static const u8 types[] = { 0, 0, 9, 9, 9, 0, 9 };

	(void)state;
	c.ioapic_id = 9;
	c.ioapic_address = 0xFEC01000;
	build_and_parse(&c, GPA);
	check_raw(&c, "BLKHD ", "BULKHEAD");
	check_parsed(&c, "BLKHD ");
	check_header(tab.madt, "APIC", 44 + 3 * 8 + 4 * 16 + 12 + 20, 5, "BLKHD ", "BULKHEAD", 0);
	/* the entries byte by byte */
	e = at(tab.madt) + 44;
	assert_int_equal(r32(at(tab.madt) + 36), 0xFEE00000);
	assert_int_equal(r32(at(tab.madt) + 40), 1);
	for (u32 i = 0; i < ARRAY_SIZE(ids); i++) {
		assert_int_equal(e[0], types[i]);
		if (types[i] == 0) {
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], i);
			assert_int_equal(e[3], ids[i]);
			assert_int_equal(r32(e + 4), 1);
			e += 8;
		} else {
			assert_int_equal(e[1], 16);
			assert_int_equal(r16(e + 2), 0);
			assert_int_equal(r32(e + 4), ids[i]);
			assert_int_equal(r32(e + 8), 1);
			assert_int_equal(r32(e + 12), i);
			e += 16;
		}
	}
	assert_int_equal(e[0], 1);
	assert_int_equal(e[1], 12);
	assert_int_equal(e[2], 9);
	assert_int_equal(e[3], 0);
	assert_int_equal(r32(e + 4), 0xFEC01000);
	assert_int_equal(r32(e + 8), 0);
	e += 12;
	assert_memory_equal(e, "\x02\x0a\x00\x00\x02\x00\x00\x00\x00\x00", 10);
	assert_memory_equal(e + 10, "\x02\x0a\x00\x09\x09\x00\x00\x00\x0d\x00", 10);
}

static void test_many_cpus(void **state)
{
	static u32 ids[VACPI_MAX_CPUS];
	struct vacpi_config c;
	u64 prev = 0, size;

	(void)state;
	/* 256 CPUs with small IDs: the 256th still needs an x2APIC entry for its UID 255 */
	for (u32 i = 0; i < 256; i++)
		ids[i] = 255 - i;
	c = config(256, ids);
	build_and_parse(&c, GPA);
	check_parsed(&c, "BLKHD ");
	assert_false(info.cpus[254].x2apic_entry);
	assert_true(info.cpus[255].x2apic_entry);
	assert_int_equal(info.cpus[255].apic_id, 0);
	assert_int_equal(info.cpus[255].uid, 255);
	check_header(tab.madt, "APIC", 44 + 254 * 8 + 2 * 16 + 32, 5, "BLKHD ", "BULKHEAD", 0);

	/* sizes grow by 8 bytes per xAPIC CPU and 16 per x2APIC CPU */
	for (u32 n = 1; n <= 300; n++) {
		for (u32 i = 0; i < n; i++)
			ids[i] = i * 3;
		c = config(n, ids);
		assert_ok(vacpi_size(&c, &size, why, sizeof(why)));
		if (n > 1) {
			u32 step = (ids[n - 1] >= 255 || n - 1 >= 255) ? 16 : 8;

			assert_int_equal(size - prev, step);
		}
		prev = size;
	}
	/* the most CPUs: the whole MADT is there and sums right, the parser keeps 256 */
	for (u32 i = 0; i < VACPI_MAX_CPUS; i++)
		ids[i] = i;
	c = config(VACPI_MAX_CPUS, ids);
	assert_ok(build_at(&c, GPA));
	check_raw(&c, "BLKHD ", "BULKHEAD");
	check_header(tab.madt, "APIC", 44 + 255 * 8 + (VACPI_MAX_CPUS - 255) * 16 + 32, 5,
		     "BLKHD ", "BULKHEAD", 0);
	assert_true(tab.size < 32 * 1024);
	{
		struct acpi_mem mem = { map, NULL };

		assert_int_equal(acpi_parse(&mem, tab.rsdp, &info, why, sizeof(why)), 0);
		unmap_all();
		assert_int_equal(info.cpu_count, 256);
		assert_int_equal(info.warning_count, 1); /* "CPUs beyond the first 256 ignored" */
		assert_int_equal(info.ioapic_count, 1);
		assert_int_equal(info.override_count, 2);
	}
}

static void test_oem_strings_and_ports(void **state)
{
	static const u32 ids[] = { 3 };
	struct vacpi_config c = config(1, ids);

	(void)state;
	c.oem_id = "ACME";
	c.oem_table_id = "PART0001";
	c.oem_revision = 0x20240501;
	c.pm1a_evt_port = 0xB000;
	c.pm1a_cnt_port = 0xB004;
	c.pm_tmr_port = 0xB008;
	build_and_parse(&c, GPA);
	check_raw(&c, "ACME  ", "PART0001");
	check_parsed(&c, "ACME  ");
	check_header(tab.madt, "APIC", 44 + 8 + 32, 5, "ACME  ", "PART0001", 0x20240501);
	/* exactly six characters; empty strings mean the defaults */
	c.oem_id = "SIXSIX";
	c.oem_table_id = "";
	build_and_parse(&c, GPA);
	check_raw(&c, "SIXSIX", "BULKHEAD");
	/* PM blocks anywhere, in any order, as long as they are disjoint */
	c.pm1a_evt_port = 0xFFFC;
	c.pm1a_cnt_port = 0x1;
	c.pm_tmr_port = 0xCFA;
	build_and_parse(&c, GPA);
	check_raw(&c, "SIXSIX", "BULKHEAD");
}

static void test_above_4g(void **state)
{
	struct vacpi_config c = config(2, ids2);

	(void)state;
	/* the 32-bit FACS and DSDT pointers are left 0; the parser follows X_DSDT */
	build_and_parse(&c, 0x100000000ULL + 0x40);
	check_raw(&c, "BLKHD ", "BULKHEAD");
	check_parsed(&c, "BLKHD ");
	assert_int_equal(r32(at(tab.fadt) + 36), 0);
	assert_int_equal(r32(at(tab.fadt) + 40), 0);
	/* just below 4 GiB: both forms, equal */
	build_and_parse(&c, 0x100000000ULL - 0x4000);
	check_raw(&c, "BLKHD ", "BULKHEAD");
}

static void test_buffer_too_small(void **state)
{
	struct vacpi_config c = config(2, ids2);
	u64 size;

	(void)state;
	assert_ok(vacpi_size(&c, &size, why, sizeof(why)));
	memset(buf, 0xEE, sizeof(buf));
	memset(&tab, 0x5A, sizeof(tab));
	assert_int_equal(vacpi_build(&c, GPA, buf, size - 1, &tab, why, sizeof(why)), BH_ENOMEM);
	{
		char want[128];

		snprintf(want, sizeof(want), "the ACPI tables need %llu bytes, the buffer holds %llu",
			 (unsigned long long)size, (unsigned long long)size - 1);
		assert_string_equal(why, want);
	}
	for (u32 i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xEE);
	assert_int_equal(tab.size, 0x5A5A5A5A5A5A5A5AULL);
	assert_int_equal(vacpi_build(&c, GPA, buf, 0, &tab, why, sizeof(why)), BH_ENOMEM);
	/* exactly enough */
	assert_ok(vacpi_build(&c, GPA, buf, size, &tab, why, sizeof(why)));
	assert_int_equal(tab.size, size);
	/* a reason buffer is optional */
	assert_int_equal(vacpi_build(&c, GPA, buf, 10, &tab, NULL, 0), BH_ENOMEM);
}

static void expect_bad(const struct vacpi_config *c, int err, const char *part)
{
	u64 size = 77;
	int rc;

	memset(buf, 0xEE, sizeof(buf));
	memset(why, 'X', sizeof(why));
	rc = vacpi_build(c, GPA, buf, BUF_CAP, &tab, why, sizeof(why));
	if (rc != err)
		fail_msg("expected %d, got %d: %s", err, rc, rc ? why : "(success)");
	assert_true(strlen(why) < sizeof(why) - 1 && !strchr(why, '\n'));
	if (!strstr(why, part))
		fail_msg("reason '%s' lacks '%s'", why, part);
	assert_int_equal(buf[0], 0xEE);
	if (c) {
		assert_int_equal(vacpi_size(c, &size, why, sizeof(why)), err);
		assert_int_equal(size, 77);
	}
}

static void test_bad_input(void **state)
{
	static u32 many[VACPI_MAX_CPUS + 1];
	static const u32 dup[] = { 1, 2, 3, 2 };
	static const u32 bcast[] = { 0, 0xFFFFFFFF };
	struct vacpi_config c;
	u64 size;

	(void)state;
	expect_bad(NULL, BH_EINVAL, "no configuration");
	c = config(2, ids2);
	assert_int_equal(vacpi_size(&c, NULL, why, sizeof(why)), BH_EINVAL);
	c = config(0, ids2);
	expect_bad(&c, BH_ERANGE, "0 CPUs: 1 to 1024 are supported");
	for (u32 i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = i;
	c = config(VACPI_MAX_CPUS + 1, many);
	expect_bad(&c, BH_ERANGE, "1025 CPUs");
	c = config(2, NULL);
	expect_bad(&c, BH_EINVAL, "2 CPUs but no APIC IDs");
	c = config(4, dup);
	expect_bad(&c, BH_EINVAL, "CPUs 1 and 3 have the same APIC ID 2");
	c = config(2, bcast);
	expect_bad(&c, BH_EINVAL, "CPU 1: APIC ID 0xffffffff is the x2APIC broadcast");

	c = config(2, ids2);
	c.ioapic_address = 0;
	expect_bad(&c, BH_EINVAL, "IOAPIC address 0");
	c = config(2, ids2);
	c.ioapic_gsi_base = 24;
	expect_bad(&c, BH_EINVAL, "IOAPIC GSI base 24");

	c = config(2, ids2);
	c.pm1a_evt_port = 0;
	expect_bad(&c, BH_ERANGE, "PM1a event block at port 0x0: not a place for 4 ports");
	c = config(2, ids2);
	c.pm_tmr_port = 0xFFFD;
	expect_bad(&c, BH_ERANGE, "PM timer at port 0xfffd");
	c = config(2, ids2);
	c.pm1a_cnt_port = 0x603;
	expect_bad(&c, BH_EINVAL, "PM1a control block at ports 0x603-0x604 overlaps the PM1a "
		   "event block at 0x600-0x603");
	c = config(2, ids2);
	c.pm_tmr_port = 0x605;
	expect_bad(&c, BH_EINVAL, "PM timer at ports 0x605-0x608 overlaps the PM1a control block");
	c = config(2, ids2);
	c.pm_tmr_port = 0xCF6;
	expect_bad(&c, BH_EINVAL, "reset register at ports 0xcf9-0xcf9 overlaps the PM timer at "
		   "0xcf6-0xcf9");

	c = config(2, ids2);
	c.oem_id = "SEVENCH";
	expect_bad(&c, BH_EINVAL, "OEM ID \"SEVENC...\" is longer than 6 characters");
	c = config(2, ids2);
	c.oem_table_id = "NINECHARS";
	expect_bad(&c, BH_EINVAL, "OEM table ID \"NINECHAR...\" is longer than 8 characters");
	c = config(2, ids2);
	c.oem_id = "A\tB";
	expect_bad(&c, BH_EINVAL, "OEM ID has a byte 0x09 that is not printable ASCII");

	/* the place */
	c = config(2, ids2);
	assert_int_equal(vacpi_build(&c, GPA + 16, buf, BUF_CAP, &tab, why, sizeof(why)),
			 BH_EINVAL);
	assert_string_equal(why, "guest-physical address 0xe0010 is not 64-byte aligned");
	assert_int_equal(vacpi_build(&c, ~0ULL << 6, buf, BUF_CAP, &tab, why, sizeof(why)),
			 BH_ERANGE);
	assert_non_null(strstr(why, "leaves no room"));
	assert_int_equal(vacpi_build(&c, GPA, NULL, BUF_CAP, &tab, why, sizeof(why)), BH_EINVAL);
	assert_int_equal(vacpi_build(&c, GPA, buf, BUF_CAP, NULL, why, sizeof(why)), BH_EINVAL);
	/* a valid configuration after all that */
	assert_ok(vacpi_size(&c, &size, why, sizeof(why)));
	assert_string_equal(why, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_cpus),
		cmocka_unit_test(test_madt_entries),
		cmocka_unit_test(test_many_cpus),
		cmocka_unit_test(test_oem_strings_and_ports),
		cmocka_unit_test(test_above_4g),
		cmocka_unit_test(test_buffer_too_small),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
