/* The 4-level page-table builder used for the hypervisor's own tables, the AMD nested page
 * tables and the Intel EPT tables: large pages where alignment allows, splitting, unmapping,
 * permissions, bad input, and the raw entries of the EPT format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/paging.h"
#include "lib/error.h"

#define POOL_PAGES 4096

/* Tables live in a host buffer; "physical" addresses are offsets from a fake base. */
struct pool {
	u64 *mem;
	u32 used;
	u32 limit;
};

#define FAKE_BASE 0x100000000ull

static int pool_alloc(void *ctx, u64 *phys)
{
	struct pool *p = ctx;

	if (p->used == p->limit)
		return BH_ENOMEM;
	memset(p->mem + (size_t)p->used * 512, 0, PAGE_4K);
	*phys = FAKE_BASE + (u64)p->used++ * PAGE_4K;
	return 0;
}

static u64 *pool_table(void *ctx, u64 phys)
{
	struct pool *p = ctx;

	assert_true(phys >= FAKE_BASE && phys < FAKE_BASE + (u64)p->used * PAGE_4K);
	assert_true((phys & 0xfff) == 0);
	return p->mem + (phys - FAKE_BASE) / 8;
}

struct fixture {
	struct pool pool;
	struct pt_ops ops;
	u64 root;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->pool.mem = aligned_alloc(4096, (size_t)POOL_PAGES * PAGE_4K);
	f->pool.limit = POOL_PAGES;
	f->ops = (struct pt_ops){ pool_alloc, pool_table, &f->pool };
	assert_int_equal(pool_alloc(&f->pool, &f->root), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->pool.mem);
	free(f);
	return 0;
}

static void expect_mapping(struct fixture *f, u64 va, u64 pa, u64 flags)
{
	u64 got_pa, got_flags;

	assert_true(pt_lookup(&f->ops, f->root, va, &got_pa, &got_flags));
	assert_int_equal(got_pa, pa);
	assert_int_equal(got_flags & (PTE_P | PTE_W | PTE_U | PTE_NX), flags);
}

static void test_nested_style_map_uses_large_pages(void **state)
{
	struct fixture *f = *state;
	u64 ram = 0x7c000000ull, size = 34 * MiB; /* 32 MiB + 2 MiB: 2 MiB pages only */

	assert_int_equal(pt_map(&f->ops, f->root, 0, ram, size, PTE_P | PTE_W | PTE_U, PAGE_1G), 0);
	/* PML4 + PDPT + one PD: no 4 KiB tables for a 2 MiB aligned block. */
	assert_int_equal(f->pool.used, 3);
	expect_mapping(f, 0, ram, PTE_P | PTE_W | PTE_U);
	expect_mapping(f, size - 1, ram + size - 1, PTE_P | PTE_W | PTE_U);
	u64 pa, fl;

	assert_false(pt_lookup(&f->ops, f->root, size, &pa, &fl));
	assert_false(pt_lookup(&f->ops, f->root, 4 * GiB, &pa, &fl));
}

static void test_gigabyte_pages_when_aligned(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pt_map(&f->ops, f->root, 0, 0, 4 * GiB, PTE_P | PTE_W, PAGE_1G), 0);
	assert_int_equal(f->pool.used, 2); /* PML4 + PDPT with four 1 GiB leaves */
	expect_mapping(f, 3 * GiB + 12345, 3 * GiB + 12345, PTE_P | PTE_W);
}

static void test_split_keeps_the_rest_and_changes_the_part(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pt_map(&f->ops, f->root, 0, 0, 2 * GiB, PTE_P | PTE_W | PTE_NX, PAGE_1G),
			 0);
	/* A read-only executable window in the middle, like the hypervisor's code. */
	assert_int_equal(pt_map(&f->ops, f->root, 0x7db6f000, 0x7db6f000, 0x5000, PTE_P, PAGE_4K),
			 0);
	expect_mapping(f, 0x7db6f000, 0x7db6f000, PTE_P);
	expect_mapping(f, 0x7db73fff, 0x7db73fff, PTE_P);
	expect_mapping(f, 0x7db6efff, 0x7db6efff, PTE_P | PTE_W | PTE_NX);
	expect_mapping(f, 0x7db74000, 0x7db74000, PTE_P | PTE_W | PTE_NX);
	expect_mapping(f, 0x40000000, 0x40000000, PTE_P | PTE_W | PTE_NX);
	expect_mapping(f, 0x3fffffff, 0x3fffffff, PTE_P | PTE_W | PTE_NX);
}

