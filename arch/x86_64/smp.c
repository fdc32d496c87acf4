/* INIT-SIPI-SIPI start of the other CPUs through a real-mode trampoline (trampoline.S). */
#include "arch/smp.h"
#include "arch/cpu.h"
#include "arch/lapic.h"
#include "arch/tsc.h"
#include "arch/x86.h"
#include "hv/percpu.h"
#include "lib/error.h"
#include "lib/string.h"

/* Mirrors the parameter block of trampoline.S. */
struct trampoline_params {
	u16 gdt_limit;
	u32 gdt_base;
	u16 pad0;
	u32 pm_offset;
	u16 pm_selector;
	u16 pad1;
	u32 lm_offset;
	u16 lm_selector;
	u16 pad2;
	u32 cr3;
	u32 efer;
	u64 stack;
	u64 entry;
	u64 arg;
	u32 cr4;
	u32 pad3;
} PACKED;

_Static_assert(sizeof(struct trampoline_params) == 64, "trampoline parameter block layout");

extern u8 ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_params[];
extern const u32 ap_trampoline_gdt_offset, ap_trampoline_pm_offset, ap_trampoline_lm_offset;

static struct trampoline_params *params;
static u64 trampoline_page;

int smp_prepare_trampoline(u64 page, u64 cr3)
{
	size_t size = (size_t)(ap_trampoline_end - ap_trampoline_start);

	if (!page || page >= 0x100000 || !IS_ALIGNED(page, PAGE_SIZE) || size > PAGE_SIZE)
		return BH_EINVAL;
	if (cr3 >> 32)
		return BH_ERANGE; /* loaded from 32-bit code */
	memcpy((void *)(uintptr_t)page, ap_trampoline_start, size);
	trampoline_page = page;
	params = (struct trampoline_params *)(uintptr_t)(page + (u64)(ap_trampoline_params -
								       ap_trampoline_start));
	params->gdt_limit = 4 * 8 - 1;
	params->gdt_base = (u32)(page + ap_trampoline_gdt_offset);
	params->pm_offset = (u32)(page + ap_trampoline_pm_offset);
	params->pm_selector = 0x08;
	params->lm_offset = (u32)(page + ap_trampoline_lm_offset);
	params->lm_selector = 0x18;
	params->cr3 = (u32)cr3;
	params->efer = cpu_has_nx() ? EFER_NXE : 0;
	params->cr4 = (u32)CR4_PAE;
	return 0;
}

static bool wait_for_answer(struct percpu *cpu, u64 timeout_us)
{
	u64 start = tsc_uptime_us();

	while (cpu->state == CPU_STARTING) {
		if (tsc_uptime_us() - start > timeout_us)
			return false;
		cpu_relax();
	}
	return true;
}

int smp_start_cpu(struct percpu *cpu, void (*entry)(struct percpu *cpu))
{
	u8 vector = (u8)(trampoline_page >> 12);

	params->stack = cpu->stack_top;
	params->entry = (u64)(uintptr_t)entry;
	params->arg = (u64)(uintptr_t)cpu;
	cpu->state = CPU_STARTING;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	/* The sequence and delays of the MP specification (Intel SDM vol. 3, 9.4.4). */
	lapic_send_init(cpu->apic_id);
	udelay(10000);
	lapic_send_sipi(cpu->apic_id, vector);
	if (wait_for_answer(cpu, 200))
		return 0;
	lapic_send_sipi(cpu->apic_id, vector);
	if (wait_for_answer(cpu, AP_ANSWER_TIMEOUT_US))
		return 0;
	/* Put it back into wait-for-SIPI: a late riser must not run on the parameters that the
	 * next CPU's start will write. */
	cpu->state = CPU_NO_ANSWER;
	lapic_send_init(cpu->apic_id);
	udelay(10000);
	return BH_ETIMEDOUT;
}
