/* Unit tests for hv/pmm.c, the physical memory manager. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "types.h"
#include "lib/error.h"
#include "hv/pmm.h"

#define U64_MAX (~(u64)0)
#define TOP_PAGE (U64_MAX - PAGE_SIZE + 1) /* base of the last page of the 64-bit space */
#define NONE PMM_KIND_COUNT

/* ---------------------------------------------------------------------------------------- */
/* helpers */

static u64 rng_state;

static void rng_seed(u64 seed)
{
	rng_state = seed;
}

/* splitmix64: small, fixed-seed, good enough for test sequences */
static u64 rng(void)
{
	u64 z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static u64 rng_below(u64 n)
{
	return n ? rng() % n : 0;
}

static void dump(const struct pmm *p)
{
	for (unsigned int i = 0; i < p->count; i++)
		print_message("  [%2u] %016llx-%016llx %s\n", i,
			      (unsigned long long)p->ranges[i].base,
			      (unsigned long long)(p->ranges[i].base + p->ranges[i].size),
			      pmm_kind_name(p->ranges[i].kind));
}

/* Sorted, non-overlapping, page-aligned, non-empty, non-wrapping, merged, valid kinds. */
static void check_invariants(const struct pmm *p)
{
	assert_true(p->count <= PMM_MAX_RANGES);
	for (unsigned int i = 0; i < p->count; i++) {
		const struct pmm_range *r = &p->ranges[i];

		assert_true((unsigned int)r->kind < PMM_KIND_COUNT);
		assert_true(r->size > 0);
		assert_true(IS_ALIGNED(r->base, PAGE_SIZE));
		assert_true(IS_ALIGNED(r->size, PAGE_SIZE));
		assert_true(r->base + r->size > r->base);
		if (i > 0) {
			const struct pmm_range *q = &p->ranges[i - 1];

			assert_true(q->base + q->size <= r->base);
			if (q->base + q->size == r->base && q->kind == r->kind) {
				dump(p);
				fail_msg("ranges %u and %u touch and are both %s", i - 1, i,
					 pmm_kind_name(r->kind));
			}
		}
	}
}

/* Sum of kinds equals the bytes the ranges describe. */
static u64 check_totals(const struct pmm *p)
{
	u64 described = 0, sum = 0;

	for (unsigned int i = 0; i < p->count; i++)
		described += p->ranges[i].size;
	for (int k = 0; k < PMM_KIND_COUNT; k++)
		sum += pmm_total(p, (enum pmm_kind)k);
	assert_true(sum == described);
	return described;
}

static void check(const struct pmm *p)
{
	check_invariants(p);
	check_totals(p);
}

struct exp_range {
	u64 base, end;
	enum pmm_kind kind;
};

static void expect_map(const struct pmm *p, const struct exp_range *e, unsigned int n)
{
	check(p);
	if (p->count != n) {
		dump(p);
		fail_msg("expected %u ranges, have %u", n, p->count);
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct pmm_range *r = &p->ranges[i];

		if (r->base != e[i].base || r->base + r->size != e[i].end || r->kind != e[i].kind) {
			dump(p);
			fail_msg("range %u: expected %llx-%llx %s", i, (unsigned long long)e[i].base,
				 (unsigned long long)e[i].end, pmm_kind_name(e[i].kind));
		}
	}
}

#define EXPECT_MAP(p, ...)                                                              \
	do {                                                                            \
		static const struct exp_range exp_[] = { __VA_ARGS__ };                 \
		expect_map((p), exp_, ARRAY_SIZE(exp_));                                \
	} while (0)

/* Field by field: struct pmm_range has padding, whose bytes mean nothing. */
static bool same_map(const struct pmm *a, const struct pmm *b)
{
	if (a->count != b->count)
		return false;
	for (unsigned int i = 0; i < a->count; i++) {
		const struct pmm_range *x = &a->ranges[i], *y = &b->ranges[i];

		if (x->base != y->base || x->size != y->size || x->kind != y->kind)
			return false;
	}
	return true;
}

static struct pmm *new_pmm(void)
{
	struct pmm *p = malloc(sizeof(*p));

	assert_non_null(p);
	memset(p, 0xA5, sizeof(*p)); /* pmm_init must not rely on zeroed memory */
	pmm_init(p);
	assert_int_equal(p->count, 0);
	return p;
}

static struct pmm *copy_pmm(const struct pmm *p)
{
	struct pmm *c = malloc(sizeof(*c));

	assert_non_null(c);
	memcpy(c, p, sizeof(*c));
	return c;
}

/* ---------------------------------------------------------------------------------------- */
/* basics */

static void test_empty(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();

	assert_int_equal(pmm_top(p), 0);
	assert_int_equal(pmm_kind_at(p, 0), NONE);
	assert_int_equal(pmm_kind_at(p, U64_MAX), NONE);
	for (int k = 0; k < PMM_KIND_COUNT; k++)
		assert_int_equal(pmm_total(p, (enum pmm_kind)k), 0);
	u64 out = 0;
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 0, 0, PMM_HV, &out), BH_ENOMEM);
	assert_int_equal(pmm_claim(p, 0, PAGE_SIZE, PMM_HV), BH_EBUSY);
	assert_int_equal(pmm_free(p, 0, PAGE_SIZE), BH_EINVAL);
	check(p);
	free(p);
}

static void test_kind_names(void **state)
{
	(void)state;
	const char *names[PMM_KIND_COUNT];

	for (int k = 0; k < PMM_KIND_COUNT; k++) {
		names[k] = pmm_kind_name((enum pmm_kind)k);
		assert_non_null(names[k]);
		assert_true(strlen(names[k]) > 0);
		for (int j = 0; j < k; j++)
			assert_string_not_equal(names[j], names[k]);
	}
	assert_string_equal(pmm_kind_name(PMM_FREE), "free");
	assert_non_null(pmm_kind_name(PMM_KIND_COUNT));
	assert_non_null(pmm_kind_name((enum pmm_kind)1000));
	assert_non_null(pmm_kind_name((enum pmm_kind)-1));
}

static void test_add_invalid(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();

	assert_int_equal(pmm_add(p, 0x1000, 0, PMM_FREE), BH_EINVAL);
	assert_int_equal(pmm_add(p, 0x1000, 0, PMM_FIRMWARE), BH_EINVAL);
	assert_int_equal(pmm_add(p, 0x1000, 0x1000, PMM_KIND_COUNT), BH_EINVAL);
	assert_int_equal(pmm_add(p, 0x1000, 0x1000, (enum pmm_kind)-1), BH_EINVAL);
	assert_int_equal(p->count, 0);
	free(p);
}

/* ---------------------------------------------------------------------------------------- */
/* precedence and rounding */

static void test_precedence(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();

	assert_int_equal(pmm_add(p, 0, 16 * MiB, PMM_FREE), 0);
	EXPECT_MAP(p, { 0, 16 * MiB, PMM_FREE });

	/* reserved over free splits it */
	assert_int_equal(pmm_add(p, 1 * MiB, 1 * MiB, PMM_FIRMWARE), 0);
	EXPECT_MAP(p, { 0, 1 * MiB, PMM_FREE }, { 1 * MiB, 2 * MiB, PMM_FIRMWARE },
		   { 2 * MiB, 16 * MiB, PMM_FREE });

	/* free does not override reserved */
	assert_int_equal(pmm_add(p, 0, 16 * MiB, PMM_FREE), 0);
	EXPECT_MAP(p, { 0, 1 * MiB, PMM_FREE }, { 1 * MiB, 2 * MiB, PMM_FIRMWARE },
		   { 2 * MiB, 16 * MiB, PMM_FREE });

	/* free fills undescribed parts around existing ranges, and merges */
	assert_int_equal(pmm_add(p, 0, 32 * MiB, PMM_FREE), 0);
	EXPECT_MAP(p, { 0, 1 * MiB, PMM_FREE }, { 1 * MiB, 2 * MiB, PMM_FIRMWARE },
		   { 2 * MiB, 32 * MiB, PMM_FREE });

	/* a non-free kind overrides another non-free kind (last one wins) */
	assert_int_equal(pmm_add(p, 1 * MiB + 4 * KiB, 8 * KiB, PMM_ACPI_NVS), 0);
	EXPECT_MAP(p, { 0, 1 * MiB, PMM_FREE }, { 1 * MiB, 1 * MiB + 4 * KiB, PMM_FIRMWARE },
		   { 1 * MiB + 4 * KiB, 1 * MiB + 12 * KiB, PMM_ACPI_NVS },
		   { 1 * MiB + 12 * KiB, 2 * MiB, PMM_FIRMWARE }, { 2 * MiB, 32 * MiB, PMM_FREE });

	/* overriding with the same kind changes nothing */
	assert_int_equal(pmm_add(p, 1 * MiB, 4 * KiB, PMM_FIRMWARE), 0);
	assert_int_equal(p->count, 5);

	/* one non-free range over several ranges of several kinds: they collapse into one */
	assert_int_equal(pmm_add(p, 512 * KiB, 2 * MiB, PMM_ACPI_RECLAIM), 0);
	EXPECT_MAP(p, { 0, 512 * KiB, PMM_FREE },
		   { 512 * KiB, 2 * MiB + 512 * KiB, PMM_ACPI_RECLAIM },
		   { 2 * MiB + 512 * KiB, 32 * MiB, PMM_FREE });

	/* a non-free range touching one of its kind merges with it, on both sides */
	assert_int_equal(pmm_add(p, 2 * MiB + 512 * KiB, 4 * KiB, PMM_ACPI_RECLAIM), 0);
	assert_int_equal(pmm_add(p, 508 * KiB, 4 * KiB, PMM_ACPI_RECLAIM), 0);
	EXPECT_MAP(p, { 0, 508 * KiB, PMM_FREE },
		   { 508 * KiB, 2 * MiB + 516 * KiB, PMM_ACPI_RECLAIM },
		   { 2 * MiB + 516 * KiB, 32 * MiB, PMM_FREE });

	/* non-free kinds may be described where nothing was */
	assert_int_equal(pmm_add(p, 64 * MiB, 4 * KiB, PMM_FIRMWARE), 0);
	assert_int_equal(pmm_add(p, 64 * MiB + 4 * KiB, 4 * KiB, PMM_FIRMWARE), 0);
	assert_int_equal(pmm_add(p, 64 * MiB - 4 * KiB, 4 * KiB, PMM_FIRMWARE), 0);
	assert_int_equal(pmm_kind_at(p, 64 * MiB - 4 * KiB), PMM_FIRMWARE);
	assert_int_equal(pmm_kind_at(p, 64 * MiB + 8 * KiB - 1), PMM_FIRMWARE);
	assert_int_equal(pmm_kind_at(p, 64 * MiB + 8 * KiB), NONE);
	assert_int_equal(pmm_kind_at(p, 48 * MiB), NONE);
	assert_int_equal(p->count, 4);
	assert_int_equal(pmm_top(p), 64 * MiB + 8 * KiB);

	/* free filling a hole between two free ranges joins them */
	assert_int_equal(pmm_add(p, 32 * MiB, 32 * MiB - 4 * KiB, PMM_FREE), 0);
	EXPECT_MAP(p, { 0, 508 * KiB, PMM_FREE },
		   { 508 * KiB, 2 * MiB + 516 * KiB, PMM_ACPI_RECLAIM },
		   { 2 * MiB + 516 * KiB, 64 * MiB - 4 * KiB, PMM_FREE },
		   { 64 * MiB - 4 * KiB, 64 * MiB + 8 * KiB, PMM_FIRMWARE });
	free(p);
}

