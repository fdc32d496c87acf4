/* Guest page-table walks: guest-virtual to guest-physical in the guest's current paging mode
 * (none, 32-bit, PAE, 4-level long mode; 5-level is reported as BH_ENOTSUP). Pure: guest-physical
 * memory is read only through `read_gpa`, which fails for addresses outside the partition. */
#ifndef BH_HV_GWALK_H
#define BH_HV_GWALK_H

#include "types.h"

struct gwalk_ctx {
	u64 cr0, cr3, cr4, efer;
	/* Reads `len` bytes at guest-physical `gpa`; returns 0 or BH_ERANGE. */
	int (*read_gpa)(void *ctx, u64 gpa, void *buf, u64 len);
	void *ctx;
};

/* Translates for a read (no permission checks beyond presence). Returns 0 and *gpa, BH_ENOENT
 * (not present: the guest would take #PF), BH_ERANGE (a table outside guest RAM), BH_ENOTSUP. */
int gwalk_translate(const struct gwalk_ctx *g, u64 gva, u64 *gpa);

/* Reads len bytes at guest-virtual gva, crossing page boundaries. */
int gwalk_read(const struct gwalk_ctx *g, u64 gva, void *buf, u64 len);

#endif
