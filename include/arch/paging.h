/* Four-level x86-64 page tables. One builder serves the hypervisor's own tables and (later) the
 * AMD nested page tables, which use the same format. Pure apart from the callbacks: tables are
 * obtained and reached only through struct pt_ops, so the host unit tests run it on a buffer. */
#ifndef BH_ARCH_PAGING_H
#define BH_ARCH_PAGING_H

#include "types.h"

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define PTE_FLAGS_MASK (~PTE_ADDR_MASK)

#define PAGE_4K (4ull * KiB)
#define PAGE_2M (2ull * MiB)
#define PAGE_1G (1ull * GiB)

struct pt_ops {
	/* A zeroed 4 KiB table: stores its physical address, returns 0 or BH_ENOMEM. */
	int (*alloc_table)(void *ctx, u64 *phys);
	/* Where the builder may read and write the table at `phys`. */
	u64 *(*table)(void *ctx, u64 phys);
	void *ctx;
};

/* Maps [va, va+size) to [pa, pa+size) with leaf `flags` (PTE_P absent = unmap), using pages up
 * to `max_page` (PAGE_4K, PAGE_2M or PAGE_1G) where alignment allows, splitting larger pages
 * already there. Intermediate entries get P|W|U so that the leaf alone decides. va, pa and size
 * must be 4 KiB aligned. Returns 0, BH_EINVAL or BH_ENOMEM. */
int pt_map(const struct pt_ops *ops, u64 root, u64 va, u64 pa, u64 size, u64 flags,
	   u64 max_page);

/* Translates va: returns true and the physical address and leaf flags if mapped. */
bool pt_lookup(const struct pt_ops *ops, u64 root, u64 va, u64 *pa, u64 *flags);

#endif