static void test_rounding(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();

	/* free RAM shrinks to whole pages */
	assert_int_equal(pmm_add(p, 0x1001, 0xFFE, PMM_FREE), 0); /* inside one page */
	assert_int_equal(p->count, 0);
	assert_int_equal(pmm_add(p, 0x1800, 0x1000, PMM_FREE), 0); /* straddles, no whole page */
	assert_int_equal(p->count, 0);
	assert_int_equal(pmm_add(p, 0x800, 0x2000, PMM_FREE), 0);
	EXPECT_MAP(p, { 0x1000, 0x2000, PMM_FREE });
	assert_int_equal(pmm_add(p, 0x10000, 0x1FFF, PMM_FREE), 0);
	EXPECT_MAP(p, { 0x1000, 0x2000, PMM_FREE }, { 0x10000, 0x11000, PMM_FREE });
	assert_int_equal(pmm_add(p, 0x20001, 0x2FFF, PMM_FREE), 0);
	EXPECT_MAP(p, { 0x1000, 0x2000, PMM_FREE }, { 0x10000, 0x11000, PMM_FREE },
		   { 0x21000, 0x23000, PMM_FREE });

	/* any other kind widens to whole pages */
	assert_int_equal(pmm_add(p, 0x10FFF, 2, PMM_FIRMWARE), 0);
	EXPECT_MAP(p, { 0x1000, 0x2000, PMM_FREE }, { 0x10000, 0x12000, PMM_FIRMWARE },
		   { 0x21000, 0x23000, PMM_FREE });
	assert_int_equal(pmm_add(p, 0x21FFF, 1, PMM_ACPI_RECLAIM), 0);
	EXPECT_MAP(p, { 0x1000, 0x2000, PMM_FREE }, { 0x10000, 0x12000, PMM_FIRMWARE },
		   { 0x21000, 0x22000, PMM_ACPI_RECLAIM }, { 0x22000, 0x23000, PMM_FREE });
	assert_int_equal(pmm_add(p, 0x30000, 1, PMM_ACPI_NVS), 0);
	assert_int_equal(pmm_kind_at(p, 0x30FFF), PMM_ACPI_NVS);
	assert_int_equal(pmm_kind_at(p, 0x31000), NONE);
	assert_int_equal(pmm_total(p, PMM_ACPI_NVS), PAGE_SIZE);

	/* a free range whose rounded part is already described adds nothing */
	struct pmm *before = copy_pmm(p);
	assert_int_equal(pmm_add(p, 0x10100, 0x1F00, PMM_FREE), 0);
	assert_true(same_map(p, before));
	free(before);
	free(p);
}

static void test_top_of_address_space(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();

	/* base + size wraps, or ends exactly at 2^64 (not representable) */
	assert_int_equal(pmm_add(p, TOP_PAGE, PAGE_SIZE, PMM_FIRMWARE), BH_EINVAL);
	assert_int_equal(pmm_add(p, TOP_PAGE, PAGE_SIZE, PMM_FREE), BH_EINVAL);
	assert_int_equal(pmm_add(p, U64_MAX - 10, 100, PMM_FIRMWARE), BH_EINVAL);
	assert_int_equal(pmm_add(p, U64_MAX - 10, 100, PMM_FREE), BH_EINVAL);
	assert_int_equal(pmm_add(p, 1 * GiB, U64_MAX, PMM_FREE), BH_EINVAL);
	assert_int_equal(pmm_add(p, 1 * GiB, U64_MAX, PMM_FIRMWARE), BH_EINVAL);
	assert_int_equal(pmm_add(p, 1, U64_MAX, PMM_FREE), BH_EINVAL);
	/* widening would wrap: the end lies inside the last page */
	assert_int_equal(pmm_add(p, TOP_PAGE - PAGE_SIZE, PAGE_SIZE + 1, PMM_FIRMWARE), BH_EINVAL);
	assert_int_equal(pmm_add(p, U64_MAX - 1, 1, PMM_FIRMWARE), BH_EINVAL);
	assert_int_equal(p->count, 0);

	/* free RAM inside the last page shrinks to nothing */
	assert_int_equal(pmm_add(p, TOP_PAGE, PAGE_SIZE - 1, PMM_FREE), 0);
	assert_int_equal(pmm_add(p, U64_MAX - 100, 50, PMM_FREE), 0);
	assert_int_equal(p->count, 0);

	/* the page below the last one is fine, for both */
	assert_int_equal(pmm_add(p, TOP_PAGE - PAGE_SIZE, PAGE_SIZE, PMM_FIRMWARE), 0);
	assert_int_equal(pmm_add(p, TOP_PAGE - 3 * PAGE_SIZE, 2 * PAGE_SIZE + 4095, PMM_FREE), 0);
	assert_int_equal(pmm_add(p, 0, U64_MAX, PMM_FREE), 0); /* everything describable */
	EXPECT_MAP(p, { 0, TOP_PAGE - PAGE_SIZE, PMM_FREE },
		   { TOP_PAGE - PAGE_SIZE, TOP_PAGE, PMM_FIRMWARE });
	assert_true(pmm_top(p) == TOP_PAGE);
	assert_int_equal(pmm_kind_at(p, U64_MAX), NONE);
	assert_int_equal(pmm_kind_at(p, TOP_PAGE - 1), PMM_FIRMWARE);
	assert_true(pmm_total(p, PMM_FREE) == TOP_PAGE - PAGE_SIZE);

	/* claim, free, alloc near the top */
	assert_int_equal(pmm_claim(p, TOP_PAGE, PAGE_SIZE, PMM_HV), BH_EINVAL);
	assert_int_equal(pmm_claim(p, TOP_PAGE - 2 * PAGE_SIZE, 3 * PAGE_SIZE, PMM_HV), BH_EINVAL);
	assert_int_equal(pmm_claim(p, TOP_PAGE - 2 * PAGE_SIZE, 2 * PAGE_SIZE, PMM_HV), BH_EBUSY);
	assert_int_equal(pmm_claim(p, TOP_PAGE - 2 * PAGE_SIZE, PAGE_SIZE, PMM_HV), 0);
	assert_int_equal(pmm_free(p, TOP_PAGE - 2 * PAGE_SIZE, 3 * PAGE_SIZE), BH_EINVAL);
	assert_int_equal(pmm_free(p, TOP_PAGE - 2 * PAGE_SIZE, U64_MAX), BH_EINVAL);
	assert_int_equal(pmm_free(p, TOP_PAGE - 2 * PAGE_SIZE, 2 * PAGE_SIZE), BH_EINVAL);
	assert_int_equal(pmm_free(p, TOP_PAGE - 2 * PAGE_SIZE, PAGE_SIZE), 0);
	u64 out;
	assert_int_equal(pmm_alloc(p, U64_MAX, 0, 0, PMM_HV, &out), BH_ENOMEM);
	assert_int_equal(pmm_alloc(p, U64_MAX - PAGE_SIZE, 0, 0, PMM_HV, &out), BH_ENOMEM);
	/* all free RAM, [0, 2^64 - 8K), in one piece */
	struct pmm *all = copy_pmm(p);
	assert_int_equal(pmm_alloc(all, U64_MAX - 2 * PAGE_SIZE, 0, 0, PMM_PARTITION, &out), 0);
	assert_true(out == 0);
	assert_true(pmm_total(all, PMM_PARTITION) == TOP_PAGE - PAGE_SIZE);
	assert_int_equal(all->count, 2);
	free(all);
	assert_int_equal(pmm_alloc(p, 1, 0, 0, PMM_HV, &out), 0);
	assert_true(out == TOP_PAGE - 2 * PAGE_SIZE);
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 1ULL << 63, 0, PMM_PARTITION, &out), 0);
	assert_true(out == 1ULL << 63);
	check(p);
	free(p);
}

/* ---------------------------------------------------------------------------------------- */
/* realistic firmware maps */

/* UEFI memory types */
enum { RES, LC, LD, BC, BD, RC, RD, CONV, UNUS, ACPI_R, NVS_T, MMIO };

/* How a boot loader would hand UEFI types to the PMM after ExitBootServices. */
static enum pmm_kind uefi_kind(int type)
{
	switch (type) {
	case CONV: case BC: case BD: return PMM_FREE;
	case LC: case LD: return PMM_HV;
	case ACPI_R: return PMM_ACPI_RECLAIM;
	case NVS_T: return PMM_ACPI_NVS;
	default: return PMM_FIRMWARE;
	}
}

struct efi_entry {
	u64 base, pages;
	int type;
};

/* An OVMF-like map of a 2 GiB q35 guest: many small runtime/reserved/ACPI holes in the
 * middle of boot-services memory, which becomes free. */
static const struct efi_entry ovmf_map[] = {
	{ 0x0000000000000000, 0x9F, CONV },
	{ 0x000000000009F000, 0x1, BD },
	{ 0x0000000000100000, 0x700, CONV },
	{ 0x0000000000800000, 0x8, NVS_T },
	{ 0x0000000000808000, 0x3, CONV },
	{ 0x000000000080B000, 0x1, NVS_T },
	{ 0x000000000080C000, 0x5, BD },
	{ 0x0000000000811000, 0xEF, NVS_T },
	{ 0x0000000000900000, 0x100, BD },
	{ 0x0000000000A00000, 0x100, RES },
	{ 0x0000000000B00000, 0x5F00, CONV },
	{ 0x0000000006A00000, 0x400, LC },
	{ 0x0000000006E00000, 0x200, LD },
	{ 0x0000000007000000, 0x20, BD },
	{ 0x0000000007020000, 0x30000, CONV },
	{ 0x0000000037020000, 0x20, BC },
	{ 0x0000000037040000, 0x2000, BD },
	{ 0x0000000039040000, 0x4, RC },
	{ 0x0000000039044000, 0x10, BC },
	{ 0x0000000039054000, 0x2, RD },
	{ 0x0000000039056000, 0x7A, BD },
	{ 0x00000000390D0000, 0x3, RC },
	{ 0x00000000390D3000, 0x1, RD },
	{ 0x00000000390D4000, 0x3C, BC },
	{ 0x0000000039110000, 0x20, RD },
	{ 0x0000000039130000, 0x6, RC },
	{ 0x0000000039136000, 0x2CA, BD },
	{ 0x0000000039400000, 0x1, UNUS },
	{ 0x0000000039401000, 0x5FF, BD },
	{ 0x0000000039A00000, 0x4, ACPI_R },
	{ 0x0000000039A04000, 0x1, ACPI_R },
	{ 0x0000000039A05000, 0x2FB, BD },
	{ 0x0000000039D00000, 0x80, RD },
	{ 0x0000000039D80000, 0x80, RC },
	{ 0x0000000039E00000, 0x100, BC },
	{ 0x0000000039F00000, 0xE0, RES },
	{ 0x0000000039FE0000, 0x20, NVS_T },
	{ 0x000000003A000000, 0x46000, CONV },
	{ 0x00000000B0000000, 0x10000, RES },  /* PCIe ECAM */
	{ 0x00000000FFC00000, 0x400, MMIO },   /* flash */
	{ 0x0000000100000000, 0x40000, CONV },
};

static const struct exp_range ovmf_expected[] = {
	{ 0x0, 0xA0000, PMM_FREE },
	{ 0x100000, 0x800000, PMM_FREE },
	{ 0x800000, 0x808000, PMM_ACPI_NVS },
	{ 0x808000, 0x80B000, PMM_FREE },
	{ 0x80B000, 0x80C000, PMM_ACPI_NVS },
	{ 0x80C000, 0x811000, PMM_FREE },
	{ 0x811000, 0x900000, PMM_ACPI_NVS },
	{ 0x900000, 0xA00000, PMM_FREE },
	{ 0xA00000, 0xB00000, PMM_FIRMWARE },
	{ 0xB00000, 0x6A00000, PMM_FREE },
	{ 0x6A00000, 0x7000000, PMM_HV },
	{ 0x7000000, 0x39040000, PMM_FREE },
	{ 0x39040000, 0x39044000, PMM_FIRMWARE },
	{ 0x39044000, 0x39054000, PMM_FREE },
	{ 0x39054000, 0x39056000, PMM_FIRMWARE },
	{ 0x39056000, 0x390D0000, PMM_FREE },
	{ 0x390D0000, 0x390D4000, PMM_FIRMWARE },
	{ 0x390D4000, 0x39110000, PMM_FREE },
	{ 0x39110000, 0x39136000, PMM_FIRMWARE },
	{ 0x39136000, 0x39400000, PMM_FREE },
	{ 0x39400000, 0x39401000, PMM_FIRMWARE },
	{ 0x39401000, 0x39A00000, PMM_FREE },
	{ 0x39A00000, 0x39A05000, PMM_ACPI_RECLAIM },
	{ 0x39A05000, 0x39D00000, PMM_FREE },
	{ 0x39D00000, 0x39E00000, PMM_FIRMWARE },
	{ 0x39E00000, 0x39F00000, PMM_FREE },
	{ 0x39F00000, 0x39FE0000, PMM_FIRMWARE },
	{ 0x39FE0000, 0x3A000000, PMM_ACPI_NVS },
	{ 0x3A000000, 0x80000000, PMM_FREE },
	{ 0xB0000000, 0xC0000000, PMM_FIRMWARE },
	{ 0xFFC00000, 0x100000000, PMM_FIRMWARE },
	{ 0x100000000, 0x140000000, PMM_FREE },
};

static void add_ovmf(struct pmm *p, const unsigned int *order)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(ovmf_map); i++) {
		const struct efi_entry *e = &ovmf_map[order ? order[i] : i];

		assert_int_equal(pmm_add(p, e->base, e->pages * PAGE_SIZE, uefi_kind(e->type)), 0);
		check(p);
	}
}

static void shuffle(unsigned int *a, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		a[i] = i;
	for (unsigned int i = n; i > 1; i--) {
		unsigned int j = (unsigned int)rng_below(i), t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

static void test_ovmf_map(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();
	u64 want[PMM_KIND_COUNT] = { 0 }, described = 0;

	add_ovmf(p, NULL);
	expect_map(p, ovmf_expected, ARRAY_SIZE(ovmf_expected));

	/* totals computed independently from the firmware's table */
	for (unsigned int i = 0; i < ARRAY_SIZE(ovmf_map); i++) {
		want[uefi_kind(ovmf_map[i].type)] += ovmf_map[i].pages * PAGE_SIZE;
		described += ovmf_map[i].pages * PAGE_SIZE;
	}
	for (int k = 0; k < PMM_KIND_COUNT; k++)
		assert_true(pmm_total(p, (enum pmm_kind)k) == want[k]);
	assert_true(check_totals(p) == described);
	assert_true(pmm_top(p) == 0x140000000ULL);

	/* every entry's first and last byte has its kind; holes are undescribed */
	for (unsigned int i = 0; i < ARRAY_SIZE(ovmf_map); i++) {
		const struct efi_entry *e = &ovmf_map[i];

		assert_int_equal(pmm_kind_at(p, e->base), uefi_kind(e->type));
		assert_int_equal(pmm_kind_at(p, e->base + e->pages * PAGE_SIZE - 1),
				 uefi_kind(e->type));
	}
	assert_int_equal(pmm_kind_at(p, 0xA0000), NONE);
	assert_int_equal(pmm_kind_at(p, 0xFFFFF), NONE);
	assert_int_equal(pmm_kind_at(p, 0x80000000), NONE);
	assert_int_equal(pmm_kind_at(p, 0xC0000000), NONE);
	assert_int_equal(pmm_kind_at(p, 0x140000000), NONE);

	/* the same map, added in any order, gives the same result */
	rng_seed(0x0FF1CE);
	for (int round = 0; round < 50; round++) {
		unsigned int order[ARRAY_SIZE(ovmf_map)];
		struct pmm *q = new_pmm();

		shuffle(order, ARRAY_SIZE(ovmf_map));
		add_ovmf(q, order);
		assert_true(same_map(p, q));
		free(q);
	}

	/* typical boot allocations: page tables below 4 GiB, a partition at 1 GiB alignment */
	u64 a;
	assert_int_equal(pmm_alloc(p, 64 * KiB, 0, 4 * GiB, PMM_HV, &a), 0);
	assert_true(a == 0x80000000 - 64 * KiB);
	assert_int_equal(pmm_alloc(p, 512 * MiB, 1 * GiB, 0, PMM_PARTITION, &a), 0);
	assert_true(a == 0x100000000ULL);
	assert_int_equal(pmm_alloc(p, 512 * MiB, 1 * GiB, 0, PMM_PARTITION, &a), 0);
	assert_true(a == 0x40000000ULL); /* 0x140000000 is not free any more */
	assert_int_equal(pmm_alloc(p, 4 * KiB, 0, 1 * MiB, PMM_HV, &a), 0);
	assert_true(a == 0x9F000); /* AP trampoline below 1 MiB */
	check(p);
	free(p);
}

/* A BIOS e820 map (SeaBIOS-like, 4 GiB + 1 GiB) with the overlaps and unaligned entries real
 * firmware produces. */
struct e820_entry {
	u64 base, len;
	u32 type;
};

static enum pmm_kind e820_kind(u32 type)
{
	switch (type) {
	case 1: return PMM_FREE;
	case 3: return PMM_ACPI_RECLAIM;
	case 4: return PMM_ACPI_NVS;
	default: return PMM_FIRMWARE;
	}
}

static const struct e820_entry e820_map[] = {
	{ 0x0000000000000000, 0x000000000009FC00, 1 },
	{ 0x000000000009FC00, 0x0000000000000400, 2 }, /* EBDA, unaligned: widened down */
	{ 0x00000000000F0000, 0x0000000000010000, 2 },
	{ 0x0000000000100000, 0x00000000BFEE0000, 1 },
	{ 0x00000000BFFE0000, 0x0000000000020000, 2 },
	{ 0x00000000FEFFC000, 0x0000000000004000, 2 },
	{ 0x00000000FFFC0000, 0x0000000000040000, 2 },
	{ 0x0000000100000000, 0x0000000040000000, 1 },
	{ 0x00000000000E0000, 0x0000000000020000, 2 }, /* overlaps the F0000 entry */
	{ 0x00000000BFF00000, 0x00000000000E0000, 3 }, /* ACPI inside usable RAM */
	{ 0x00000000BFEFF000, 0x0000000000001000, 4 }, /* NVS inside usable RAM */
	{ 0x0000000000100000, 0x0000000001000000, 1 }, /* duplicate usable */
	{ 0x000000013FFFF800, 0x0000000000001000, 1 }, /* no whole page */
	{ 0x000000013FFFF000, 0x0000000000001800, 1 }, /* partly beyond RAM */
	{ 0x0000000120000800, 0x0000000000000800, 2 }, /* bad RAM inside usable, unaligned */
	{ 0x0000000030000000, 0x0000000000001000, 5 }, /* unusable */
	{ 0x0000000000000000, 0x0000000000000000, 1 }, /* empty entry (rejected) */
};

static void add_e820(struct pmm *p, const unsigned int *order)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(e820_map); i++) {
		const struct e820_entry *e = &e820_map[order ? order[i] : i];
		int err = pmm_add(p, e->base, e->len, e820_kind(e->type));

		assert_int_equal(err, e->len ? 0 : BH_EINVAL);
		check(p);
	}
}

static void test_e820_map(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();

	add_e820(p, NULL);
	EXPECT_MAP(p,
		   { 0x0, 0x9F000, PMM_FREE },
		   { 0x9F000, 0xA0000, PMM_FIRMWARE },
		   { 0xE0000, 0x100000, PMM_FIRMWARE },
		   { 0x100000, 0x30000000, PMM_FREE },
		   { 0x30000000, 0x30001000, PMM_FIRMWARE },
		   { 0x30001000, 0xBFEFF000, PMM_FREE },
		   { 0xBFEFF000, 0xBFF00000, PMM_ACPI_NVS },
		   { 0xBFF00000, 0xBFFE0000, PMM_ACPI_RECLAIM },
		   { 0xBFFE0000, 0xC0000000, PMM_FIRMWARE },
		   { 0xFEFFC000, 0xFF000000, PMM_FIRMWARE },
		   { 0xFFFC0000, 0x100000000, PMM_FIRMWARE },
		   { 0x100000000, 0x120000000, PMM_FREE },
		   { 0x120000000, 0x120001000, PMM_FIRMWARE },
		   { 0x120001000, 0x140000000, PMM_FREE });
	assert_true(pmm_total(p, PMM_FREE) ==
		    0x9F000 + (0x30000000 - 0x100000) + (0xBFEFF000 - 0x30001000) +
		    0x40000000 - PAGE_SIZE);
	assert_true(pmm_total(p, PMM_ACPI_RECLAIM) == 0xE0000);
	assert_true(pmm_total(p, PMM_ACPI_NVS) == PAGE_SIZE);
	assert_true(pmm_top(p) == 0x140000000ULL);
	assert_int_equal(pmm_kind_at(p, 0x9FBFF), PMM_FIRMWARE); /* widened reserved wins */
	assert_int_equal(pmm_kind_at(p, 0xA0000), NONE);

	/* precedence makes the result independent of entry order (no two non-free kinds overlap
	 * in this map) */
	rng_seed(0xE820);
	for (int round = 0; round < 50; round++) {
		unsigned int order[ARRAY_SIZE(e820_map)];
		struct pmm *q = new_pmm();

		shuffle(order, ARRAY_SIZE(e820_map));
		add_e820(q, order);
		assert_true(same_map(p, q));
		free(q);
	}
	free(p);
}

/* ---------------------------------------------------------------------------------------- */
/* alloc */

static void test_alloc_alignment(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();
	u64 a, free0;

	/* free RAM from 1 MiB to 5 GiB + 3 pages, with a firmware page just below 4 GiB */
	assert_int_equal(pmm_add(p, 1 * MiB, 5 * GiB - 1 * MiB + 3 * PAGE_SIZE, PMM_FREE), 0);
	assert_int_equal(pmm_add(p, 4 * GiB - PAGE_SIZE, PAGE_SIZE, PMM_FIRMWARE), 0);
	free0 = pmm_total(p, PMM_FREE);

	/* 4K: the top page */
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 0, 0, PMM_HV, &a), 0);
	assert_true(a == 5 * GiB + 2 * PAGE_SIZE);
	assert_int_equal(pmm_kind_at(p, a), PMM_HV);
	/* size rounds up to pages */
	assert_int_equal(pmm_alloc(p, 1, PAGE_SIZE, 0, PMM_HV, &a), 0);
	assert_true(a == 5 * GiB + PAGE_SIZE);
	assert_int_equal(pmm_alloc(p, PAGE_SIZE + 1, 0, 0, PMM_HV, &a), 0);
	assert_true(a == 5 * GiB - PAGE_SIZE);
	assert_true(pmm_total(p, PMM_HV) == 4 * PAGE_SIZE);
	EXPECT_MAP(p, { 1 * MiB, 4 * GiB - PAGE_SIZE, PMM_FREE },
		   { 4 * GiB - PAGE_SIZE, 4 * GiB, PMM_FIRMWARE },
		   { 4 * GiB, 5 * GiB - PAGE_SIZE, PMM_FREE },
		   { 5 * GiB - PAGE_SIZE, 5 * GiB + 3 * PAGE_SIZE, PMM_HV });

	/* 2M: the highest 2 MiB boundary that leaves room below 5 GiB - 4K */
	assert_int_equal(pmm_alloc(p, 2 * MiB, 2 * MiB, 0, PMM_PARTITION, &a), 0);
	assert_true(a == 5 * GiB - 4 * MiB);
	/* [5G - 2M, 5G - 4K) stays free but is too small for 3 MiB */
	assert_int_equal(pmm_alloc(p, 3 * MiB, 2 * MiB, 0, PMM_PARTITION, &a), 0);
	assert_true(a == 5 * GiB - 8 * MiB);
	assert_int_equal(pmm_kind_at(p, 5 * GiB - 5 * MiB), PMM_FREE);
	assert_int_equal(pmm_kind_at(p, 5 * GiB - 2 * MiB), PMM_FREE);

	/* 1G: [4G, 5G - 8M) holds no whole aligned GiB; [1M, 4G - 4K) holds [2G, 3G) and
	 * [1G, 2G), not [3G, 4G) (the firmware page) nor [0, 1G) (starts at 1 MiB) */
	assert_int_equal(pmm_alloc(p, 1 * GiB, 1 * GiB, 0, PMM_PARTITION, &a), 0);
	assert_true(a == 2 * GiB);
	assert_int_equal(pmm_alloc(p, 1 * GiB, 1 * GiB, 0, PMM_PARTITION, &a), 0);
	assert_true(a == 1 * GiB);
	struct pmm *before = copy_pmm(p);
	assert_int_equal(pmm_alloc(p, 1 * GiB, 1 * GiB, 0, PMM_PARTITION, &a), BH_ENOMEM);
	assert_true(same_map(p, before));
	/* a smaller size at 1 GiB alignment fits at 4 GiB */
	assert_int_equal(pmm_alloc(p, 512 * MiB, 1 * GiB, 0, PMM_PARTITION, &a), 0);
	assert_true(a == 4 * GiB);
	/* 64K: the top free range [5G - 2M, 5G - 4K) */
	assert_int_equal(pmm_alloc(p, 64 * KiB, 64 * KiB, 0, PMM_HV, &a), 0);
	assert_true(a == 5 * GiB - 128 * KiB);
	/* and 3 GiB is still reachable below a limit */
	assert_int_equal(pmm_alloc(p, 1 * GiB - 4 * KiB, 1 * GiB, 4 * GiB, PMM_PARTITION, &a), 0);
	assert_true(a == 3 * GiB);
	check(p);

	/* everything allocated is accounted for */
	u64 taken = pmm_total(p, PMM_HV) + pmm_total(p, PMM_PARTITION);
	assert_true(taken + pmm_total(p, PMM_FREE) == free0);

	/* bad alignments and arguments */
	memcpy(before, p, sizeof(*p));
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 3 * PAGE_SIZE, 0, PMM_HV, &a), BH_EINVAL);
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 2048, 0, PMM_HV, &a), BH_EINVAL);
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 1, 0, PMM_HV, &a), BH_EINVAL);
	assert_int_equal(pmm_alloc(p, 0, 0, 0, PMM_HV, &a), BH_EINVAL);
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 0, 0, PMM_FREE, &a), BH_EINVAL);
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 0, 0, PMM_KIND_COUNT, &a), BH_EINVAL);
	assert_true(same_map(p, before));
	free(before);
	free(p);
}

static void test_alloc_limit(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();
	u64 a;

	assert_int_equal(pmm_add(p, 0x1000, 0x9E000, PMM_FREE), 0);     /* up to 0x9F000 */
	assert_int_equal(pmm_add(p, 1 * MiB, 3 * GiB - 1 * MiB, PMM_FREE), 0);
	assert_int_equal(pmm_add(p, 4 * GiB, 4 * GiB, PMM_FREE), 0);

	/* no limit: the top of RAM */
	assert_int_equal(pmm_alloc(p, 2 * MiB, 0, 0, PMM_HV, &a), 0);
	assert_true(a == 8 * GiB - 2 * MiB);
	/* below 4 GiB */
	assert_int_equal(pmm_alloc(p, 2 * MiB, 0, 4 * GiB, PMM_HV, &a), 0);
	assert_true(a == 3 * GiB - 2 * MiB);
	/* limit inside a free range, not page aligned: end at or below it */
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 0, 2 * GiB + 0x800, PMM_HV, &a), 0);
	assert_true(a == 2 * GiB - PAGE_SIZE);
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 0, 2 * GiB + PAGE_SIZE, PMM_HV, &a), 0);
	assert_true(a == 2 * GiB);
	/* limit exactly at the top of a free range */
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 0, 0x9F000, PMM_HV, &a), 0);
	assert_true(a == 0x9E000);
	/* below 1 MiB */
	assert_int_equal(pmm_alloc(p, 8 * KiB, 0, 1 * MiB, PMM_HV, &a), 0);
	assert_true(a == 0x9C000);
	/* below 1 MiB with 64 KiB alignment */
	assert_int_equal(pmm_alloc(p, 4 * KiB, 64 * KiB, 1 * MiB, PMM_HV, &a), 0);
	assert_true(a == 0x90000);
	/* a limit below all free RAM */
	struct pmm *before = copy_pmm(p);
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 0, 0x1000, PMM_HV, &a), BH_ENOMEM);
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 0, 0x1FFF, PMM_HV, &a), BH_ENOMEM);
	assert_true(same_map(p, before));
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 0, 0x2000, PMM_HV, &a), 0);
	assert_true(a == 0x1000);
	/* a request larger than the room below the limit */
	memcpy(before, p, sizeof(*p));
	assert_int_equal(pmm_alloc(p, 1 * MiB, 0, 1 * MiB, PMM_HV, &a), BH_ENOMEM);
	assert_true(same_map(p, before));
	check(p);
	free(before);
	free(p);
}

static void test_alloc_exhaustion(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();
	u64 a, last = U64_MAX, n = 0;

	assert_int_equal(pmm_add(p, 0x10000, 40 * PAGE_SIZE, PMM_FREE), 0);
	assert_int_equal(pmm_add(p, 0x10000 + 7 * PAGE_SIZE, PAGE_SIZE, PMM_FIRMWARE), 0);
	assert_int_equal(pmm_add(p, 0x80000, 5 * PAGE_SIZE, PMM_FREE), 0);
	/* 3 pages at a time, top-down, strictly decreasing */
	while (pmm_alloc(p, 3 * PAGE_SIZE, 0, 0, PMM_HV, &a) == 0) {
		assert_true(a < last);
		last = a;
		n++;
		check(p);
	}
	/* 0x80000: 1 allocation (2 pages left); 0x18000..0x38000: 10 (2 pages left);
	 * 0x10000..0x17000: 2 (1 page left) */
	assert_int_equal(n, 13);
	assert_true(pmm_total(p, PMM_FREE) == 5 * PAGE_SIZE);
	struct pmm *before = copy_pmm(p);
	assert_int_equal(pmm_alloc(p, 3 * PAGE_SIZE, 0, 0, PMM_HV, &a), BH_ENOMEM);
	assert_true(same_map(p, before));
	/* the leftovers still serve single pages */
	while (pmm_alloc(p, 1, 0, 0, PMM_PARTITION, &a) == 0)
		n++;
	assert_int_equal(n, 18);
	assert_int_equal(pmm_total(p, PMM_FREE), 0);
	assert_true(pmm_total(p, PMM_HV) + pmm_total(p, PMM_PARTITION) == 44 * PAGE_SIZE);
	check(p);
	free(before);
	free(p);
}

/* ---------------------------------------------------------------------------------------- */
/* claim and free */

static void test_claim(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();

	assert_int_equal(pmm_add(p, 0, 16 * MiB, PMM_FREE), 0);
	assert_int_equal(pmm_add(p, 8 * MiB, 4 * KiB, PMM_ACPI_RECLAIM), 0);
	assert_int_equal(pmm_add(p, 32 * MiB, 16 * MiB, PMM_FREE), 0);

	/* the hypervisor image */
	assert_int_equal(pmm_claim(p, 2 * MiB, 2 * MiB, PMM_HV), 0);
	EXPECT_MAP(p, { 0, 2 * MiB, PMM_FREE }, { 2 * MiB, 4 * MiB, PMM_HV },
		   { 4 * MiB, 8 * MiB, PMM_FREE }, { 8 * MiB, 8 * MiB + 4 * KiB, PMM_ACPI_RECLAIM },
		   { 8 * MiB + 4 * KiB, 16 * MiB, PMM_FREE }, { 32 * MiB, 48 * MiB, PMM_FREE });

	/* partly taken, or partly undescribed, or across ranges: EBUSY, map unchanged */
	struct pmm *before = copy_pmm(p);
	assert_int_equal(pmm_claim(p, 1 * MiB, 2 * MiB, PMM_HV), BH_EBUSY);
	assert_int_equal(pmm_claim(p, 3 * MiB, 2 * MiB, PMM_PARTITION), BH_EBUSY);
	assert_int_equal(pmm_claim(p, 2 * MiB, 4 * KiB, PMM_PARTITION), BH_EBUSY);
	assert_int_equal(pmm_claim(p, 7 * MiB, 2 * MiB, PMM_HV), BH_EBUSY);
	assert_int_equal(pmm_claim(p, 8 * MiB, 4 * KiB, PMM_HV), BH_EBUSY);
	assert_int_equal(pmm_claim(p, 15 * MiB, 2 * MiB, PMM_HV), BH_EBUSY);
	assert_int_equal(pmm_claim(p, 16 * MiB, 4 * KiB, PMM_HV), BH_EBUSY);
	assert_int_equal(pmm_claim(p, 31 * MiB, 2 * MiB, PMM_HV), BH_EBUSY);
	assert_int_equal(pmm_claim(p, 47 * MiB, 2 * MiB, PMM_HV), BH_EBUSY);
	assert_int_equal(pmm_claim(p, 0, 48 * MiB, PMM_HV), BH_EBUSY);
	/* invalid */
	assert_int_equal(pmm_claim(p, 0x800, 4 * KiB, PMM_HV), BH_EINVAL);
	assert_int_equal(pmm_claim(p, 0, 0x800, PMM_HV), BH_EINVAL);
	assert_int_equal(pmm_claim(p, 0, 0, PMM_HV), BH_EINVAL);
	assert_int_equal(pmm_claim(p, 0, 4 * KiB, PMM_FREE), BH_EINVAL);
	assert_int_equal(pmm_claim(p, 0, 4 * KiB, PMM_KIND_COUNT), BH_EINVAL);
	assert_true(same_map(p, before));

	/* claims at the edges of free ranges, and the whole of one */
	assert_int_equal(pmm_claim(p, 0, 4 * KiB, PMM_FIRMWARE), 0);
	assert_int_equal(pmm_claim(p, 16 * MiB - 4 * KiB, 4 * KiB, PMM_PARTITION), 0);
	assert_int_equal(pmm_claim(p, 32 * MiB, 16 * MiB, PMM_PARTITION), 0);
	/* touching the HV range: merges */
	assert_int_equal(pmm_claim(p, 4 * MiB, 1 * MiB, PMM_HV), 0);
	EXPECT_MAP(p, { 0, 4 * KiB, PMM_FIRMWARE }, { 4 * KiB, 2 * MiB, PMM_FREE },
		   { 2 * MiB, 5 * MiB, PMM_HV }, { 5 * MiB, 8 * MiB, PMM_FREE },
		   { 8 * MiB, 8 * MiB + 4 * KiB, PMM_ACPI_RECLAIM },
		   { 8 * MiB + 4 * KiB, 16 * MiB - 4 * KiB, PMM_FREE },
		   { 16 * MiB - 4 * KiB, 16 * MiB, PMM_PARTITION }, { 32 * MiB, 48 * MiB, PMM_PARTITION });
	free(before);
	free(p);
}

