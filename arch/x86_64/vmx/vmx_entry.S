/* World switch for VT-x.
 *
 * int vmx_enter(struct vcpu_regs *regs, u64 launched)
 *   Loads the guest's general registers from *regs (indexed like enum gpr; RSP is the VMCS's)
 *   and enters the guest with VMLAUNCH (launched == 0) or VMRESUME. Returns 0 after a VM exit,
 *   with the guest's registers saved to *regs; or, when the instruction itself failed,
 *   VMX_ENTER_FAIL_INVALID (no current VMCS) or VMX_ENTER_FAIL_VALID (the error number is in
 *   the VMCS's VM-instruction error field), with the host's registers intact.
 *
 * The VM exit lands at vmx_exit_entry (the VMCS's host RIP) with RSP = host RSP, written here
 * just before the entry: it points at the saved `regs` pointer above the callee-saved
 * registers. A VM exit loads the host's CR0/3/4, segments, descriptor-table bases, EFER and PAT
 * from the VMCS and clears RFLAGS (interrupts stay off, as vcpu_loop runs them). */

#define R(n) (8 * (n))
#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RBP 5
#define RSI 6
#define RDI 7

#define VMCS_HOST_RSP 0x6c14
#define VMX_ENTER_FAIL_INVALID 1
#define VMX_ENTER_FAIL_VALID 2

	.text
	.globl vmx_enter
	.hidden vmx_enter
	.type vmx_enter, @function
vmx_enter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi		/* regs: 0(%rsp) = host RSP after the exit */

	movl $VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax
	jbe 3f			/* CF or ZF: the write failed (no current VMCS) */

	testq %rsi, %rsi	/* launched? (the moves below leave the flags alone) */
	movq R(RAX)(%rdi), %rax
	movq R(RCX)(%rdi), %rcx
	movq R(RDX)(%rdi), %rdx
	movq R(RBX)(%rdi), %rbx
	movq R(RBP)(%rdi), %rbp
	movq R(RSI)(%rdi), %rsi
	movq R(8)(%rdi), %r8
	movq R(9)(%rdi), %r9
	movq R(10)(%rdi), %r10
	movq R(11)(%rdi), %r11
	movq R(12)(%rdi), %r12
	movq R(13)(%rdi), %r13
	movq R(14)(%rdi), %r14
	movq R(15)(%rdi), %r15
	movq R(RDI)(%rdi), %rdi
	jnz 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	/* Still here: the instruction failed. CF = VMfailInvalid, ZF = VMfailValid. */
3:	movl $VMX_ENTER_FAIL_VALID, %eax
	jnc 4f
	movl $VMX_ENTER_FAIL_INVALID, %eax
4:	addq $8, %rsp		/* regs */
	jmp 5f

	.globl vmx_exit_entry
	.hidden vmx_exit_entry
	.type vmx_exit_entry, @function
vmx_exit_entry:
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
	popq R(RAX)(%rax)	/* the guest's RAX */
	addq $8, %rsp		/* regs */
	xorl %eax, %eax
5:	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.section .note.GNU-stack, "", @progbits
