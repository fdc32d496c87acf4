/* A partition's platform as its vCPUs reach it: the glue between exits and the pure device
 * models (vplatform: PIT, PM block, RTC, IOAPIC; vlapic: the LAPIC access policy). It takes the
 * partition's lock, gives the models the time, and carries out what they ask for: interrupts
 * as real IPIs to the partition's own CPUs, INIT/SIPI as vCPU starts, power-off and reset as
 * partition lifecycle events.
 *
 * Only partitions with pc_platform set (those booting a Linux bzImage) have these devices; the
 * others see an empty bus everywhere outside their RAM and COM1, as before: the test guests
 * (docs/test-guests.md) judge isolation by that. */
#ifndef BH_HV_PDEV_H
#define BH_HV_PDEV_H

#include "types.h"

struct partition;
struct vcpu;

#define PDEV_IOAPIC_BASE 0xfec00000ull
#define PDEV_LAPIC_BASE 0xfee00000ull

enum pdev_result {
	PDEV_NOT_MINE,   /* no virtual device there: the caller applies its default */
	PDEV_DONE,       /* emulated; a read's value is in *value */
	PDEV_BLOCKED,    /* refused by policy (counted by the caller); a read gives 0 */
	PDEV_GP,         /* MSRs: what the CPU answers with #GP (counted and injected by the caller) */
};

/* At partition creation and before every (re)start: device state back to power-on, the vLAPIC
 * group over the partition's CPUs, the clock origin. */
void pdev_reset(struct partition *p);

/* A port access by vCPU v. */
enum pdev_result pdev_port(struct vcpu *v, u16 port, u8 size, bool in, u32 *value);
/* A guest-physical access outside RAM by vCPU v (size 1, 2, 4 or 8). */
enum pdev_result pdev_mmio(struct vcpu *v, u64 gpa, u8 size, bool write, u64 *value);
/* Whether partition p's guest sees x2APIC in CPUID: a partition with the PC platform (the
 * vLAPIC policy), on a machine whose LAPICs the hypervisor runs in x2APIC mode (arch/lapic.h),
 * with a backend that can pass x2APIC MSRs through. */
bool pdev_x2apic_offered(const struct partition *p);
/* vCPU v's RDMSR/WRMSR of `msr` if it is the platform's: IA32_APIC_BASE and the x2APIC MSRs
 * 0x800-0x8ff that exit (docs/isolation.md, "x2APIC MSRs"). NOT_MINE for any other MSR and
 * for partitions without the PC platform. */
enum pdev_result pdev_msr(struct vcpu *v, u32 msr, bool write, u64 *value);
/* A device line of partition p changed (the vUART's IRQ 4); called with p->lock held. */
void pdev_irq_locked(struct partition *p, u32 gsi, bool level);
/* The service CPU, in its loop: timer-driven device interrupts (PIT, RTC) of a running
 * partition whose next deadline has come. */
void pdev_tick(struct partition *p);
/* Delivers what the devices raised since the last call (interrupts, reset, power-off). Called
 * by vCPU v after each exit, without the lock. */
void pdev_flush(struct vcpu *v);

#endif