static void test_free_merge(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();
	u64 a[20];

	assert_int_equal(pmm_add(p, 0, 64 * MiB, PMM_FREE), 0);
	assert_int_equal(pmm_add(p, 63 * MiB, 4 * KiB, PMM_FIRMWARE), 0);
	struct pmm *initial = copy_pmm(p);

	rng_seed(42);
	for (unsigned int i = 0; i < ARRAY_SIZE(a); i++) {
		u64 size = (1 + rng_below(64)) * PAGE_SIZE;

		assert_int_equal(pmm_alloc(p, size, 0, 0, i % 2 ? PMM_HV : PMM_PARTITION, &a[i]), 0);
		check(p);
	}
	/* adjacent allocations of one kind merge, of different kinds do not */
	assert_true(p->count > 3);
	/* free in random order, with the sizes that were asked for */
	unsigned int order[ARRAY_SIZE(a)];
	shuffle(order, ARRAY_SIZE(a));
	rng_seed(42);
	u64 sizes[ARRAY_SIZE(a)];
	for (unsigned int i = 0; i < ARRAY_SIZE(a); i++)
		sizes[i] = (1 + rng_below(64)) * PAGE_SIZE;
	for (unsigned int i = 0; i < ARRAY_SIZE(a); i++) {
		unsigned int k = order[i];

		assert_int_equal(pmm_free(p, a[k], sizes[k]), 0);
		assert_int_equal(pmm_kind_at(p, a[k]), PMM_FREE);
		check(p);
	}
	assert_true(same_map(p, initial));

	/* free with an unrounded size, as given to pmm_alloc */
	u64 x;
	assert_int_equal(pmm_alloc(p, 5000, 0, 0, PMM_HV, &x), 0);
	assert_true(pmm_total(p, PMM_HV) == 2 * PAGE_SIZE);
	assert_int_equal(pmm_free(p, x, 5000), 0);
	assert_true(same_map(p, initial));

	/* a part of an allocation, then the rest */
	assert_int_equal(pmm_claim(p, 1 * MiB, 1 * MiB, PMM_HV), 0);
	assert_int_equal(pmm_free(p, 1 * MiB + 256 * KiB, 256 * KiB), 0);
	EXPECT_MAP(p, { 0, 1 * MiB, PMM_FREE }, { 1 * MiB, 1 * MiB + 256 * KiB, PMM_HV },
		   { 1 * MiB + 256 * KiB, 1 * MiB + 512 * KiB, PMM_FREE },
		   { 1 * MiB + 512 * KiB, 2 * MiB, PMM_HV }, { 2 * MiB, 63 * MiB, PMM_FREE },
		   { 63 * MiB, 63 * MiB + 4 * KiB, PMM_FIRMWARE },
		   { 63 * MiB + 4 * KiB, 64 * MiB, PMM_FREE });
	assert_int_equal(pmm_free(p, 1 * MiB, 256 * KiB), 0);
	assert_int_equal(pmm_free(p, 1 * MiB + 512 * KiB, 512 * KiB), 0);
	assert_true(same_map(p, initial));

	/* HV and partition ranges next to each other free together */
	assert_int_equal(pmm_claim(p, 4 * MiB, 1 * MiB, PMM_HV), 0);
	assert_int_equal(pmm_claim(p, 5 * MiB, 1 * MiB, PMM_PARTITION), 0);
	assert_int_equal(pmm_free(p, 4 * MiB, 2 * MiB), 0);
	assert_true(same_map(p, initial));

	/* what may not be freed: free RAM, firmware, ACPI, holes, partly any of these */
	assert_int_equal(pmm_claim(p, 8 * MiB, 1 * MiB, PMM_HV), 0);
	assert_int_equal(pmm_add(p, 128 * MiB, 4 * KiB, PMM_HV), 0); /* HV next to a hole */
	assert_int_equal(pmm_add(p, 20 * MiB, 4 * KiB, PMM_ACPI_RECLAIM), 0);
	struct pmm *before = copy_pmm(p);
	assert_int_equal(pmm_free(p, 0, 4 * KiB), BH_EINVAL);
	assert_int_equal(pmm_free(p, 63 * MiB, 4 * KiB), BH_EINVAL);
	assert_int_equal(pmm_free(p, 20 * MiB, 4 * KiB), BH_EINVAL);
	assert_int_equal(pmm_free(p, 8 * MiB - 4 * KiB, 8 * KiB), BH_EINVAL);
	assert_int_equal(pmm_free(p, 9 * MiB - 4 * KiB, 8 * KiB), BH_EINVAL);
	assert_int_equal(pmm_free(p, 128 * MiB, 8 * KiB), BH_EINVAL);
	assert_int_equal(pmm_free(p, 100 * MiB, 4 * KiB), BH_EINVAL);
	assert_int_equal(pmm_free(p, 8 * MiB + 0x800, 4 * KiB), BH_EINVAL);
	assert_int_equal(pmm_free(p, 8 * MiB, 0), BH_EINVAL);
	assert_true(same_map(p, before));
	assert_int_equal(pmm_free(p, 128 * MiB, 1), 0); /* HV added by pmm_add frees too */
	assert_int_equal(pmm_kind_at(p, 128 * MiB), PMM_FREE);
	free(before);
	free(initial);
	free(p);
}

/* ---------------------------------------------------------------------------------------- */
/* table full */

/* Fills the table: free [0, 512 pages), every odd page taken by the hypervisor: 512 ranges. */
static void fill_table(struct pmm *p)
{
	pmm_init(p);
	assert_int_equal(pmm_add(p, 0, PMM_MAX_RANGES * PAGE_SIZE, PMM_FREE), 0);
	for (u64 i = 1; i < PMM_MAX_RANGES; i += 2)
		assert_int_equal(pmm_claim(p, i * PAGE_SIZE, PAGE_SIZE, PMM_HV), 0);
	check(p);
	assert_int_equal(p->count, PMM_MAX_RANGES);
}

static void test_table_full(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();
	struct pmm *before = new_pmm();
	u64 a;
	const u64 hi = 2 * PMM_MAX_RANGES * PAGE_SIZE; /* well above the described pages */

	fill_table(p); /* F0 H1 F2 H3 ... F510 H511 */
	memcpy(before, p, sizeof(*p));

	/* whatever needs a new range fails and changes nothing */
	assert_int_equal(pmm_add(p, hi, PAGE_SIZE, PMM_FIRMWARE), BH_ENOMEM);
	assert_int_equal(pmm_add(p, hi, PAGE_SIZE, PMM_FREE), BH_ENOMEM);
	/* free over the whole table plus a new hole above it */
	assert_int_equal(pmm_add(p, 0, hi + PAGE_SIZE, PMM_FREE), BH_ENOMEM);
	assert_int_equal(pmm_free(p, PAGE_SIZE, 2 * PAGE_SIZE), BH_EINVAL); /* F2 is free */
	assert_true(same_map(p, before));

	/* whatever keeps or lowers the count works */
	assert_int_equal(pmm_add(p, 4 * PAGE_SIZE, PAGE_SIZE, PMM_ACPI_NVS), 0); /* replaces F4 */
	assert_int_equal(p->count, PMM_MAX_RANGES);
	assert_int_equal(pmm_add(p, 4 * PAGE_SIZE, PAGE_SIZE, PMM_FREE), 0); /* no-op */
	assert_int_equal(pmm_claim(p, 4 * PAGE_SIZE, PAGE_SIZE, PMM_HV), BH_EBUSY);
	assert_int_equal(pmm_add(p, 4 * PAGE_SIZE, PAGE_SIZE, PMM_HV), 0); /* H[3,6): -2 */
	assert_int_equal(pmm_free(p, 4 * PAGE_SIZE, PAGE_SIZE), 0);         /* +2 */
	assert_true(same_map(p, before));
	assert_int_equal(pmm_claim(p, 0, PAGE_SIZE, PMM_HV), 0); /* joins H1: -1 */
	assert_int_equal(p->count, PMM_MAX_RANGES - 1);
	assert_int_equal(pmm_claim(p, 2 * PAGE_SIZE, PAGE_SIZE, PMM_FIRMWARE), 0); /* same */
	assert_int_equal(p->count, PMM_MAX_RANGES - 1);
	assert_int_equal(pmm_add(p, hi, PAGE_SIZE, PMM_FIRMWARE), 0); /* takes the slot */
	assert_int_equal(p->count, PMM_MAX_RANGES);
	/* a free page just below it touches no free range: needs a slot */
	assert_int_equal(pmm_add(p, hi - PAGE_SIZE, PAGE_SIZE, PMM_FREE), BH_ENOMEM);
	/* freeing H5 between F4 and F6: -2, giving F[4,7) */
	assert_int_equal(pmm_free(p, 5 * PAGE_SIZE, PAGE_SIZE), 0);
	assert_int_equal(p->count, PMM_MAX_RANGES - 2);
	assert_int_equal(pmm_add(p, hi + 4 * PAGE_SIZE, PAGE_SIZE, PMM_FIRMWARE), 0);
	assert_int_equal(pmm_add(p, hi + 8 * PAGE_SIZE, PAGE_SIZE, PMM_FIRMWARE), 0);
	assert_int_equal(p->count, PMM_MAX_RANGES);
	check(p);

	/* full again. The middle of F[4,7) cannot be split off... */
	memcpy(before, p, sizeof(*p));
	assert_int_equal(pmm_claim(p, 5 * PAGE_SIZE, PAGE_SIZE, PMM_PARTITION), BH_ENOMEM);
	assert_int_equal(pmm_claim(p, 5 * PAGE_SIZE, PAGE_SIZE, PMM_HV), BH_ENOMEM);
	assert_int_equal(pmm_add(p, 5 * PAGE_SIZE, PAGE_SIZE, PMM_ACPI_NVS), BH_ENOMEM);
	assert_int_equal(pmm_add(p, 5 * PAGE_SIZE + 1, 1, PMM_FIRMWARE), BH_ENOMEM);
	/* ...nor can part of the two-page H[0,2) be freed at its start (F0 would be new) */
	assert_int_equal(pmm_free(p, 0, PAGE_SIZE), BH_ENOMEM);
	assert_true(same_map(p, before));
	/* but its top page joins H7 */
	assert_int_equal(pmm_claim(p, 6 * PAGE_SIZE, PAGE_SIZE, PMM_HV), 0);
	assert_int_equal(p->count, PMM_MAX_RANGES);
	assert_int_equal(pmm_free(p, 6 * PAGE_SIZE, PAGE_SIZE), 0);
	assert_true(same_map(p, before));

	/* the allocator: the highest page below 7 pages is page 6, joining H7: fits */
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 0, 7 * PAGE_SIZE, PMM_HV, &a), 0);
	assert_true(a == 6 * PAGE_SIZE);
	assert_int_equal(p->count, PMM_MAX_RANGES);
	/* below 6 pages the top page is 5, a partition next to H6: needs a slot */
	memcpy(before, p, sizeof(*p));
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 0, 6 * PAGE_SIZE, PMM_PARTITION, &a), BH_ENOMEM);
	assert_true(same_map(p, before));
	/* an exact fit between two HV pages lowers the count */
	assert_int_equal(pmm_alloc(p, PAGE_SIZE, 0, 0, PMM_HV, &a), 0);
	assert_true(a == 510 * PAGE_SIZE);
	assert_int_equal(p->count, PMM_MAX_RANGES - 2);
	check(p);
	free(before);
	free(p);
}

/* A free add whose holes need +1 and -1 slots at a full table succeeds: the map has to fit
 * when the call is done, whatever the order of the holes. */
static void test_table_full_fill_order(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();

	assert_int_equal(pmm_add(p, 0, 506 * PAGE_SIZE, PMM_FREE), 0);
	for (u64 i = 1; i < 506; i += 2)
		assert_int_equal(pmm_claim(p, i * PAGE_SIZE, PAGE_SIZE, PMM_FIRMWARE), 0);
	/* F0 W1 ... F504 W505: 506 ranges; then hole 506, W507, F508, hole 509, F510 */
	assert_int_equal(p->count, 506);
	assert_int_equal(pmm_add(p, 507 * PAGE_SIZE, PAGE_SIZE, PMM_FIRMWARE), 0);
	assert_int_equal(pmm_add(p, 508 * PAGE_SIZE, PAGE_SIZE, PMM_FREE), 0);
	assert_int_equal(pmm_add(p, 510 * PAGE_SIZE, PAGE_SIZE, PMM_FREE), 0);
	for (u64 i = 0; i < 3; i++)
		assert_int_equal(pmm_add(p, (2000 + 2 * i) * PAGE_SIZE, PAGE_SIZE, PMM_FIRMWARE), 0);
	assert_int_equal(p->count, PMM_MAX_RANGES);
	check(p);

	/* hole 506 alone (between W505 and W507) needs a slot */
	struct pmm *before = copy_pmm(p);
	assert_int_equal(pmm_add(p, 506 * PAGE_SIZE, 3 * PAGE_SIZE, PMM_FREE), BH_ENOMEM);
	assert_true(same_map(p, before));
	/* with hole 509 (between F508 and F510: -1) it fits, though hole 506 comes first */
	assert_int_equal(pmm_add(p, 506 * PAGE_SIZE, 4 * PAGE_SIZE, PMM_FREE), 0);
	assert_int_equal(p->count, PMM_MAX_RANGES);
	assert_int_equal(pmm_kind_at(p, 506 * PAGE_SIZE), PMM_FREE);
	assert_int_equal(pmm_kind_at(p, 507 * PAGE_SIZE), PMM_FIRMWARE);
	assert_int_equal(pmm_kind_at(p, 509 * PAGE_SIZE), PMM_FREE);
	assert_int_equal(p->ranges[p->count - 4].base, 508 * PAGE_SIZE);
	assert_int_equal(p->ranges[p->count - 4].size, 3 * PAGE_SIZE);
	check(p);
	free(before);
	free(p);
}

/* ---------------------------------------------------------------------------------------- */
/* random sequences against a page-by-page model */

#define MODEL_PAGES 512

struct model {
	u64 base;                        /* address of page 0 */
	enum pmm_kind page[MODEL_PAGES]; /* NONE when undescribed */
};

static u64 page_of(const struct model *m, u64 addr)
{
	return (addr - m->base) / PAGE_SIZE;
}

static int model_add(struct model *m, u64 base, u64 size, enum pmm_kind kind)
{
	if (size == 0 || size > U64_MAX - base)
		return BH_EINVAL;
	u64 last = base + size - 1; /* inclusive, no wrap */
	if (kind != PMM_FREE) {
		if (last >= TOP_PAGE)
			return BH_EINVAL;
		for (u64 pg = base / PAGE_SIZE; pg <= last / PAGE_SIZE; pg++)
			m->page[pg - m->base / PAGE_SIZE] = kind;
		return 0;
	}
	/* whole pages inside [base, last] */
	u64 first = base / PAGE_SIZE + (base % PAGE_SIZE != 0);
	u64 endp = (last + 1 == 0) ? (U64_MAX / PAGE_SIZE) : (last + 1) / PAGE_SIZE;
	for (u64 pg = first; pg < endp; pg++)
		if (m->page[pg - m->base / PAGE_SIZE] == NONE)
			m->page[pg - m->base / PAGE_SIZE] = PMM_FREE;
	return 0;
}

static int model_claim(struct model *m, u64 base, u64 size, enum pmm_kind kind)
{
	if (kind == PMM_FREE || size == 0 || base % PAGE_SIZE || size % PAGE_SIZE ||
	    size > U64_MAX - base)
		return BH_EINVAL;
	for (u64 a = base; a < base + size; a += PAGE_SIZE)
		if (m->page[page_of(m, a)] != PMM_FREE)
			return BH_EBUSY;
	for (u64 a = base; a < base + size; a += PAGE_SIZE)
		m->page[page_of(m, a)] = kind;
	return 0;
}

static int model_free(struct model *m, u64 base, u64 size)
{
	if (size == 0 || base % PAGE_SIZE || size > U64_MAX - PAGE_SIZE + 1)
		return BH_EINVAL;
	size = (size + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
	if (size > U64_MAX - base)
		return BH_EINVAL;
	for (u64 a = base; a < base + size; a += PAGE_SIZE) {
		enum pmm_kind k = m->page[page_of(m, a)];

		if (k != PMM_HV && k != PMM_PARTITION)
			return BH_EINVAL;
	}
	for (u64 a = base; a < base + size; a += PAGE_SIZE)
		m->page[page_of(m, a)] = PMM_FREE;
	return 0;
}

static int model_alloc(struct model *m, u64 size, u64 align, u64 limit, enum pmm_kind kind,
		       u64 *out)
{
	u64 pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;

	if (align == 0)
		align = PAGE_SIZE;
	for (u64 p = MODEL_PAGES; p-- > 0;) {
		u64 base = m->base + p * PAGE_SIZE;
		bool ok = base % align == 0 && p + pages <= MODEL_PAGES;

		if (ok && limit && base + pages * PAGE_SIZE > limit)
			ok = false;
		for (u64 i = 0; ok && i < pages; i++)
			ok = m->page[p + i] == PMM_FREE;
		if (ok) {
			for (u64 i = 0; i < pages; i++)
				m->page[p + i] = kind;
			*out = base;
			return 0;
		}
	}
	return BH_ENOMEM;
}

static void compare_model(const struct pmm *p, const struct model *m)
{
	enum pmm_kind seen[MODEL_PAGES];
	u64 count[PMM_KIND_COUNT + 1] = { 0 };

	check(p);
	for (unsigned int i = 0; i < MODEL_PAGES; i++)
		seen[i] = NONE;
	for (unsigned int i = 0; i < p->count; i++) {
		const struct pmm_range *r = &p->ranges[i];

		assert_true(r->base >= m->base);
		assert_true(r->base + r->size <= m->base + MODEL_PAGES * PAGE_SIZE);
		for (u64 a = r->base; a < r->base + r->size; a += PAGE_SIZE)
			seen[page_of(m, a)] = r->kind;
	}
	for (unsigned int i = 0; i < MODEL_PAGES; i++) {
		if (seen[i] != m->page[i]) {
			dump(p);
			fail_msg("page %u: pmm says %s, model %s", i, pmm_kind_name(seen[i]),
				 pmm_kind_name(m->page[i]));
		}
		count[m->page[i]]++;
	}
	for (int k = 0; k < PMM_KIND_COUNT; k++)
		assert_true(pmm_total(p, (enum pmm_kind)k) == count[k] * PAGE_SIZE);
	/* a few point queries */
	for (int i = 0; i < 8; i++) {
		u64 off = rng_below(MODEL_PAGES * PAGE_SIZE);

		assert_int_equal(pmm_kind_at(p, m->base + off), m->page[off / PAGE_SIZE]);
	}
	u64 top = 0;
	for (unsigned int i = 0; i < MODEL_PAGES; i++)
		if (m->page[i] != NONE)
			top = m->base + (i + 1) * PAGE_SIZE;
	assert_true(pmm_top(p) == top);
}

struct taken {
	u64 base, size;
};

static u64 rand_size(void)
{
	switch (rng_below(4)) {
	case 0: return 1 + rng_below(PAGE_SIZE);
	case 1: return PAGE_SIZE * (1 + rng_below(4));
	case 2: return 1 + rng_below(16 * PAGE_SIZE);
	default: return PAGE_SIZE * (1 + rng_below(64));
	}
}

static enum pmm_kind rand_kind(bool allow_free)
{
	return (enum pmm_kind)(allow_free ? rng_below(PMM_KIND_COUNT)
					  : 1 + rng_below(PMM_KIND_COUNT - 1));
}

/* Runs `steps` random operations in a window of MODEL_PAGES pages at `window`. When
 * `at_top`, operations may run past the window into the last page and across 2^64. */
static void random_run(u64 seed, u64 window, bool at_top, int steps)
{
	struct pmm *p = new_pmm();
	struct model *m = calloc(1, sizeof(*m));
	struct taken taken[64];
	unsigned int ntaken = 0;
	const u64 span = MODEL_PAGES * PAGE_SIZE;
	u64 stats[4] = { 0 };

	assert_non_null(m);
	rng_seed(seed);
	m->base = window;
	for (unsigned int i = 0; i < MODEL_PAGES; i++)
		m->page[i] = NONE;

	for (int step = 0; step < steps; step++) {
		u64 op = rng_below(100), base, size, a = 0, b = 0;
		int got, want;

		if (step % 2000 == 0 && rng_below(2)) { /* start over now and then */
			pmm_init(p);
			for (unsigned int i = 0; i < MODEL_PAGES; i++)
				m->page[i] = NONE;
			ntaken = 0;
		}
		if (op < 30) { /* add free */
			base = window + rng_below(span);
			size = rand_size();
			if (rng_below(8) == 0)
				size = span; /* large */
			if (!at_top && base + size > window + span)
				size = window + span - base;
			if (at_top && rng_below(16) == 0)
				size = U64_MAX - base + 1 + rng_below(3); /* wraps */
			got = pmm_add(p, base, size, PMM_FREE);
			want = model_add(m, base, size, PMM_FREE);
		} else if (op < 45) { /* add other kind */
			enum pmm_kind k = rand_kind(false);

			base = window + rng_below(span);
			size = rng_below(4) ? 1 + rng_below(3 * PAGE_SIZE) : rand_size();
			if (!at_top && base + size > window + span)
				size = window + span - base;
			if (at_top && rng_below(16) == 0)
				size = U64_MAX - base + 1 + rng_below(3);
			got = pmm_add(p, base, size, k);
			want = model_add(m, base, size, k);
		} else if (op < 60) { /* claim */
			enum pmm_kind k = rand_kind(rng_below(20) == 0);

			base = window + rng_below(MODEL_PAGES) * PAGE_SIZE;
			size = PAGE_SIZE * (1 + rng_below(8));
			if (rng_below(20) == 0)
				base += 1 + rng_below(PAGE_SIZE - 1);
			if (!at_top && base + size > window + span)
				size = ALIGN_DOWN(window + span - base, PAGE_SIZE);
			if (at_top && rng_below(20) == 0)
				size = ALIGN_DOWN(U64_MAX - base, PAGE_SIZE) + PAGE_SIZE;
			if (size == 0 || (at_top && base + size > TOP_PAGE && base + size > base)) {
				/* the model does not hold the last page: skip such cases */
				continue;
			}
			got = pmm_claim(p, base, size, k);
			want = model_claim(m, base, size, k);
			if (got == 0 && ntaken < ARRAY_SIZE(taken) &&
			    (k == PMM_HV || k == PMM_PARTITION))
				taken[ntaken++] = (struct taken){ base, size };
		} else if (op < 82) { /* alloc */
			static const u64 aligns[] = { 0, PAGE_SIZE, 2 * PAGE_SIZE, 16 * PAGE_SIZE,
						      64 * KiB, 2 * MiB };
			u64 align = aligns[rng_below(ARRAY_SIZE(aligns))];
			u64 limit = rng_below(3) ? 0 : window + rng_below(span + 1);
			enum pmm_kind k = rng_below(2) ? PMM_HV : PMM_PARTITION;

			size = rng_below(3) ? 1 + rng_below(4 * PAGE_SIZE) : rand_size();
			got = pmm_alloc(p, size, align, limit, k, &a);
			want = model_alloc(m, size, align, limit, k, &b);
			if (got == 0 && want == 0)
				assert_true(a == b);
			if (got == 0 && ntaken < ARRAY_SIZE(taken))
				taken[ntaken++] = (struct taken){ a, size };
			stats[got == 0]++;
		} else { /* free: mostly something taken, sometimes anything */
			if (ntaken && rng_below(4)) {
				unsigned int i = (unsigned int)rng_below(ntaken);

				base = taken[i].base;
				size = taken[i].size;
				if (rng_below(4) == 0 && size > PAGE_SIZE) { /* only a part */
					u64 pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
					base += rng_below(pages) * PAGE_SIZE;
					size = PAGE_SIZE;
				}
				taken[i] = taken[--ntaken];
			} else {
				base = window + rng_below(MODEL_PAGES) * PAGE_SIZE;
				size = 1 + rng_below(8 * PAGE_SIZE);
				if (!at_top && base + size > window + span)
					size = window + span - base;
				if (at_top && ALIGN_UP(base + size, PAGE_SIZE) > TOP_PAGE)
					continue;
			}
			got = pmm_free(p, base, size);
			want = model_free(m, base, size);
			stats[2 + (got == 0)]++;
		}
		if (got != want) {
			dump(p);
			fail_msg("step %d (op %llu): pmm returned %d, model %d", step,
				 (unsigned long long)op, got, want);
		}
		compare_model(p, m);
	}
	/* the sequence must actually exercise success and failure */
	assert_true(stats[0] > 0 && stats[1] > 0 && stats[2] > 0 && stats[3] > 0);
	free(m);
	free(p);
}

static void test_random_low(void **state)
{
	(void)state;
	random_run(0xB01CEADULL, 0, false, 20000);
	random_run(12345, 1 * GiB, false, 20000);
}

static void test_random_top(void **state)
{
	(void)state;
	/* the window ends where the last page begins */
	random_run(0x5EED, TOP_PAGE - MODEL_PAGES * PAGE_SIZE, true, 20000);
}

/* Random operations over the whole 64-bit space with a full table in play: checks invariants,
 * that failures leave the map alone, and that claim/alloc/free move bytes between kinds
 * without creating or losing any. */
static void test_random_wide(void **state)
{
	(void)state;
	struct pmm *p = new_pmm();
	struct pmm *before = new_pmm();
	u64 nomem = 0, oks = 0;

	rng_seed(0xD1CE);
	for (int step = 0; step < 40000; step++) {
		u64 op = rng_below(100), base, size, a;
		int err;
		u64 described, moved = 0;
		enum pmm_kind k = rand_kind(false);

		if (step % 8000 == 0) /* start over now and then: not always at a full table */
			pmm_init(p);
		memcpy(before, p, sizeof(*p));
		described = check_totals(p);
		if (op < 40) {
			base = rng() >> rng_below(64);
			size = rng() >> (8 + rng_below(56));
			err = pmm_add(p, base, size, rng_below(3) ? PMM_FREE : k);
		} else if (op < 60) {
			/* claim somewhere inside a free range (or anywhere) */
			if (p->count && rng_below(4)) {
				const struct pmm_range *r = &p->ranges[rng_below(p->count)];
				base = r->base + rng_below(r->size / PAGE_SIZE) * PAGE_SIZE;
			} else {
				base = ALIGN_DOWN(rng() >> rng_below(64), PAGE_SIZE);
			}
			size = PAGE_SIZE * (1 + rng_below(1 + (rng() >> (40 + rng_below(24)))));
			k = rng_below(2) ? PMM_HV : PMM_PARTITION;
			err = pmm_claim(p, base, size, k);
			moved = size;
		} else if (op < 85) {
			u64 align = PAGE_SIZE << rng_below(30);
			u64 limit = rng_below(2) ? 0 : rng() >> rng_below(64);

			size = 1 + (rng() >> (12 + rng_below(52)));
			k = rng_below(2) ? PMM_HV : PMM_PARTITION;
			err = pmm_alloc(p, size, align, limit, k, &a);
			if (err == 0) {
				assert_true(IS_ALIGNED(a, align));
				assert_true(!limit || a + ALIGN_UP(size, PAGE_SIZE) <= limit);
				assert_int_equal(pmm_kind_at(p, a), k);
				assert_int_equal(pmm_kind_at(before, a), PMM_FREE);
				moved = ALIGN_UP(size, PAGE_SIZE);
			}
		} else {
			if (p->count && rng_below(4)) {
				const struct pmm_range *r = &p->ranges[rng_below(p->count)];
				u64 pages = r->size / PAGE_SIZE;
				u64 first = rng_below(pages);

				base = r->base + first * PAGE_SIZE;
				size = PAGE_SIZE * (1 + rng_below(pages - first));
			} else {
				base = ALIGN_DOWN(rng() >> rng_below(64), PAGE_SIZE);
				size = 1 + (rng() >> (12 + rng_below(52)));
			}
			err = pmm_free(p, base, size);
			moved = ALIGN_UP(size, PAGE_SIZE);
		}
		check(p);
		if (err) {
			assert_true(err == BH_EINVAL || err == BH_ENOMEM || err == BH_EBUSY);
			if (!same_map(p, before)) {
				dump(before);
				fail_msg("step %d: error %d changed the map", step, err);
			}
			nomem += err == BH_ENOMEM;
			continue;
		}
		oks++;
		if (op >= 40) {
			/* claim, alloc, free: the described bytes stay, `moved` bytes change kind */
			u64 free_before = pmm_total(before, PMM_FREE);
			u64 free_after = pmm_total(p, PMM_FREE);

			assert_true(check_totals(p) == described);
			if (op < 85)
				assert_true(free_before - free_after == moved);
			else
				assert_true(free_after - free_before == moved);
		}
	}
	assert_true(p->count > 100);
	assert_true(nomem > 0 && oks > 10000);
	free(before);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_add_invalid),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_rounding),
		cmocka_unit_test(test_top_of_address_space),
		cmocka_unit_test(test_ovmf_map),
		cmocka_unit_test(test_e820_map),
		cmocka_unit_test(test_alloc_alignment),
		cmocka_unit_test(test_alloc_limit),
		cmocka_unit_test(test_alloc_exhaustion),
		cmocka_unit_test(test_claim),
		cmocka_unit_test(test_free_merge),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_table_full_fill_order),
		cmocka_unit_test(test_random_low),
		cmocka_unit_test(test_random_top),
		cmocka_unit_test(test_random_wide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
