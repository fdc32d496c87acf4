/* A setjmp/longjmp pair for guards (struct guard in trap.h: rbx, rbp, r12-r15, rsp, rip at
 * offsets 0-56). guard_longjmp is called from the exception handler: it abandons the exception
 * frame and everything above the guard's frame, which is what resuming means here. */
	.code64
	.text

	.globl guard_setjmp
	.type guard_setjmp, @function
guard_setjmp:
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	leaq 8(%rsp), %rax		/* the caller's rsp after we return */
	movq %rax, 48(%rdi)
	movq (%rsp), %rax		/* our return address */
	movq %rax, 56(%rdi)
	xorl %eax, %eax
	ret
	.size guard_setjmp, . - guard_setjmp

	.globl guard_longjmp
	.type guard_longjmp, @function
guard_longjmp:
	movl %esi, %eax
	testl %eax, %eax
	jnz 1f
	incl %eax			/* like longjmp: never return 0 a second time */
1:	movq 0(%rdi), %rbx
	movq 8(%rdi), %rbp
	movq 16(%rdi), %r12
	movq 24(%rdi), %r13
	movq 32(%rdi), %r14
	movq 40(%rdi), %r15
	movq 48(%rdi), %rsp
	cld
	jmpq *56(%rdi)
	.size guard_longjmp, . - guard_longjmp

	.globl triple_fault
	.type triple_fault, @function
triple_fault:
	cli
	lidt zero_idt(%rip)
	ud2				/* #UD -> #GP -> #DF -> shutdown: no vector is in the IDT */
	jmp triple_fault
	.size triple_fault, . - triple_fault

	.section .rodata
	.balign 16
	.short 0
	.short 0
	.short 0
zero_idt:
	.short 0			/* limit 0 */
	.quad 0
