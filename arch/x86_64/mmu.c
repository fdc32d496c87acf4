/* Builds the hypervisor's page tables. */
#include "arch/mmu.h"
#include "arch/cpu.h"
#include "arch/paging.h"
#include "arch/x86.h"
#include "hv/pmm.h"
#include "lib/error.h"
#include "lib/string.h"

#define BELOW_4G (4ull * GiB)

static int alloc_table(void *ctx, u64 *phys)
{
	int err = pmm_alloc(ctx, PAGE_4K, PAGE_4K, BELOW_4G, PMM_HV, phys);

	if (!err)
		memset((void *)(uintptr_t)*phys, 0, PAGE_4K);
	return err;
}

static u64 *table_at(void *ctx, u64 phys)
{
	(void)ctx;
	return (u64 *)(uintptr_t)phys; /* identity mapped, before and after the switch */
}

struct pt_ops mmu_table_ops(struct pmm *pmm)
{
	return (struct pt_ops){ alloc_table, table_at, pmm };
}

int mmu_build_hv_space(struct pmm *pmm, const struct hv_space_layout *l, u64 *root)
{
	struct pt_ops ops = mmu_table_ops(pmm);
	u64 nx = cpu_has_nx() ? PTE_NX : 0;
	u64 big = cpu_has_1g_pages() ? PAGE_1G : PAGE_2M;
	u64 top = ALIGN_UP(l->phys_top, PAGE_2M);
	u64 text = ALIGN_DOWN(l->text_start, PAGE_4K);
	int err;

	err = alloc_table(pmm, root);
	if (!err)
		err = pt_map(&ops, *root, 0, 0, top, PTE_P | PTE_W | PTE_G | nx, big);
	/* Page 0 stays unmapped so a NULL dereference faults instead of reading the IVT. */
	if (!err)
		err = pt_map(&ops, *root, 0, 0, PAGE_4K, 0, PAGE_4K);
	if (!err)
		err = pt_map(&ops, *root, text, text, ALIGN_UP(l->text_end, PAGE_4K) - text,
			     PTE_P | PTE_G, PAGE_4K);
	if (!err && l->trampoline)
		err = pt_map(&ops, *root, l->trampoline, l->trampoline, PAGE_4K, PTE_P | PTE_W,
			     PAGE_4K);
	if (!err && l->lapic_base)
		err = pt_map(&ops, *root, l->lapic_base, l->lapic_base, PAGE_4K,
			     PTE_P | PTE_W | PTE_PCD | PTE_PWT | nx, PAGE_4K);
	return err;
}

void mmu_activate(u64 root)
{
	write_cr4(read_cr4() | CR4_PGE);
	write_cr3(root);
}
