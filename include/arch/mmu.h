/* The hypervisor's own address space: physical memory identity mapped, non-executable, except
 * its code (read-only, executable) and the AP trampoline page. */
#ifndef BH_ARCH_MMU_H
#define BH_ARCH_MMU_H

#include "types.h"
#include "arch/paging.h"

struct pmm;

struct hv_space_layout {
	u64 phys_top;    /* map [0, phys_top) */
	u64 text_start;  /* hypervisor code, page aligned */
	u64 text_end;
	u64 trampoline;  /* AP start-up page, 0 if none */
	u64 lapic_base;  /* xAPIC registers, mapped uncached */
};

/* Builds the tables from pmm (PMM_HV, below 4 GiB so APs can load CR3 from 32-bit code). */
int mmu_build_hv_space(struct pmm *pmm, const struct hv_space_layout *layout, u64 *root);
/* The page-table builder's callbacks over hypervisor memory from pmm (zeroed 4 KiB tables below
 * 4 GiB, identity mapped): for the hypervisor's tables and the partitions' nested/extended
 * tables alike. Running out of memory is BH_ENOMEM. */
struct pt_ops mmu_table_ops(struct pmm *pmm);
/* Loads the tables on this CPU (after cpu_enable_features). */
void mmu_activate(u64 root);

#endif
