/* Exceptions and interrupts taken while the hypervisor itself runs. A fault in the hypervisor is
 * reported with the registers and stops only the CPU it happened on. */
#include "arch/cpu.h"
#include "arch/lapic.h"
#include "arch/x86.h"
#include "hv/log.h"
#include "hv/percpu.h"

void trap_dispatch(struct trap_frame *f);

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
	"#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
	"#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
	"reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved 31",
};

#define VECTOR_SPURIOUS 0xff

/* Fault reports being written right now: power-off and reset wait for them (bounded), so a
 * report is never cut off by the machine going away. */
static volatile u32 reports_in_progress;

bool trap_reports_pending(void)
{
	return __atomic_load_n(&reports_in_progress, __ATOMIC_ACQUIRE) != 0;
}

static void report_fault(const struct trap_frame *f, unsigned vector)
{
	struct percpu *cpu = this_cpu();

	log_raw("FAULT cpu %u (APIC ID %u): vector %u (%s), error code 0x%llx\n", cpu->index,
		cpu->apic_id, vector, exception_names[vector], (unsigned long long)f->error_code);
	log_raw("  RIP %016llx  CS %04llx  RFLAGS %016llx  RSP %016llx  SS %04llx\n",
		(unsigned long long)f->rip, (unsigned long long)f->cs,
		(unsigned long long)f->rflags, (unsigned long long)f->rsp,
		(unsigned long long)f->ss);
	log_raw("  RAX %016llx  RBX %016llx  RCX %016llx  RDX %016llx\n",
		(unsigned long long)f->rax, (unsigned long long)f->rbx,
		(unsigned long long)f->rcx, (unsigned long long)f->rdx);
	log_raw("  RSI %016llx  RDI %016llx  RBP %016llx  R8  %016llx\n",
		(unsigned long long)f->rsi, (unsigned long long)f->rdi,
		(unsigned long long)f->rbp, (unsigned long long)f->r8);
	log_raw("  R9  %016llx  R10 %016llx  R11 %016llx  R12 %016llx\n",
		(unsigned long long)f->r9, (unsigned long long)f->r10,
		(unsigned long long)f->r11, (unsigned long long)f->r12);
	log_raw("  R13 %016llx  R14 %016llx  R15 %016llx\n", (unsigned long long)f->r13,
		(unsigned long long)f->r14, (unsigned long long)f->r15);
	log_raw("  CR0 %016llx  CR2 %016llx  CR3 %016llx  CR4 %016llx\n",
		(unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
		(unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	log_raw("FAULT cpu %u: stopped; the other CPUs keep running\n", cpu->index);
}

void trap_dispatch(struct trap_frame *f)
{
	unsigned vector = (unsigned)(f->vector & 0xff);

	if (vector == 2) {
		/* NMIs are how the hypervisor takes a CPU back from a guest: one that arrives while
		 * the CPU is in the hypervisor has nothing left to do. Nothing is logged: the NMI
		 * may have interrupted this CPU while it held the log's lock. */
		return;
	}
	if (vector < 32) {
		__atomic_add_fetch(&reports_in_progress, 1, __ATOMIC_ACQ_REL);
		report_fault(f, vector);
		this_cpu()->state = CPU_PARKED;
		__atomic_sub_fetch(&reports_in_progress, 1, __ATOMIC_ACQ_REL);
		cpu_park();
	}
	if (vector == VECTOR_SPURIOUS)
		return;
	if (vector == VECTOR_WAKEUP) {
		/* Only wakes an idle CPU out of HLT; it then looks at its mailbox. */
		lapic_eoi();
		return;
	}
	/* A guest's interrupt that reached its CPU after the CPU was taken back (its LAPIC
	 * timer, an IPI from a vCPU still on its way out): acknowledged, or it would block its
	 * priority class for the next guest on this CPU. */
	lapic_eoi();
	log_debug("cpu %u: interrupt vector %u left by a guest, acknowledged", this_cpu()->index,
		  vector);
}
