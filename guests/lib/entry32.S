/* Entry of the 32-bit (multiboot) guests: protected mode, paging off, flat segments, EAX = the
 * loader's magic, EBX = the boot information. No stack is defined by the protocol: take ours,
 * clear .bss (a loader need not), call guest_main(magic, info) and halt if it returns. */
	.code32
	.section .text.entry, "ax"
	.globl _start
	.type _start, @function
_start:
	cli
	cld
	movl %eax, %esi			/* keep magic and info across the clearing */
	movl %ebx, %ebp
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl $guest_stack_top, %esp
	pushl %ebp			/* info */
	pushl %esi			/* magic */
	call guest_main
1:	cli
	hlt
	jmp 1b
	.size _start, . - _start

	.section .bss.stack, "aw", @nobits
	.balign 16
guest_stack:
	.skip 16384
guest_stack_top:
