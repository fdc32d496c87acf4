/* Interrupt and exception entry: one 16-byte stub per vector pushes a dummy error code where the
 * CPU pushes none, then the vector, and joins the common path that saves the registers as a
 * struct trap_frame (include/arch/cpu.h) and calls trap_dispatch(frame). */

	.text
	.globl isr_stubs
	.hidden isr_stubs
	.balign 16
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if !((vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30))
	pushq $0
	.endif
	.if vec < 128
	pushq $vec
	.else
	pushq $(vec - 256)	/* push imm8 sign-extends; the handler masks to 8 bits */
	.endif
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rbp
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %rcx
	pushq %rbx
	pushq %rax
	cld
	movq %rsp, %rdi
	call trap_dispatch
	popq %rax
	popq %rbx
	popq %rcx
	popq %rdx
	popq %rsi
	popq %rdi
	popq %rbp
	popq %r8
	popq %r9
	popq %r10
	popq %r11
	popq %r12
	popq %r13
	popq %r14
	popq %r15
	addq $16, %rsp
	iretq

	.section .note.GNU-stack, "", @progbits
