/* Physical memory manager: an ordered list of page-aligned, non-overlapping ranges, each of one
 * kind. It knows what is free, what the hypervisor took (and for what) and what firmware or ACPI
 * must keep. Pure: it never touches the memory it describes, so it is unit-tested on the host.
 * All memory the hypervisor uses is taken from here during boot (DESIGN.md, principle 4). */
#ifndef BH_HV_PMM_H
#define BH_HV_PMM_H

#include "types.h"

enum pmm_kind {
	PMM_FREE = 0,      /* usable RAM nobody holds */
	PMM_HV,            /* taken by the hypervisor (image, loaded files, tables, stacks) */
	PMM_FIRMWARE,      /* firmware reserved, runtime services, unusable RAM */
	PMM_ACPI_RECLAIM,  /* ACPI tables: kept, the hypervisor reads them */
	PMM_ACPI_NVS,      /* ACPI NVS: never touched */
	PMM_PARTITION,     /* carved out for a partition */
	PMM_KIND_COUNT
};

#define PMM_MAX_RANGES 512

struct pmm_range {
	u64 base;
	u64 size;
	enum pmm_kind kind;
};

struct pmm {
	struct pmm_range ranges[PMM_MAX_RANGES];
	unsigned int count;
};

const char *pmm_kind_name(enum pmm_kind kind);

void pmm_init(struct pmm *pmm);

/* Describes [base, base+size) as `kind`. Non-free kinds override whatever was there (firmware
 * maps overlap); PMM_FREE only fills parts not yet described. Free RAM is shrunk to whole pages,
 * any other kind is widened to whole pages. Returns 0, BH_EINVAL or BH_ENOMEM (table full). */
int pmm_add(struct pmm *pmm, u64 base, u64 size, enum pmm_kind kind);

/* Marks an already-free range as `kind` (not PMM_FREE). Fails with BH_EBUSY if any page of it
 * is not free, BH_EINVAL for a zero size or unaligned range. */
int pmm_claim(struct pmm *pmm, u64 base, u64 size, enum pmm_kind kind);

/* Takes `size` bytes (rounded up to pages) of free RAM, aligned to `align` (a power of two,
 * at least PAGE_SIZE; 0 means PAGE_SIZE), ending at or below `limit` (exclusive end; 0 means no
 * limit), from the highest suitable address. Stores the base in *out. Returns 0 or BH_ENOMEM. */
int pmm_alloc(struct pmm *pmm, u64 size, u64 align, u64 limit, enum pmm_kind kind, u64 *out);

/* Returns a range taken with pmm_alloc or pmm_claim to the free pool. BH_EINVAL if any part of it
 * is not of kind PMM_HV or PMM_PARTITION. */
int pmm_free(struct pmm *pmm, u64 base, u64 size);

/* Bytes currently described as `kind`. */
u64 pmm_total(const struct pmm *pmm, enum pmm_kind kind);

/* Kind of the page holding `addr`; PMM_KIND_COUNT when the map does not describe it. */
enum pmm_kind pmm_kind_at(const struct pmm *pmm, u64 addr);

/* One past the highest address described as RAM of any kind. */
u64 pmm_top(const struct pmm *pmm);

#endif
