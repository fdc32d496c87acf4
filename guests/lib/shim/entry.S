/* TEST-ONLY shim (see shim.c): a Multiboot 1 kernel that QEMU's -kernel boots. */
#define MB1_HEADER_MAGIC 0x1BADB002
#define MB1_HEADER_FLAGS 0x00000002	/* memory information, with the memory map */

	.section .multiboot, "a"
	.balign 4
	.long MB1_HEADER_MAGIC
	.long MB1_HEADER_FLAGS
	.long -(MB1_HEADER_MAGIC + MB1_HEADER_FLAGS)

	.code32
	.section .text.entry, "ax"
	.globl _start
_start:
	cli
	cld
	movl $shim_stack_top, %esp
	pushl %ebx
	pushl %eax
	call shim_main
1:	cli
	hlt
	jmp 1b

/* shim_enter32(entry, magic, info): jump to a 32-bit kernel the multiboot way. */
	.text
	.globl shim_enter32
shim_enter32:
	movl 4(%esp), %ecx
	movl 8(%esp), %eax
	movl 12(%esp), %ebx
	jmp *%ecx

/* shim_enter64(cr3, entry, magic, info): long mode on the given tables, then jump to entry with
 * RDI = info, RSI = magic. Entry, magic and info are below 4 GiB. */
	.globl shim_enter64
shim_enter64:
	movl 8(%esp), %edi		/* entry */
	movl 12(%esp), %esi		/* magic */
	movl 16(%esp), %ebp		/* info */
	movl 4(%esp), %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $0x20, %eax			/* PAE */
	movl %eax, %cr4
	movl $0xc0000080, %ecx		/* EFER */
	rdmsr
	orl $0x100, %eax		/* LME */
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax		/* PG, PE */
	movl %eax, %cr0
	lgdt shim_gdt_pointer
	ljmp $0x08, $1f
	.code64
1:	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %edi, %edi			/* zero-extend entry */
	movq %rdi, %rax
	movl %ebp, %edi			/* RDI = info */
	movl %esi, %esi			/* RSI = magic */
	xorl %esp, %esp			/* the protocol defines no stack */
	jmp *%rax

	.section .rodata
	.balign 16
shim_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF
	.quad 0x00CF92000000FFFF
shim_gdt_end:
shim_gdt_pointer:
	.short shim_gdt_end - shim_gdt - 1
	.long shim_gdt

	.section .bss.stack, "aw", @nobits
	.balign 16
	.skip 16384
shim_stack_top:
