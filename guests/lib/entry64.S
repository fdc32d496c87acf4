/* Entry of the 64-bit (plain ELF64) guests: long mode on the loader's identity-mapped page
 * tables, RDI = boot information, RSI = magic. No stack is defined: clear .bss (which holds
 * ours), take the stack, switch to our own GDT (the loader's lives in memory we do not own),
 * call guest_main(info, magic) and halt if it returns. */
	.code64
	.section .text.entry, "ax"
	.globl _start
	.type _start, @function
_start:
	cli
	cld
	movq %rdi, %r12			/* keep info and magic across the clearing */
	movq %rsi, %r13
	leaq __bss_start(%rip), %rdi
	leaq __bss_end(%rip), %rcx
	subq %rdi, %rcx
	xorl %eax, %eax
	rep stosb
	leaq guest_stack_top(%rip), %rsp

	lgdt gdt_pointer(%rip)
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	leaq 1f(%rip), %rax
	pushq $GDT_CODE
	pushq %rax
	lretq
1:
	movq %r12, %rdi
	movq %r13, %rsi
	call guest_main
2:	cli
	hlt
	jmp 2b
	.size _start, . - _start

	.set GDT_CODE, 0x08
	.set GDT_DATA, 0x10

	.section .rodata
	.balign 16
gdt:
	.quad 0				/* null */
	.quad 0x00AF9A000000FFFF	/* 0x08: 64-bit code, DPL 0 */
	.quad 0x00CF92000000FFFF	/* 0x10: data, DPL 0 */
gdt_end:
	.balign 8
	.short 0
gdt_pointer:
	.short gdt_end - gdt - 1
	.quad gdt

	.section .bss.stack, "aw", @nobits
	.balign 16
guest_stack:
	.skip 65536
guest_stack_top:
