/* CPUID and instruction attacks: virtualization extensions must be invisible and unusable.
 *  - CPUID must hide SVM (0x80000001 ECX 2, leaf 0x8000000a) and VMX (1 ECX 5);
 *  - every SVM and VMX instruction must raise #UD (completing, or any other exception, which
 *    shows the CPU knows the instruction here, is an escape);
 *  - CR4.VMXE must not be settable. This one runs last (see attacker.c): QEMU's TCG turns a
 *    CR4 write with a reserved bit into an SVM "invalid" exit (exit code -1) instead of #GP, so
 *    without a hypervisor the attacker hangs there, and under Bulkhead on TCG the hypervisor sees
 *    that exit unless it intercepts CR4 writes itself (real AMD CPUs raise #GP). */
#include "attacker.h"

#define CR4_VMXE (1ull << 13)

void insn_vmrun(u64 rax, u64 rcx);
void insn_vmmcall(u64 rax, u64 rcx);
void insn_vmload(u64 rax, u64 rcx);
void insn_vmsave(u64 rax, u64 rcx);
void insn_stgi(u64 rax, u64 rcx);
void insn_clgi(u64 rax, u64 rcx);
void insn_skinit(u64 rax, u64 rcx);
void insn_invlpga(u64 rax, u64 rcx);
void insn_vmxon(u64 rax, u64 rcx);
void insn_vmcall(u64 rax, u64 rcx);
void insn_vmlaunch(u64 rax, u64 rcx);
void insn_vmresume(u64 rax, u64 rcx);
void insn_vmxoff(u64 rax, u64 rcx);
void insn_vmptrld(u64 rax, u64 rcx);
void insn_vmclear(u64 rax, u64 rcx);
void insn_vmread(u64 rax, u64 rcx);
void insn_vmwrite(u64 rax, u64 rcx);
void insn_invept(u64 rax, u64 rcx);
void insn_invvpid(u64 rax, u64 rcx);
void insn_vmfunc(u64 rax, u64 rcx);

/* --- CPUID ---------------------------------------------------------------------------------- */

static u32 max_extended_leaf(void)
{
	return cpuid(0x80000000, 0).eax;
}

static void cpuid_svm_bit(void)
{
	u32 ecx = max_extended_leaf() >= 0x80000001 ? cpuid(0x80000001, 0).ecx : 0;

	if (ecx & (1u << 2))
		escaped("CPUID 0x80000001 ECX=0x%08x has SVM (bit 2)", ecx);
	else
		blocked("hidden");
}

static void cpuid_vmx_bit(void)
{
	u32 ecx = cpuid(1, 0).ecx;

	if (ecx & (1u << 5))
		escaped("CPUID 1 ECX=0x%08x has VMX (bit 5)", ecx);
	else
		blocked("hidden");
}

static void cpuid_svm_leaf(void)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };

	if (max_extended_leaf() >= 0x8000000a)
		r = cpuid(0x8000000a, 0);
	if (r.eax || r.ebx || r.edx)
		escaped("CPUID 0x8000000a eax=0x%x ebx=0x%x edx=0x%x (SVM revision, ASIDs, features)",
			r.eax, r.ebx, r.edx);
	else
		blocked("hidden");
}

/* --- instructions ------------------------------------------------------------------------- */

struct insn_try {
	void (*insn)(u64 rax, u64 rcx);
	u64 rax, rcx;
};

static void do_insn(void *arg)
{
	struct insn_try *t = arg;

	t->insn(t->rax, t->rcx);
}

/* #UD is the only good answer; other exceptions reach the attack's own guard (unexpected). */
static void expect_ud(void (*insn)(u64, u64), u64 rax, u64 rcx)
{
	struct insn_try t = { insn, rax, rcx };

	if (guard_call(GUARD_VEC(VEC_UD), do_insn, &t, NULL) == VEC_UD)
		blocked("#UD");
	else
		escaped("completed without a fault");
}

/* Memory operands: the scratch page of our own RAM, zeroed; for the VMX instructions that take
 * a pointer to a physical address, its first word points at the page's second half. */
static u64 scratch_operand(void)
{
	volatile u64 *p = (volatile u64 *)(uptr)target.scratch;

	p[0] = target.scratch + 2048;
	return target.scratch;
}

static void insn_vmrun_attack(void) { expect_ud(insn_vmrun, target.scratch, 0); }
static void insn_vmmcall_attack(void) { expect_ud(insn_vmmcall, 0, 0); }
static void insn_vmload_attack(void) { expect_ud(insn_vmload, target.scratch, 0); }
static void insn_vmsave_attack(void) { expect_ud(insn_vmsave, target.scratch, 0); }
static void insn_stgi_attack(void) { expect_ud(insn_stgi, 0, 0); }
static void insn_clgi_attack(void) { expect_ud(insn_clgi, 0, 0); }
/* SKINIT's secure loader block must be 64 KiB aligned: our image starts at 1 MiB. */
static void insn_skinit_attack(void) { expect_ud(insn_skinit, 0x100000, 0); }
static void insn_invlpga_attack(void) { expect_ud(insn_invlpga, target.scratch, 1); }

