/* Local APIC, in x2APIC mode where the CPU has it, else xAPIC (MMIO). */
#ifndef BH_ARCH_LAPIC_H
#define BH_ARCH_LAPIC_H

#include "types.h"

#define LAPIC_DEFAULT_BASE 0xfee00000ull
/* Wakes an idle CPU out of HLT to look at its mailbox (hv/main.c ap_idle). */
#define VECTOR_WAKEUP 0xf0

/* Chooses the mode once on the boot CPU (x2APIC if CPUID says so). */
void lapic_choose_mode(u64 mmio_base);
bool lapic_x2apic(void);
/* Per CPU: switches this CPU's LAPIC into the chosen mode and software-enables it. */
void lapic_enable(void);
u32 lapic_id(void);
void lapic_send_init(u32 apic_id);
void lapic_send_sipi(u32 apic_id, u8 vector_page);
/* A fixed interrupt with `vector` to one CPU. */
void lapic_send_ipi(u32 apic_id, u8 vector);
void lapic_eoi(void);
void lapic_send_nmi(u32 apic_id);
/* A register of this CPU's LAPIC by its xAPIC offset (through the MSR in x2APIC mode): for
 * the accesses a guest makes to the LAPIC it owns. */
u32 lapic_reg_read(u32 reg);
void lapic_reg_write(u32 reg, u32 value);
/* This CPU's LAPIC back to the hypervisor's idle state after a guest owned it: timer stopped,
 * every LVT masked, no error bits, TPR 0, the hypervisor's SVR, nothing left in service.
 * Interrupts still pending (IRR) arrive once the CPU enables interrupts (see trap.c). */
void lapic_reset_idle(void);
/* Waits (bounded) until an IPI left this CPU's LAPIC (xAPIC only; x2APIC has no busy bit). */
bool lapic_wait_idle(void);

#endif
