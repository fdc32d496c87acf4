/* The 256 exception/interrupt entry stubs of the 64-bit guests. Each pushes a zero where the CPU
 * pushes no error code, then its vector, saves the general registers and calls
 * trap_dispatch(frame) (trap.c), which resumes a guard and never returns here in practice; if it
 * does, the frame is restored and IRETQ resumes the interrupted code. trap_stubs[] holds the
 * stubs' addresses for the IDT. */
	.code64
	.altmacro

.macro TRAP_STUB v
	.text
	.balign 16
trap_stub_\v:
	.if (\v == 8) || (\v == 10) || (\v == 11) || (\v == 12) || (\v == 13) || (\v == 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
	.else
	pushq $0
	.endif
	pushq $\v
	jmp trap_common
	.section .rodata
	.quad trap_stub_\v
.endm

	.section .rodata
	.balign 8
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.rept 256
	TRAP_STUB %vec
	.set vec, vec + 1
	.endr

	.text
	.balign 16
trap_common:
	cld
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi			/* struct trap_frame *; rsp is 16-byte aligned here */
	call trap_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp			/* vector, error code */
	iretq
