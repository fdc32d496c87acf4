/* Page-table builder for the 4-level x86-64 format. */
#include "arch/paging.h"
#include "lib/error.h"

#define ENTRIES 512
#define TABLE_FLAGS (PTE_P | PTE_W | PTE_U)

/* Level 3 = PML4 (512 GiB per entry), 2 = PDPT (1 GiB), 1 = PD (2 MiB), 0 = PT (4 KiB). */
static u64 level_size(int level)
{
	return PAGE_4K << (9 * level);
}

static unsigned level_index(u64 va, int level)
{
	return (unsigned)((va >> (12 + 9 * level)) & (ENTRIES - 1));
}

static bool is_leaf(u64 entry, int level)
{
	return level == 0 || (entry & PTE_PS);
}

/* Replaces a large page by a table of the next level mapping the same range the same way. */
static int split_large(const struct pt_ops *ops, u64 *entry, int level)
{
	u64 old = *entry, table;
	u64 flags = old & PTE_FLAGS_MASK & ~PTE_PS;
	u64 base = old & PTE_ADDR_MASK & ~(level_size(level) - 1);
	u64 step = level_size(level - 1);
	int err = ops->alloc_table(ops->ctx, &table);

	if (err)
		return err;
	u64 *t = ops->table(ops->ctx, table);

	for (unsigned i = 0; i < ENTRIES; i++)
		t[i] = (base + i * step) | flags | (level - 1 > 0 ? PTE_PS : 0);
	*entry = table | TABLE_FLAGS;
	return 0;
}

/* The table below `entry`, created (or split out of a large page) when needed. */
static int next_table(const struct pt_ops *ops, u64 *entry, int level, u64 **out)
{
	int err;

	if (!(*entry & PTE_P)) {
		u64 table;

		err = ops->alloc_table(ops->ctx, &table);
		if (err)
			return err;
		*entry = table | TABLE_FLAGS;
	} else if (is_leaf(*entry, level)) {
		err = split_large(ops, entry, level);
		if (err)
			return err;
	}
	*out = ops->table(ops->ctx, *entry & PTE_ADDR_MASK);
	return 0;
}

static int map_range(const struct pt_ops *ops, u64 *table, int level, u64 va, u64 pa, u64 size,
		     u64 flags, u64 max_page)
{
	while (size) {
		u64 lsize = level_size(level);
		u64 *entry = &table[level_index(va, level)];
		u64 span = lsize - (va & (lsize - 1)); /* bytes left in this entry's range */
		int err;

		if (span > size)
			span = size;
		if (level == 0 || (lsize <= max_page && span == lsize && IS_ALIGNED(pa, lsize))) {
			u64 leaf = (flags & PTE_P) ? (pa | flags | (level ? PTE_PS : 0)) : 0;

			*entry = leaf;
		} else if (!(flags & PTE_P) && !(*entry & PTE_P)) {
			/* unmapping what is not mapped: nothing to do */
		} else {
			u64 *sub;

			err = next_table(ops, entry, level, &sub);
			if (err)
				return err;
			err = map_range(ops, sub, level - 1, va, pa, span, flags, max_page);
			if (err)
				return err;
		}
		va += span;
		pa += span;
		size -= span;
	}
	return 0;
}

int pt_map(const struct pt_ops *ops, u64 root, u64 va, u64 pa, u64 size, u64 flags,
	   u64 max_page)
{
	if (!IS_ALIGNED(va | pa | size, PAGE_4K) || (pa & ~PTE_ADDR_MASK) ||
	    va + size < va || (max_page != PAGE_4K && max_page != PAGE_2M && max_page != PAGE_1G))
		return BH_EINVAL;
	if (flags & PTE_ADDR_MASK)
		return BH_EINVAL;
	return map_range(ops, ops->table(ops->ctx, root), 3, va, pa, size, flags & ~PTE_PS,
			 max_page);
}

bool pt_lookup(const struct pt_ops *ops, u64 root, u64 va, u64 *pa, u64 *flags)
{
	u64 *table = ops->table(ops->ctx, root);

	for (int level = 3; level >= 0; level--) {
		u64 entry = table[level_index(va, level)];

		if (!(entry & PTE_P))
			return false;
		if (is_leaf(entry, level)) {
			u64 lsize = level_size(level);

			*pa = (entry & PTE_ADDR_MASK & ~(lsize - 1)) + (va & (lsize - 1));
			*flags = entry & PTE_FLAGS_MASK;
			return true;
		}
		table = ops->table(ops->ctx, entry & PTE_ADDR_MASK);
	}
	return false;
}
