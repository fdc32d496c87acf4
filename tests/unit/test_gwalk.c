/* Unit tests for hv/gwalk.c, the guest page-table walker. Page tables are built in a fake guest
 * RAM buffer; read_gpa fails outside it the way the partition's accessor does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "types.h"
#include "lib/error.h"
#include "hv/gwalk.h"

/* ---------------------------------------------------------------------------------------- */
/* architectural bits, spelled out independently of the code under test */

#define CR0_PE   0x1ULL
#define CR0_PG   0x80000000ULL
#define CR4_PSE  0x10ULL
#define CR4_PAE  0x20ULL
#define CR4_LA57 0x1000ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

#define P   0x001ULL /* present */
#define W   0x002ULL
#define U   0x004ULL
#define A   0x020ULL
#define D   0x040ULL
#define PS  0x080ULL
#define G   0x100ULL
#define PAT_LARGE 0x1000ULL /* bit 12 of a large-page entry */
#define NX  (1ULL << 63)
#define HIGH_IGNORED (0x7FFULL << 52) /* bits 62:52: ignored / protection key */

#define RAM_SIZE (8 * MiB)

/* ---------------------------------------------------------------------------------------- */
/* fake guest RAM */

struct fake_ram {
	u8 *mem;
	u64 size;
	u64 next_table; /* bump allocator for page tables */
	unsigned int reads;
};

static int fake_read_gpa(void *ctx, u64 gpa, void *buf, u64 len)
{
	struct fake_ram *ram = ctx;

	ram->reads++;
	if (gpa >= ram->size || len > ram->size - gpa)
		return BH_ERANGE;
	memcpy(buf, ram->mem + gpa, len);
	return 0;
}

static int setup(void **state)
{
	struct fake_ram *ram = calloc(1, sizeof(*ram));

	assert_non_null(ram);
	ram->size = RAM_SIZE;
	ram->mem = calloc(1, RAM_SIZE);
	assert_non_null(ram->mem);
	ram->next_table = 1 * MiB;
	*state = ram;
	return 0;
}

static int teardown(void **state)
{
	struct fake_ram *ram = *state;

	free(ram->mem);
	free(ram);
	return 0;
}

/* Little-endian stores, as the guest would have written its tables. */
static void put32(struct fake_ram *ram, u64 gpa, u32 v)
{
	assert_true(gpa + 4 <= ram->size);
	for (int i = 0; i < 4; i++)
		ram->mem[gpa + i] = (u8)(v >> (8 * i));
}

static void put64(struct fake_ram *ram, u64 gpa, u64 v)
{
	assert_true(gpa + 8 <= ram->size);
	for (int i = 0; i < 8; i++)
		ram->mem[gpa + i] = (u8)(v >> (8 * i));
}

static u64 get64(struct fake_ram *ram, u64 gpa)
{
	u64 v = 0;

	for (int i = 0; i < 8; i++)
		v |= (u64)ram->mem[gpa + i] << (8 * i);
	return v;
}

static u64 new_table(struct fake_ram *ram)
{
	u64 t = ram->next_table;

	ram->next_table += PAGE_SIZE;
	assert_true(ram->next_table <= ram->size);
	return t;
}

static struct gwalk_ctx ctx(struct fake_ram *ram, u64 cr0, u64 cr3, u64 cr4, u64 efer)
{
	struct gwalk_ctx g = { cr0, cr3, cr4, efer, fake_read_gpa, ram };

	return g;
}

static struct gwalk_ctx long_mode(struct fake_ram *ram, u64 cr3)
{
	return ctx(ram, CR0_PE | CR0_PG, cr3, CR4_PAE, EFER_LME | EFER_LMA);
}

static void expect_gpa(const struct gwalk_ctx *g, u64 gva, u64 want)
{
	u64 gpa = 0xdeadbeef;
	int err = gwalk_translate(g, gva, &gpa);

	if (err)
		fail_msg("gva %#llx: %s", (unsigned long long)gva, bh_strerror(err));
	if (gpa != want)
		fail_msg("gva %#llx: gpa %#llx, expected %#llx", (unsigned long long)gva,
			 (unsigned long long)gpa, (unsigned long long)want);
}

static void expect_err(const struct gwalk_ctx *g, u64 gva, int want)
{
	u64 gpa = 0xdeadbeef;
	int err = gwalk_translate(g, gva, &gpa);

	if (err != want)
		fail_msg("gva %#llx: %s, expected %s", (unsigned long long)gva, bh_strerror(err),
			 bh_strerror(want));
	assert_int_equal(gpa, 0xdeadbeef); /* untouched on failure */
}

