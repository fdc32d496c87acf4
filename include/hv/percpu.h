/* Per-CPU state of the hypervisor. Each CPU finds its own through GS. */
#ifndef BH_HV_PERCPU_H
#define BH_HV_PERCPU_H

#include "types.h"
#include "arch/cpu.h"

struct vcpu;

#define MAX_CPUS 64
#define CPU_STACK_SIZE (32 * KiB)

enum cpu_state {
	CPU_ABSENT = 0, /* listed by firmware, not started */
	CPU_STARTING,
	CPU_ONLINE,
	CPU_PARKED,     /* stopped after a fault in the hypervisor */
	CPU_NO_ANSWER,  /* did not answer INIT-SIPI-SIPI */
};

struct percpu {
	struct percpu *self; /* at offset 0: this_cpu() reads it through GS */
	u32 index;           /* logical number: 0 = boot CPU, then MADT order */
	u32 apic_id;
	volatile enum cpu_state state;
	u64 stack_top;
	struct vcpu *volatile mailbox; /* a vCPU handed to this CPU to run */
	void *virt_cpu;                /* vendor per-CPU state (host save area, ...) */
	bool virt_enabled;
	struct arch_cpu arch;
};

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

/* Every CPU the firmware listed, in logical order; filled during boot. */
extern struct percpu *cpus[MAX_CPUS];
extern u32 cpu_count;

#endif
