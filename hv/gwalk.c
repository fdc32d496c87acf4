/* Guest page-table walks (see include/hv/gwalk.h).
 *
 * Used to fetch the guest's instruction bytes at RIP when emulating an MMIO access, so it
 * only has to translate the way the CPU did a moment ago: presence is checked, permissions,
 * reserved bits and accessed/dirty updates are not (the CPU already set A while fetching).
 * Every table entry is read through read_gpa, so a guest pointing its tables outside its RAM
 * gets BH_ERANGE, never a host access.
 *
 * Known simplifications:
 *  - PAE: the CPU walks from the four PDPTEs it loaded when CR3 was written; we re-read them
 *    from memory, which differs only if the guest changed its PDPT without reloading CR3.
 *  - Reserved bits are not checked (a guest setting them would take #PF on hardware and never
 *    reach us), except PS in a PML4E, which would make the walk meaningless: BH_ENOENT.
 *  - 32-bit paging with 4 MiB pages takes PDE bits 20:13 as physical bits 39:32 (PSE-36); a
 *    CPU with fewer physical address bits would fault, here the address just lands outside
 *    guest RAM.
 */
#include "types.h"
#include "lib/error.h"
#include "hv/gwalk.h"

#define CR0_PG    (1ULL << 31)
#define CR4_PSE   (1ULL << 4)
#define CR4_PAE   (1ULL << 5)
#define CR4_LA57  (1ULL << 12)
#define EFER_LMA  (1ULL << 10)

#define PTE_PRESENT (1ULL << 0)
#define PTE_PS      (1ULL << 7)
/* Physical address field of a 64-bit entry (and of CR3 in long mode): bits 51:12. */
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ULL

#define PAGE_SHIFT 12
#define PAGE_OFFSET_MASK (PAGE_SIZE - 1)

/* 32-bit paging (SDM Vol. 3A, 4.3). */
#define PTE32_ADDR_MASK   0xFFFFF000ULL
#define PDE32_4M_MASK     0xFFC00000ULL
#define PDE32_PSE36_SHIFT 13 /* bits 20:13 hold physical bits 39:32 */
#define PDE32_PSE36_MASK  0xFFULL

/* PAE paging (4.4): CR3 bits 31:5 locate a 32-byte table of four PDPTEs. */
#define CR3_PAE_PDPT_MASK 0xFFFFFFE0ULL

static int read_entry(const struct gwalk_ctx *g, u64 gpa, unsigned int size, u64 *entry)
{
	u8 raw[8];
	u64 v = 0;
	int err = g->read_gpa(g->ctx, gpa, raw, size);

	if (err)
		return err;
	for (unsigned int i = 0; i < size; i++) /* tables are little-endian, whatever the host */
		v |= (u64)raw[i] << (8 * i);
	*entry = v;
	return 0;
}

static u64 bits_below(unsigned int shift)
{
	return (1ULL << shift) - 1;
}

/* Walks 8-byte-entry tables from `table`, starting with the level that indexes gva bits
 * [top_shift+8 : top_shift], down to 4 KiB pages. Levels at 30 (1 GiB) and 21 (2 MiB) may end
 * in a large page; 39 (PML4) may not. */
static int walk_8byte_tables(const struct gwalk_ctx *g, u64 table, u64 gva,
			     unsigned int top_shift, u64 *gpa)
{
	for (unsigned int shift = top_shift; ; shift -= 9) {
		u64 entry;
		u64 index = (gva >> shift) & 511;
		int err = read_entry(g, table + index * 8, 8, &entry);

		if (err)
			return err;
		if (!(entry & PTE_PRESENT))
			return BH_ENOENT;
		if (shift == PAGE_SHIFT || (entry & PTE_PS)) {
			if (shift > 30)
				return BH_ENOENT; /* PS is reserved in a PML4E: #PF on hardware */
			/* Masking the page's own offset bits also drops the PAT bit (12) of large pages. */
			*gpa = (entry & PTE_ADDR_MASK & ~bits_below(shift)) | (gva & bits_below(shift));
			return 0;
		}
		table = entry & PTE_ADDR_MASK;
	}
}

static bool is_canonical_48(u64 gva)
{
	u64 upper = gva >> 47; /* bits 63:47 must all be equal */

	return upper == 0 || upper == (~0ULL >> 47);
}

static int translate_long_mode(const struct gwalk_ctx *g, u64 gva, u64 *gpa)
{
	if (g->cr4 & CR4_LA57)
		return BH_ENOTSUP;
	if (!(g->cr4 & CR4_PAE))
		return BH_EINVAL; /* long mode without PAE cannot be entered */
	if (!is_canonical_48(gva))
		return BH_EINVAL;
	/* Masking CR3 to 51:12 drops PCD/PWT or the PCID in its low bits. */
	return walk_8byte_tables(g, g->cr3 & PTE_ADDR_MASK, gva, 39, gpa);
}

static int translate_pae(const struct gwalk_ctx *g, u32 gva, u64 *gpa)
{
	u64 pdpte;
	u64 pdpt = g->cr3 & CR3_PAE_PDPT_MASK;
	int err = read_entry(g, pdpt + (u64)(gva >> 30) * 8, 8, &pdpte);

	if (err)
		return err;
	if (!(pdpte & PTE_PRESENT))
		return BH_ENOENT;
	/* A PDPTE has no PS bit: it always points to a page directory. */
	return walk_8byte_tables(g, pdpte & PTE_ADDR_MASK, gva, 21, gpa);
}

static int translate_32bit(const struct gwalk_ctx *g, u32 gva, u64 *gpa)
{
	u64 pde, pte;
	u64 pd = g->cr3 & PTE32_ADDR_MASK;
	int err = read_entry(g, pd + (u64)(gva >> 22) * 4, 4, &pde);

	if (err)
		return err;
	if (!(pde & PTE_PRESENT))
		return BH_ENOENT;
	if ((pde & PTE_PS) && (g->cr4 & CR4_PSE)) { /* without CR4.PSE the PS bit is ignored */
		u64 high = (pde >> PDE32_PSE36_SHIFT) & PDE32_PSE36_MASK;

		*gpa = (high << 32) | (pde & PDE32_4M_MASK) | (gva & bits_below(22));
		return 0;
	}
	err = read_entry(g, (pde & PTE32_ADDR_MASK) + (u64)((gva >> 12) & 1023) * 4, 4, &pte);
	if (err)
		return err;
	if (!(pte & PTE_PRESENT))
		return BH_ENOENT;
	*gpa = (pte & PTE32_ADDR_MASK) | (gva & PAGE_OFFSET_MASK);
	return 0;
}

int gwalk_translate(const struct gwalk_ctx *g, u64 gva, u64 *gpa)
{
	bool long_mode;

	if (!g || !g->read_gpa || !gpa)
		return BH_EINVAL;
	long_mode = g->efer & EFER_LMA;
	if (!(g->cr0 & CR0_PG)) {
		/* Linear addresses are 32 bits wide outside long mode. */
		*gpa = long_mode ? gva : (u32)gva;
		return 0;
	}
	if (long_mode)
		return translate_long_mode(g, gva, gpa);
	/* Outside long mode linear addresses wrap at 4 GiB. */
	if (g->cr4 & CR4_PAE)
		return translate_pae(g, (u32)gva, gpa);
	return translate_32bit(g, (u32)gva, gpa);
}

int gwalk_read(const struct gwalk_ctx *g, u64 gva, void *buf, u64 len)
{
	u8 *out = buf;

	if (len && !buf)
		return BH_EINVAL;
	/* One translation per page: consecutive virtual pages need not be consecutive in
	 * guest-physical memory. On failure, the bytes before the failing page are filled. */
	while (len) {
		u64 gpa;
		u64 chunk = MIN(len, PAGE_SIZE - (gva & PAGE_OFFSET_MASK));
		int err = gwalk_translate(g, gva, &gpa);

		if (err)
			return err;
		err = g->read_gpa(g->ctx, gpa, out, chunk);
		if (err)
			return err;
		out += chunk;
		gva += chunk;
		len -= chunk;
	}
	return 0;
}