/* 8-byte-entry tables (PAE, 4-level): the gpa of the entry for gva at `level` (3 = PML4,
 * 2 = PDPT, 1 = PD, 0 = PT) under `root`, creating the tables on the way with P|W|U. */
static u64 entry_at(struct fake_ram *ram, u64 root, u64 gva, int top, int level)
{
	u64 table = root;

	for (int l = top; ; l--) {
		u64 slot = table + ((gva >> (12 + 9 * l)) & 511) * 8;
		u64 e;

		if (l == level)
			return slot;
		e = get64(ram, slot);
		if (!(e & P)) {
			e = new_table(ram) | P | W | U;
			put64(ram, slot, e);
		}
		table = e & 0x000FFFFFFFFFF000ULL;
	}
}

static u64 map4(struct fake_ram *ram, u64 root, u64 gva, int level, u64 entry)
{
	u64 slot = entry_at(ram, root, gva, 3, level);

	put64(ram, slot, entry);
	return slot;
}

/* ---------------------------------------------------------------------------------------- */
/* paging off */

static void test_paging_off(void **state)
{
	struct fake_ram *ram = *state;
	struct gwalk_ctx g = ctx(ram, CR0_PE, 0x1000, CR4_PAE | CR4_PSE, 0);

	expect_gpa(&g, 0x12345678, 0x12345678);
	expect_gpa(&g, 0xffffffff12345678ULL, 0x12345678); /* 32-bit linear addresses */
	expect_gpa(&g, 0xfee00000, 0xfee00000);
	g.cr0 = 0; /* real mode */
	expect_gpa(&g, 0xb8000, 0xb8000);
	assert_int_equal(ram->reads, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* 32-bit paging */

static void test_32bit_4k(void **state)
{
	struct fake_ram *ram = *state;
	/* CR3 low bits (PWT, PCD) are not part of the address */
	struct gwalk_ctx g = ctx(ram, CR0_PE | CR0_PG, 0x1000 | 0x18, 0, 0);

	put32(ram, 0x1000 + 0x300 * 4, 0x2000 | P | W | A);             /* 0xC0000000 */
	put32(ram, 0x2000 + 0x123 * 4, 0x345000 | P | A | D | G | 0xE00); /* +0x123000 */
	expect_gpa(&g, 0xC0123456, 0x345456);
	expect_gpa(&g, 0xC0123000, 0x345000);
	expect_gpa(&g, 0xC0123FFF, 0x345FFF);
	expect_gpa(&g, 0x7C0123456ULL, 0x345456); /* bits above 31 are not part of the address */
	/* the top of the address space */
	put32(ram, 0x1000 + 0x3FF * 4, 0x3000 | P);
	put32(ram, 0x3000 + 0x3FF * 4, 0xFFFFF000 | P);
	expect_gpa(&g, 0xFFFFFFFF, 0xFFFFFFFF);
}

static void test_32bit_4m(void **state)
{
	struct fake_ram *ram = *state;
	struct gwalk_ctx g = ctx(ram, CR0_PE | CR0_PG, 0x1000, CR4_PSE, 0);

	put32(ram, 0x1000 + 0x201 * 4, 0x00C00000 | PS | P | A | D); /* 0x80400000 */
	expect_gpa(&g, 0x80654321, 0xE54321);
	expect_gpa(&g, 0x807FFFFF, 0xFFFFFF);
	/* PAT (bit 12) is not an address bit of a 4 MiB page */
	put32(ram, 0x1000 + 0x202 * 4, 0xFFC00000 | PAT_LARGE | PS | P);
	expect_gpa(&g, 0x80812345, 0xFFC12345);
	/* PSE-36: PDE bits 20:13 are physical bits 39:32 */
	put32(ram, 0x1000 + 0x203 * 4, 0x00400000 | (0xAB << 13) | PS | P);
	expect_gpa(&g, 0x80C00001, 0xAB00400001ULL);
}

/* Without CR4.PSE the PS bit means nothing: the PDE points to a page table. */
static void test_32bit_ps_ignored_without_pse(void **state)
{
	struct fake_ram *ram = *state;
	struct gwalk_ctx g = ctx(ram, CR0_PE | CR0_PG, 0x1000, 0, 0);

	put32(ram, 0x1000 + 0x001 * 4, 0x00400000 | PS | P);
	put32(ram, 0x00400000 + 0x005 * 4, 0x7000 | P);
	expect_gpa(&g, 0x00405ABC, 0x7ABC);
	g.cr4 = CR4_PSE;
	expect_gpa(&g, 0x00405ABC, 0x00405ABC);
}

static void test_32bit_not_present(void **state)
{
	struct fake_ram *ram = *state;
	struct gwalk_ctx g = ctx(ram, CR0_PE | CR0_PG, 0x1000, CR4_PSE, 0);

	put32(ram, 0x1000 + 0x000 * 4, 0x2000 | W | U | A); /* everything but P */
	expect_err(&g, 0x00000123, BH_ENOENT);
	put32(ram, 0x1000 + 0x001 * 4, 0x00800000 | PS | W); /* a 4 MiB page without P */
	expect_err(&g, 0x00400123, BH_ENOENT);
	put32(ram, 0x1000 + 0x002 * 4, 0x3000 | P);
	put32(ram, 0x3000 + 0x004 * 4, 0x9000 | W | D); /* PTE without P */
	expect_err(&g, 0x00804123, BH_ENOENT);
	expect_err(&g, 0x00805123, BH_ENOENT);          /* empty PTE */
	expect_err(&g, 0xF0000000, BH_ENOENT);          /* empty PDE */
}

static void test_32bit_outside_ram(void **state)
{
	struct fake_ram *ram = *state;
	struct gwalk_ctx g = ctx(ram, CR0_PE | CR0_PG, 0xFFFF0000, 0, 0);

	expect_err(&g, 0x1000, BH_ERANGE); /* the page directory */
	g.cr3 = 0x1000;
	put32(ram, 0x1000, 0xFFFFF000 | P);
	expect_err(&g, 0x1000, BH_ERANGE); /* the page table */
	/* a page outside RAM is still a translation: MMIO lives there */
	put32(ram, 0x1000 + 4, 0x2000 | P);
	put32(ram, 0x2000, 0xFEE00000 | P);
	expect_gpa(&g, 0x400010, 0xFEE00010);
}

/* ---------------------------------------------------------------------------------------- */
/* PAE paging */

#define PAE_CR3 0x3020ULL /* the PDPT needs only 32-byte alignment */

static struct gwalk_ctx pae(struct fake_ram *ram)
{
	return ctx(ram, CR0_PE | CR0_PG, PAE_CR3 | 0x18, CR4_PAE | CR4_PSE, EFER_LME);
}

static void test_pae_4k_and_2m(void **state)
{
	struct fake_ram *ram = *state;
	struct gwalk_ctx g = pae(ram);

	/* PDPTE 3 -> PD -> PT; a page above 4 GiB, NX and ignored high bits set */
	put64(ram, PAE_CR3 + 3 * 8, 0x4000 | P);
	put64(ram, 0x4000 + 1 * 8, 0x5000 | P | W | A);
	put64(ram, 0x5000 + 0x34 * 8, 0x123456000ULL | NX | HIGH_IGNORED | P | A | D);
	expect_gpa(&g, 0xC0234567, 0x123456567ULL);
	expect_gpa(&g, 0x3C0234567ULL, 0x123456567ULL); /* linear addresses are 32 bits */
	/* PDPTE 0 -> PD -> 2 MiB page with PAT set */
	put64(ram, PAE_CR3 + 0 * 8, 0x6000 | P);
	put64(ram, 0x6000 + 3 * 8, 0xFFFFE00000ULL | PAT_LARGE | NX | PS | P);
	expect_gpa(&g, 0x00654321, 0xFFFFE54321ULL);
	expect_gpa(&g, 0x007FFFFF, 0xFFFFFFFFFFULL);
	/* the top bit of the 52-bit physical address space */
	put64(ram, 0x6000 + 4 * 8, 0x000FFFFFFFE00000ULL | PS | P);
	expect_gpa(&g, 0x00800000, 0x000FFFFFFFE00000ULL);
}

static void test_pae_not_present(void **state)
{
	struct fake_ram *ram = *state;
	struct gwalk_ctx g = pae(ram);

	put64(ram, PAE_CR3 + 1 * 8, 0x4000); /* PDPTE without P */
	expect_err(&g, 0x40000000, BH_ENOENT);
	put64(ram, PAE_CR3 + 2 * 8, 0x5000 | P);
	put64(ram, 0x5000 + 0 * 8, 0x200000 | PS | W); /* 2 MiB page without P */
	expect_err(&g, 0x80000000, BH_ENOENT);
	put64(ram, 0x5000 + 1 * 8, 0x6000 | P);
	put64(ram, 0x6000 + 7 * 8, 0x9000 | NX); /* PTE without P */
	expect_err(&g, 0x80207000, BH_ENOENT);
	expect_err(&g, 0x80208000, BH_ENOENT); /* empty PTE */
}

static void test_pae_outside_ram(void **state)
{
	struct fake_ram *ram = *state;
	struct gwalk_ctx g = pae(ram);

	g.cr3 = 0xFFFFFFE0;
	expect_err(&g, 0, BH_ERANGE);
	g.cr3 = PAE_CR3;
	put64(ram, PAE_CR3, 0x100000000ULL | P);
	expect_err(&g, 0, BH_ERANGE);
	put64(ram, PAE_CR3, 0x4000 | P);
	put64(ram, 0x4000, 0x7FFFFFF000ULL | P);
	expect_err(&g, 0, BH_ERANGE);
}

/* ---------------------------------------------------------------------------------------- */
/* 4-level paging */

static void test_long_4k(void **state)
{
	struct fake_ram *ram = *state;
	u64 root = new_table(ram);
	/* CR3 bits 11:0 hold a PCID (or PWT/PCD): not part of the address */
	struct gwalk_ctx g = long_mode(ram, root | 0xABC);

	map4(ram, root, 0x00007F1234567000ULL, 0, 0x000FFFFFFFFFF000ULL | NX | HIGH_IGNORED | P);
	expect_gpa(&g, 0x00007F123456789AULL, 0x000FFFFFFFFFF89AULL);
	map4(ram, root, 0xFFFF800012345000ULL, 0, 0x9000 | P | W | A | D | G);
	expect_gpa(&g, 0xFFFF800012345678ULL, 0x9678);
	map4(ram, root, 0xFFFFFFFFFFFFF000ULL, 0, 0xA000 | P);
	expect_gpa(&g, 0xFFFFFFFFFFFFFFFFULL, 0xAFFF);
	map4(ram, root, 0, 0, 0xB000 | P);
	expect_gpa(&g, 0, 0xB000);
	/* with LAM, CR3 bits 62:61 are control bits, not address bits */
	g.cr3 = root | (3ULL << 61);
	expect_gpa(&g, 0, 0xB000);
}

static void test_long_2m_and_1g(void **state)
{
	struct fake_ram *ram = *state;
	u64 root = new_table(ram);
	struct gwalk_ctx g = long_mode(ram, root);

	map4(ram, root, 0x40200000ULL, 1, 0x12345600000ULL | PAT_LARGE | NX | PS | P);
	expect_gpa(&g, 0x40254321ULL, 0x12345654321ULL);
	expect_gpa(&g, 0x403FFFFFULL, 0x123457FFFFFULL);
	map4(ram, root, 0xFFFFFFFF80000000ULL, 2, 0x7FC0000000ULL | PAT_LARGE | PS | P | G);
	expect_gpa(&g, 0xFFFFFFFF81234567ULL, 0x7FC1234567ULL);
	expect_gpa(&g, 0xFFFFFFFFBFFFFFFFULL, 0x7FFFFFFFFFULL);
	map4(ram, root, 0x0000000080000000ULL, 2, 0x000FFFFFC0000000ULL | HIGH_IGNORED | PS | P);
	expect_gpa(&g, 0x00000000BFFFFFFFULL, 0x000FFFFFFFFFFFFFULL);
}

static void test_long_not_present(void **state)
{
	struct fake_ram *ram = *state;
	u64 root = new_table(ram);
	struct gwalk_ctx g = long_mode(ram, root);
	const u64 gva = 0x00001234567FF000ULL;

	map4(ram, root, gva, 0, 0x5000 | P);
	expect_gpa(&g, gva + 0x10, 0x5010);
	/* clear P at each level in turn, keeping the rest of the entry */
	for (int level = 0; level <= 3; level++) {
		u64 slot = entry_at(ram, root, gva, 3, level);
		u64 e = get64(ram, slot);

		put64(ram, slot, e & ~P);
		expect_err(&g, gva + 0x10, BH_ENOENT);
		put64(ram, slot, e);
		expect_gpa(&g, gva + 0x10, 0x5010);
	}
	/* large pages without P */
	map4(ram, root, 0x40000000ULL, 2, 0x40000000ULL | PS);
	expect_err(&g, 0x40000000ULL, BH_ENOENT);
	map4(ram, root, 0x80000000ULL, 1, 0x200000ULL | PS | W);
	expect_err(&g, 0x80000000ULL, BH_ENOENT);
	/* empty entries below a present one */
	expect_err(&g, 0x80200000ULL, BH_ENOENT);
	expect_err(&g, 0x00007FFFFFFFF000ULL, BH_ENOENT);
}

/* PS is reserved in a PML4E: the CPU would fault, so no translation. */
static void test_long_ps_in_pml4e(void **state)
{
	struct fake_ram *ram = *state;
	u64 root = new_table(ram);
	struct gwalk_ctx g = long_mode(ram, root);

	put64(ram, root, 0x2000 | PS | P);
	expect_err(&g, 0x1000, BH_ENOENT);
}

static void test_long_non_canonical(void **state)
{
	struct fake_ram *ram = *state;
	u64 root = new_table(ram);
	struct gwalk_ctx g = long_mode(ram, root);

	map4(ram, root, 0x00007FFFFFFFF000ULL, 0, 0x5000 | P);
	map4(ram, root, 0xFFFF800000000000ULL, 0, 0x6000 | P);
	expect_gpa(&g, 0x00007FFFFFFFFFFFULL, 0x5FFF);
	expect_gpa(&g, 0xFFFF800000000000ULL, 0x6000);
	ram->reads = 0;
	expect_err(&g, 0x0000800000000000ULL, BH_EINVAL);
	expect_err(&g, 0xFFFF7FFFFFFFFFFFULL, BH_EINVAL);
	expect_err(&g, 0x1234000000000000ULL, BH_EINVAL);
	expect_err(&g, 0x8000000000000000ULL, BH_EINVAL);
	expect_err(&g, 0x7FFFFFFFFFFFFFFFULL, BH_EINVAL);
	assert_int_equal(ram->reads, 0); /* rejected before touching any table */
}

static void test_long_unsupported_and_inconsistent(void **state)
{
	struct fake_ram *ram = *state;
	u64 root = new_table(ram);
	struct gwalk_ctx g = long_mode(ram, root);

	map4(ram, root, 0x1000, 0, 0x5000 | P);
	g.cr4 |= CR4_LA57;
	expect_err(&g, 0x1000, BH_ENOTSUP);
	g.cr4 = 0; /* LMA without PAE cannot happen */
	expect_err(&g, 0x1000, BH_EINVAL);
	/* LMA with paging off cannot happen either; nothing is truncated then */
	g = long_mode(ram, root);
	g.cr0 = CR0_PE;
	expect_gpa(&g, 0x123456789ULL, 0x123456789ULL);
}

static void test_long_outside_ram(void **state)
{
	struct fake_ram *ram = *state;
	u64 root = new_table(ram);
	struct gwalk_ctx g = long_mode(ram, RAM_SIZE);
	u64 slot;

	expect_err(&g, 0x1000, BH_ERANGE); /* the PML4 itself */
	g.cr3 = 0x000FFFFFFFFFF000ULL;
	expect_err(&g, 0x1000, BH_ERANGE);
	g.cr3 = root;
	for (int level = 3; level >= 1; level--) {
		/* this level's entry points outside RAM */
		slot = entry_at(ram, root, 0x1000, 3, level);
		put64(ram, slot, (RAM_SIZE + 0x10000000ULL * level) | P);
		expect_err(&g, 0x1000, BH_ERANGE);
		put64(ram, slot, 0);
	}
	/* a table in the last page of RAM, using its last entry, is fine */
	put64(ram, root + 511 * 8, (RAM_SIZE - PAGE_SIZE) | P);
	put64(ram, RAM_SIZE - 8, 0x40000000ULL | PS | P);
	expect_gpa(&g, 0xFFFFFFFFC0000123ULL, 0x40000123ULL);
	/* the table one page further starts just past the end */
	put64(ram, root + 511 * 8, RAM_SIZE | P);
	expect_err(&g, 0xFFFFFFFFC0000123ULL, BH_ERANGE);
}

static void test_bad_arguments(void **state)
{
	struct fake_ram *ram = *state;
	struct gwalk_ctx g = long_mode(ram, 0x1000);
	u64 gpa;
	u8 buf[4];

	assert_int_equal(gwalk_translate(NULL, 0, &gpa), BH_EINVAL);
	assert_int_equal(gwalk_translate(&g, 0, NULL), BH_EINVAL);
	assert_int_equal(gwalk_read(NULL, 0, buf, sizeof(buf)), BH_EINVAL);
	assert_int_equal(gwalk_read(&g, 0, NULL, 4), BH_EINVAL);
	g.read_gpa = NULL;
	assert_int_equal(gwalk_translate(&g, 0, &gpa), BH_EINVAL);
	assert_int_equal(gwalk_read(&g, 0, buf, sizeof(buf)), BH_EINVAL);
}

/* ---------------------------------------------------------------------------------------- */
/* gwalk_read */

static void fill_page(struct fake_ram *ram, u64 gpa, u8 seed)
{
	for (u64 i = 0; i < PAGE_SIZE; i++)
		ram->mem[gpa + i] = (u8)(seed + i * 7);
}

static void test_read_crosses_pages(void **state)
{
	struct fake_ram *ram = *state;
	u64 root = new_table(ram);
	struct gwalk_ctx g = long_mode(ram, root);
	const u64 gva = 0xFFFF800000400000ULL;
	u8 buf[PAGE_SIZE + 16], want[sizeof(buf)];

	/* three consecutive virtual pages on scattered, descending physical pages */
	map4(ram, root, gva, 0, 0x30000 | P);
	map4(ram, root, gva + PAGE_SIZE, 0, 0x20000 | P);
	map4(ram, root, gva + 2 * PAGE_SIZE, 0, 0x50000 | P);
	fill_page(ram, 0x30000, 1);
	fill_page(ram, 0x20000, 2);
	fill_page(ram, 0x50000, 3);

	assert_int_equal(gwalk_read(&g, gva + PAGE_SIZE - 4, buf, 8), 0);
	assert_memory_equal(buf, ram->mem + 0x30000 + PAGE_SIZE - 4, 4);
	assert_memory_equal(buf + 4, ram->mem + 0x20000, 4);

	memcpy(want, ram->mem + 0x30000 + PAGE_SIZE - 8, 8);
	memcpy(want + 8, ram->mem + 0x20000, PAGE_SIZE);
	memcpy(want + 8 + PAGE_SIZE, ram->mem + 0x50000, 8);
	assert_int_equal(gwalk_read(&g, gva + PAGE_SIZE - 8, buf, sizeof(buf)), 0); /* 3 pages */
	assert_memory_equal(buf, want, sizeof(buf));
	/* a page further on, the read runs into the unmapped fourth page */
	assert_int_equal(gwalk_read(&g, gva + 2 * PAGE_SIZE - 8, buf, sizeof(buf)), BH_ENOENT);

	/* inside one page; a whole page; nothing */
	assert_int_equal(gwalk_read(&g, gva + 2 * PAGE_SIZE + 100, buf, 15), 0);
	assert_memory_equal(buf, ram->mem + 0x50000 + 100, 15);
	assert_int_equal(gwalk_read(&g, gva, buf, PAGE_SIZE), 0);
	assert_memory_equal(buf, ram->mem + 0x30000, PAGE_SIZE);
	assert_int_equal(gwalk_read(&g, gva, NULL, 0), 0);
}

static void test_read_into_unmapped_page(void **state)
{
	struct fake_ram *ram = *state;
	u64 root = new_table(ram);
	struct gwalk_ctx g = long_mode(ram, root);
	const u64 gva = 0x7000;
	u8 buf[16];

	map4(ram, root, gva, 0, 0x30000 | P);
	fill_page(ram, 0x30000, 9);
	memset(buf, 0, sizeof(buf));
	/* an instruction fetch of 15 bytes from 5 bytes before the end of a page */
	assert_int_equal(gwalk_read(&g, gva + PAGE_SIZE - 5, buf, 15), BH_ENOENT);
	assert_memory_equal(buf, ram->mem + 0x30000 + PAGE_SIZE - 5, 5); /* the part before */
	/* the next page mapped outside RAM */
	map4(ram, root, gva + PAGE_SIZE, 0, (RAM_SIZE + PAGE_SIZE) | P);
	assert_int_equal(gwalk_read(&g, gva + PAGE_SIZE - 5, buf, 15), BH_ERANGE);
	/* into the non-canonical hole */
	map4(ram, root, 0x00007FFFFFFFF000ULL, 0, 0x30000 | P);
	assert_int_equal(gwalk_read(&g, 0x00007FFFFFFFFFF8ULL, buf, 15), BH_EINVAL);
	assert_int_equal(gwalk_read(&g, 0x00007FFFFFFFFFF8ULL, buf, 8), 0);
}

static void test_read_32bit_modes(void **state)
{
	struct fake_ram *ram = *state;
	struct gwalk_ctx g = ctx(ram, CR0_PE | CR0_PG, 0x1000, CR4_PSE, 0);
	u8 buf[8];

	/* across two 4 MiB pages mapped the wrong way round */
	put32(ram, 0x1000 + 0 * 4, 0x00400000 | PS | P);
	put32(ram, 0x1000 + 1 * 4, 0x00000000 | PS | P);
	ram->mem[0x007FFFFE] = 0x11;
	ram->mem[0x007FFFFF] = 0x22;
	ram->mem[0x00000000] = 0x33;
	ram->mem[0x00000001] = 0x44;
	assert_int_equal(gwalk_read(&g, 0x003FFFFE, buf, 4), 0);
	assert_memory_equal(buf, "\x11\x22\x33\x44", 4);
	/* linear addresses wrap at 4 GiB outside long mode */
	put32(ram, 0x1000 + 0x3FF * 4, 0x2000 | P);
	put32(ram, 0x2000 + 0x3FF * 4, 0x00400000 | P);
	ram->mem[0x00400FFF] = 0x55;
	ram->mem[0x00400000] = 0x88; /* gva 0 is in the first 4 MiB page */
	ram->mem[0x00400001] = 0x99;
	assert_int_equal(gwalk_read(&g, 0xFFFFFFFF, buf, 3), 0);
	assert_memory_equal(buf, "\x55\x88\x99", 3);
	/* paging off: straight through, and the same wrap */
	g.cr0 = CR0_PE;
	ram->mem[0x1FFF] = 0x66;
	ram->mem[0x2000] = 0x77;
	assert_int_equal(gwalk_read(&g, 0x1FFF, buf, 2), 0);
	assert_memory_equal(buf, "\x66\x77", 2);
	assert_int_equal(gwalk_read(&g, 0xFFFFFFFF, buf, 2), BH_ERANGE);
}

/* ---------------------------------------------------------------------------------------- */
/* random tables against a reference written straight from the SDM's tables */

static u64 rng_state;

static u64 rng(void)
{
	u64 z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* bits hi..lo of x, shifted down */
static u64 bits(u64 x, unsigned int hi, unsigned int lo)
{
	return (x >> lo) & ((2ULL << (hi - lo)) - 1);
}

static int ref_read(struct fake_ram *ram, u64 gpa, unsigned int size, u64 *v)
{
	if (gpa + size > ram->size)
		return BH_ERANGE;
	*v = 0;
	for (unsigned int i = 0; i < size; i++)
		*v |= (u64)ram->mem[gpa + i] << (8 * i);
	return 0;
}

#define REF_READ(gpa, size, v)                                                  \
	do {                                                                    \
		int e_ = ref_read(ram, (gpa), (size), (v));                     \
		if (e_)                                                         \
			return e_;                                              \
	} while (0)

static int ref_4level(struct fake_ram *ram, u64 cr3, u64 va, u64 *pa)
{
	u64 pml4e, pdpte, pde, pte;

	if (bits(va, 63, 47) != 0 && bits(va, 63, 47) != 0x1FFFF)
		return BH_EINVAL;
	REF_READ((bits(cr3, 51, 12) << 12) + bits(va, 47, 39) * 8, 8, &pml4e);
	if (!(pml4e & 1) || (pml4e & 0x80))
		return BH_ENOENT;
	REF_READ((bits(pml4e, 51, 12) << 12) + bits(va, 38, 30) * 8, 8, &pdpte);
	if (!(pdpte & 1))
		return BH_ENOENT;
	if (pdpte & 0x80) {
		*pa = (bits(pdpte, 51, 30) << 30) | bits(va, 29, 0);
		return 0;
	}
	REF_READ((bits(pdpte, 51, 12) << 12) + bits(va, 29, 21) * 8, 8, &pde);
	if (!(pde & 1))
		return BH_ENOENT;
	if (pde & 0x80) {
		*pa = (bits(pde, 51, 21) << 21) | bits(va, 20, 0);
		return 0;
	}
	REF_READ((bits(pde, 51, 12) << 12) + bits(va, 20, 12) * 8, 8, &pte);
	if (!(pte & 1))
		return BH_ENOENT;
	*pa = (bits(pte, 51, 12) << 12) | bits(va, 11, 0);
	return 0;
}

static int ref_pae(struct fake_ram *ram, u64 cr3, u64 va, u64 *pa)
{
	u64 pdpte, pde, pte;

	REF_READ((bits(cr3, 31, 5) << 5) + bits(va, 31, 30) * 8, 8, &pdpte);
	if (!(pdpte & 1))
		return BH_ENOENT;
	REF_READ((bits(pdpte, 51, 12) << 12) + bits(va, 29, 21) * 8, 8, &pde);
	if (!(pde & 1))
		return BH_ENOENT;
	if (pde & 0x80) {
		*pa = (bits(pde, 51, 21) << 21) | bits(va, 20, 0);
		return 0;
	}
	REF_READ((bits(pde, 51, 12) << 12) + bits(va, 20, 12) * 8, 8, &pte);
	if (!(pte & 1))
		return BH_ENOENT;
	*pa = (bits(pte, 51, 12) << 12) | bits(va, 11, 0);
	return 0;
}

static int ref_32bit(struct fake_ram *ram, u64 cr3, bool pse, u64 va, u64 *pa)
{
	u64 pde, pte;

	REF_READ((bits(cr3, 31, 12) << 12) + bits(va, 31, 22) * 4, 4, &pde);
	if (!(pde & 1))
		return BH_ENOENT;
	if (pse && (pde & 0x80)) {
		*pa = (bits(pde, 20, 13) << 32) | (bits(pde, 31, 22) << 22) | bits(va, 21, 0);
		return 0;
	}
	REF_READ((bits(pde, 31, 12) << 12) + bits(va, 21, 12) * 4, 4, &pte);
	if (!(pte & 1))
		return BH_ENOENT;
	*pa = (bits(pte, 31, 12) << 12) | bits(va, 11, 0);
	return 0;
}

/* An entry that mostly points inside the first 64 KiB of RAM, with random flag and high bits. */
static u64 random_entry(void)
{
	u64 r = rng();
	u64 addr = (rng() % 16) << 12;

	if (r % 16 == 0)
		addr = rng() & 0x000FFFFFFFFFF000ULL; /* anywhere, mostly outside RAM */
	return addr | (r & 0xFFF0000000000FFFULL) | ((r >> 20) % 8 ? P : 0);
}

static void test_random_tables(void **state)
{
	struct fake_ram *ram = *state;
	unsigned int translated = 0;

	rng_state = 7;
	for (unsigned int round = 0; round < 200; round++) {
		for (u64 a = 0; a < 16 * PAGE_SIZE; a += 8)
			put64(ram, a, random_entry());
		for (unsigned int i = 0; i < 500; i++) {
			u64 cr3 = rng() % (20 * PAGE_SIZE);
			u64 va = rng();
			u64 got = 0, want = 0;
			int e_got, e_want;
			struct gwalk_ctx g;

			if (i % 4 == 0) /* mostly canonical */
				va = (va & (1ULL << 47)) ? va | 0xFFFF000000000000ULL
							 : va & 0x0000FFFFFFFFFFFFULL;
			switch (i % 3) {
			case 0:
				g = long_mode(ram, cr3);
				e_got = gwalk_translate(&g, va, &got);
				e_want = ref_4level(ram, cr3, va, &want);
				break;
			case 1:
				g = ctx(ram, CR0_PE | CR0_PG, cr3, CR4_PAE, 0);
				e_got = gwalk_translate(&g, va, &got);
				e_want = ref_pae(ram, cr3, va, &want);
				break;
			default:
				g = ctx(ram, CR0_PE | CR0_PG, cr3, (rng() & 1) ? CR4_PSE : 0, 0);
				e_got = gwalk_translate(&g, va, &got);
				e_want = ref_32bit(ram, cr3, g.cr4 & CR4_PSE, va, &want);
				break;
			}
			if (e_got != e_want || got != want)
				fail_msg("mode %u cr3 %#llx va %#llx: got %s %#llx, want %s %#llx", i % 3,
					 (unsigned long long)cr3, (unsigned long long)va,
					 bh_strerror(e_got), (unsigned long long)got,
					 bh_strerror(e_want), (unsigned long long)want);
			translated += e_got == 0;
		}
	}
	assert_true(translated > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_paging_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_32bit_4k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_32bit_4m, setup, teardown),
		cmocka_unit_test_setup_teardown(test_32bit_ps_ignored_without_pse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_32bit_not_present, setup, teardown),
		cmocka_unit_test_setup_teardown(test_32bit_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pae_4k_and_2m, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pae_not_present, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pae_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_4k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_2m_and_1g, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_not_present, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_ps_in_pml4e, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_non_canonical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_unsupported_and_inconsistent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_long_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_crosses_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_into_unmapped_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_32bit_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_tables, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
