/* The partition plan: checks a parsed configuration against the machine and the files at hand,
 * before anything is started. Shared by the hypervisor (at boot) and tools/bulkhead-check (on the
 * host). Every problem becomes a `line: message` error naming the conflict, and marks the
 * partition it belongs to invalid; valid partitions are still planned. */
#ifndef BH_HV_PLAN_H
#define BH_HV_PLAN_H

#include "types.h"
#include "hv/config.h"

struct plan_machine {
	u32 cpu_count;          /* logical CPUs 0..cpu_count-1 exist; 0 = unknown (host check) */
	u64 free_memory;        /* bytes available for partitions; 0 = unknown */
	/* Size of a file on the boot medium, or a negative BH_E* if it is missing/unreadable.
	 * NULL: files are not checked. */
	s64 (*file_size)(void *ctx, const char *path);
	void *ctx;
};

/* Validates cfg: every partition has cpus, memory and a kernel; CPU sets are disjoint and do not
 * include the service CPU; CPUs exist; files exist and the kernel is not empty; memory fits
 * (partitions are accepted in file order until the free memory is used up; later ones are
 * refused as over-committing). Errors are appended to cfg->errors; returns the number of valid
 * partitions. */
u32 plan_check(struct config *cfg, const struct plan_machine *machine);

#endif
