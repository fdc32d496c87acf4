/* Four-level x86-64 page tables. One builder serves the hypervisor's own tables, the AMD nested
 * page tables (the same format) and the Intel EPT tables (see EPT_* below). Pure apart from the
 * callbacks: tables are obtained and reached only through struct pt_ops, so the host unit tests
 * run it on a buffer. */
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

/* EPT entries (Intel SDM vol. 3, 29.3.2) have the same shape: a 4 KiB-aligned address, bit 7
 * for a large page at levels 1 and 2, and permissions in bits 0-2 where the x86 format has P, W
 * and U/S. The builder therefore writes EPT tables as they are:
 *  - it takes bit 0 for "present", which in EPT is "readable": every EPT mapping it makes must
 *    be readable (execute-only mappings are not expressible);
 *  - its intermediate entries get P|W|U = bits 0-2 = read, write, execute: the leaf decides;
 *  - leaf flags pass through untouched, so the memory type (bits 5:3) and "ignore PAT" (bit 6)
 *    go in `flags`, and a split large page keeps them in the smaller pages. */
#define EPT_R (1ull << 0)
#define EPT_W (1ull << 1)
#define EPT_X (1ull << 2)
#define EPT_MEMTYPE_WB (6ull << 3)
#define EPT_IGNORE_PAT (1ull << 6)
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
/* Guest RAM: readable, writable, executable, write-back (the guest's PAT still applies). */
#define EPT_RAM (EPT_RWX | EPT_MEMTYPE_WB)

_Static_assert(EPT_R == PTE_P, "the builder's present bit is EPT's read bit");
_Static_assert(EPT_RWX == (PTE_P | PTE_W | PTE_U), "intermediate entries grant all to EPT");

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