static void insn_vmxon_attack(void) { expect_ud(insn_vmxon, scratch_operand(), 0); }
static void insn_vmcall_attack(void) { expect_ud(insn_vmcall, 0, 0); }
static void insn_vmlaunch_attack(void) { expect_ud(insn_vmlaunch, 0, 0); }
static void insn_vmresume_attack(void) { expect_ud(insn_vmresume, 0, 0); }
static void insn_vmptrld_attack(void) { expect_ud(insn_vmptrld, scratch_operand(), 0); }
static void insn_vmclear_attack(void) { expect_ud(insn_vmclear, scratch_operand(), 0); }
static void insn_vmread_attack(void) { expect_ud(insn_vmread, 0, 0x4402 /* exit reason */); }
static void insn_vmwrite_attack(void) { expect_ud(insn_vmwrite, 0, 0x681e /* guest RIP */); }
static void insn_invept_attack(void) { expect_ud(insn_invept, target.scratch, 2 /* all */); }
static void insn_invvpid_attack(void) { expect_ud(insn_invvpid, target.scratch, 2 /* all */); }
static void insn_vmfunc_attack(void) { expect_ud(insn_vmfunc, 0 /* EPTP switching */, 0); }
static void insn_vmxoff_attack(void) { expect_ud(insn_vmxoff, 0, 0); }

static void do_set_vmxe(void *arg)
{
	u64 cr4;

	(void)arg;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= CR4_VMXE;
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
}

static void do_clear_vmxe(void *arg)
{
	u64 cr4;

	(void)arg;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 &= ~CR4_VMXE;
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
}

/* If CR4.VMXE sticks, VMXON is tried right away (a CPU that would really run it), then
 * CR4.VMXE is cleared again. */
static void cr4_vmxe_attack(void)
{
	struct insn_try t = { insn_vmxon, 0, 0 };
	u64 cr4;
	int v;

	if (guard_call(GUARD_VEC(VEC_GP), do_set_vmxe, NULL, NULL) == VEC_GP) {
		blocked("#GP");
		return;
	}
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	if (!(cr4 & CR4_VMXE)) {
		blocked("ignored");
		return;
	}
	t.rax = scratch_operand();
	v = guard_call(GUARD_ANY, do_insn, &t, NULL);
	guard_call(GUARD_ANY, do_clear_vmxe, NULL, NULL);
	if (v < 0)
		escaped("CR4.VMXE set (CR4=0x%llx), then VMXON completed", (unsigned long long)cr4);
	else
		escaped("CR4.VMXE set (CR4=0x%llx); VMXON then raised vector %d",
			(unsigned long long)cr4, v);
}

const struct attack cr4_attacks[] = {
	{ "cr4-vmxe", cr4_vmxe_attack },
	{ NULL, NULL },
};

const struct attack cpu_attacks[] = {
	{ "cpuid-svm-bit", cpuid_svm_bit },
	{ "cpuid-vmx-bit", cpuid_vmx_bit },
	{ "cpuid-svm-leaf", cpuid_svm_leaf },
	{ "insn-vmrun", insn_vmrun_attack },
	{ "insn-vmmcall", insn_vmmcall_attack },
	{ "insn-vmload", insn_vmload_attack },
	{ "insn-vmsave", insn_vmsave_attack },
	{ "insn-stgi", insn_stgi_attack },
	{ "insn-clgi", insn_clgi_attack },
	{ "insn-skinit", insn_skinit_attack },
	{ "insn-invlpga", insn_invlpga_attack },
	{ "insn-vmxon", insn_vmxon_attack },
	{ "insn-vmcall", insn_vmcall_attack },
	{ "insn-vmlaunch", insn_vmlaunch_attack },
	{ "insn-vmresume", insn_vmresume_attack },
	{ "insn-vmptrld", insn_vmptrld_attack },
	{ "insn-vmclear", insn_vmclear_attack },
	{ "insn-vmread", insn_vmread_attack },
	{ "insn-vmwrite", insn_vmwrite_attack },
	{ "insn-invept", insn_invept_attack },
	{ "insn-invvpid", insn_invvpid_attack },
	{ "insn-vmfunc", insn_vmfunc_attack },
	{ "insn-vmxoff", insn_vmxoff_attack },
	{ NULL, NULL },
};
