/* Starting the application processors. */
#ifndef BH_ARCH_SMP_H
#define BH_ARCH_SMP_H

#include "types.h"

struct percpu;

#define AP_ANSWER_TIMEOUT_US 1000000ull

/* Copies the start-up code to `page` (below 1 MiB, identity mapped and executable). */
int smp_prepare_trampoline(u64 page, u64 cr3);

/* INIT-SIPI-SIPI to one CPU; waits up to AP_ANSWER_TIMEOUT_US for it to reach `entry`, which
 * must set cpu->state to something other than CPU_STARTING. Returns 0 or BH_ETIMEDOUT. */
int smp_start_cpu(struct percpu *cpu, void (*entry)(struct percpu *cpu));

#endif
