/* World switch for AMD-V.
 * void svm_enter(u64 vmcb_pa, struct vcpu_regs *regs, u64 host_vmcb_pa)
 * VMRUN loads and saves only RAX, RSP and RIP of the guest's general registers; this saves and
 * restores the others from *regs (indexed like enum gpr). With GIF clear around the switch, no
 * NMI or interrupt can land while half of the state is the guest's. VMLOAD/VMSAVE move the state
 * VMRUN does not (FS, GS, TR, LDTR, KernelGSBase, STAR family, SYSENTER): the guest's from its
 * VMCB, the hypervisor's (its GS base = per-CPU pointer) from a per-CPU host VMCB. */

#define R(n) (8 * (n))
#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RSP 4
#define RBP 5
#define RSI 6
#define RDI 7

	.text
	.globl svm_enter
	.hidden svm_enter
	.type svm_enter, @function
svm_enter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx		/* host VMCB */
	pushq %rsi		/* regs */
	movq %rdi, %rax		/* guest VMCB: VMRUN takes it in RAX */

	movq R(RCX)(%rsi), %rcx
	movq R(RDX)(%rsi), %rdx
	movq R(RBX)(%rsi), %rbx
	movq R(RBP)(%rsi), %rbp
	movq R(RDI)(%rsi), %rdi
	movq R(8)(%rsi), %r8
	movq R(9)(%rsi), %r9
	movq R(10)(%rsi), %r10
	movq R(11)(%rsi), %r11
	movq R(12)(%rsi), %r12
	movq R(13)(%rsi), %r13
	movq R(14)(%rsi), %r14
	movq R(15)(%rsi), %r15
	movq R(RSI)(%rsi), %rsi

	clgi
	vmload %rax
	vmrun %rax
	vmsave %rax

	pushq %rax
	movq 8(%rsp), %rax	/* regs */
	movq %rcx, R(RCX)(%rax)
	movq %rdx, R(RDX)(%rax)
	movq %rbx, R(RBX)(%rax)
	movq %rbp, R(RBP)(%rax)
	movq %rsi, R(RSI)(%rax)
	movq %rdi, R(RDI)(%rax)
	movq %r8, R(8)(%rax)
	movq %r9, R(9)(%rax)
	movq %r10, R(10)(%rax)
	movq %r11, R(11)(%rax)
	movq %r12, R(12)(%rax)
	movq %r13, R(13)(%rax)
	movq %r14, R(14)(%rax)
	movq %r15, R(15)(%rax)
	addq $16, %rsp		/* the saved RAX and regs */
	popq %rax		/* host VMCB */
	vmload %rax
	stgi

	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.section .note.GNU-stack, "", @progbits