static void test_unmap_one_page(void **state)
{
	struct fixture *f = *state;
	u64 pa, fl;

	assert_int_equal(pt_map(&f->ops, f->root, 0, 0, PAGE_1G, PTE_P | PTE_W, PAGE_1G), 0);
	assert_int_equal(pt_map(&f->ops, f->root, 0, 0, PAGE_4K, 0, PAGE_4K), 0);
	assert_false(pt_lookup(&f->ops, f->root, 0, &pa, &fl));
	expect_mapping(f, PAGE_4K, PAGE_4K, PTE_P | PTE_W);
	expect_mapping(f, PAGE_1G - 1, PAGE_1G - 1, PTE_P | PTE_W);
}

static void test_unmapping_nothing_allocates_nothing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pt_map(&f->ops, f->root, 8 * GiB, 0, 4 * GiB, 0, PAGE_4K), 0);
	assert_int_equal(f->pool.used, 1);
}

static void test_unaligned_odd_sizes_fall_back_to_small_pages(void **state)
{
	struct fixture *f = *state;

	/* pa not 2 MiB aligned although va is: 4 KiB pages throughout. */
	assert_int_equal(pt_map(&f->ops, f->root, 0, 0x1000, 4 * MiB, PTE_P, PAGE_1G), 0);
	expect_mapping(f, 0, 0x1000, PTE_P);
	expect_mapping(f, 4 * MiB - 1, 0x1000 + 4 * MiB - 1, PTE_P);
	assert_int_equal(f->pool.used, 1 + 1 + 1 + 2);
}

static void test_rejects_bad_input(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pt_map(&f->ops, f->root, 0x10, 0, PAGE_4K, PTE_P, PAGE_4K), BH_EINVAL);
	assert_int_equal(pt_map(&f->ops, f->root, 0, 0x10, PAGE_4K, PTE_P, PAGE_4K), BH_EINVAL);
	assert_int_equal(pt_map(&f->ops, f->root, 0, 0, 100, PTE_P, PAGE_4K), BH_EINVAL);
	assert_int_equal(pt_map(&f->ops, f->root, 0, 1ull << 52, PAGE_4K, PTE_P, PAGE_4K),
			 BH_EINVAL);
	assert_int_equal(pt_map(&f->ops, f->root, ~0xfffull, 0, 2 * PAGE_4K, PTE_P, PAGE_4K),
			 BH_EINVAL);
	assert_int_equal(pt_map(&f->ops, f->root, 0, 0, PAGE_4K, PTE_P, 3 * PAGE_4K), BH_EINVAL);
	assert_int_equal(pt_map(&f->ops, f->root, 0, 0, PAGE_4K, PTE_P | 0x5000, PAGE_4K),
			 BH_EINVAL);
	assert_int_equal(f->pool.used, 1);
}

static void test_out_of_tables(void **state)
{
	struct fixture *f = *state;

	f->pool.limit = 3;
	assert_int_equal(pt_map(&f->ops, f->root, 0, 0, 8 * MiB, PTE_P, PAGE_4K), BH_ENOMEM);
}

/* ------------------------------------------------------------------ EPT format */

static u64 *table_at(struct fixture *f, u64 entry)
{
	return pool_table(&f->pool, entry & PTE_ADDR_MASK);
}

/* A partition's EPT tables as vmx_partition_init builds them: intermediate entries grant read,
 * write and execute with no memory type (reserved there), leaves carry write-back and bit 7. */
static void test_ept_entries_for_partition_ram(void **state)
{
	struct fixture *f = *state;
	u64 ram = 0x7c000000ull, size = 34 * MiB;
	u64 *pml4, *pdpt, *pd;

	assert_int_equal(pt_map(&f->ops, f->root, 0, ram, size, EPT_RAM, PAGE_1G), 0);
	assert_int_equal(f->pool.used, 3);
	pml4 = pool_table(&f->pool, f->root);
	assert_int_equal(pml4[0] & ~PTE_ADDR_MASK, EPT_RWX);
	pdpt = table_at(f, pml4[0]);
	assert_int_equal(pdpt[0] & ~PTE_ADDR_MASK, EPT_RWX);
	pd = table_at(f, pdpt[0]);
	assert_int_equal(pd[0], ram | EPT_RWX | EPT_MEMTYPE_WB | PTE_PS);
	assert_int_equal(pd[0], ram | 0xb7);
	assert_int_equal(pd[16], (ram + 32 * MiB) | 0xb7);
	assert_int_equal(pd[17], 0); /* beyond the RAM: not readable, so an EPT violation */
	for (int i = 1; i < 512; i++) {
		assert_int_equal(pml4[i], 0);
		assert_int_equal(pdpt[i], 0);
	}
}

static void test_ept_gigabyte_leaf(void **state)
{
	struct fixture *f = *state;
	u64 *pml4, *pdpt, pa, fl;

	assert_int_equal(pt_map(&f->ops, f->root, 0, 0x40000000ull, 2 * GiB, EPT_RAM, PAGE_1G), 0);
	pml4 = pool_table(&f->pool, f->root);
	pdpt = table_at(f, pml4[0]);
	assert_int_equal(pdpt[0], 0x40000000ull | 0xb7);
	assert_int_equal(pdpt[1], 0x80000000ull | 0xb7);
	assert_true(pt_lookup(&f->ops, f->root, GiB + 0x1234, &pa, &fl));
	assert_int_equal(pa, 0x80001234ull);
	assert_int_equal(fl & 0x3f, EPT_RAM);
	/* 2 MiB-only hardware: the same RAM in 2 MiB leaves. */
	assert_int_equal(pt_map(&f->ops, f->root, 4 * GiB, 0x40000000ull, 4 * MiB, EPT_RAM, PAGE_2M),
			 0);
	assert_true(pt_lookup(&f->ops, f->root, 4 * GiB + 2 * MiB, &pa, &fl));
	assert_int_equal(pa, 0x40200000ull);
	assert_int_equal(fl, EPT_RAM | PTE_PS);
}

/* Splitting an EPT large page keeps the memory type in every smaller page; 4 KiB leaves have
 * no bit 7. */
static void test_ept_split_keeps_memory_type(void **state)
{
	struct fixture *f = *state;
	u64 *pdpt, *pd, *pt;

	assert_int_equal(pt_map(&f->ops, f->root, 0, 0, PAGE_1G, EPT_RAM, PAGE_1G), 0);
	assert_int_equal(pt_map(&f->ops, f->root, PAGE_4K, 0, PAGE_4K, 0, PAGE_4K), 0);
	pdpt = table_at(f, pool_table(&f->pool, f->root)[0]);
	assert_int_equal(pdpt[0] & ~PTE_ADDR_MASK, EPT_RWX);
	pd = table_at(f, pdpt[0]);
	assert_int_equal(pd[1], (2 * MiB) | 0xb7);
	assert_int_equal(pd[511], (PAGE_1G - 2 * MiB) | 0xb7);
	assert_int_equal(pd[0] & ~PTE_ADDR_MASK, EPT_RWX);
	pt = table_at(f, pd[0]);
	assert_int_equal(pt[0], 0x37);
	assert_int_equal(pt[1], 0);
	assert_int_equal(pt[2], 2 * PAGE_4K | 0x37);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nested_style_map_uses_large_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gigabyte_pages_when_aligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_keeps_the_rest_and_changes_the_part, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unmap_one_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmapping_nothing_allocates_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unaligned_odd_sizes_fall_back_to_small_pages,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ept_entries_for_partition_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ept_gigabyte_leaf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ept_split_keeps_memory_type, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
