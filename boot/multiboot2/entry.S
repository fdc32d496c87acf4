/* The multiboot2 entry: the header GRUB looks for, and the 32-bit code GRUB jumps to.
 *
 * GRUB enters in 32-bit protected mode with paging off, EAX = MB2_BOOTLOADER_MAGIC, EBX = the
 * physical address of the boot information, interrupts off, and no usable stack or IDT. This
 * code keeps the three values that matter (EAX, EBX, the TSC), loads a GDT of its own, clears
 * .bss, checks that the CPU has long mode, identity-maps the first 4 GiB with 2 MiB pages,
 * enables long mode and calls mb2_main(magic, info) in C on the boot stack. Everything it uses
 * lies inside the image, which the boot_info memory map reports as loader memory. */
#include "boot/multiboot2.h"

#define SEL_CODE32 0x08
#define SEL_DATA 0x10
#define SEL_CODE64 0x18

#define BOOT_STACK_SIZE (64 * 1024)
#define PTE_P_W 0x003
#define PTE_P_W_PS 0x083
#define CR0_PE 0x00000001
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define COM1 0x3f8

/* ---------------------------------------------------------------------- header */
	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* Modules on page boundaries (boot_file.addr is 4 KiB aligned). */
	.balign 8
	.short MB2_HEADER_TAG_MODULE_ALIGN, 0
	.long 8
	.balign 8
	.short MB2_HEADER_TAG_END, 0
	.long 8
mb2_header_end:

/* ---------------------------------------------------------------------- 32-bit entry */
	.section .text.mb2_entry, "ax"
	.code32
	.globl mb2_entry
	.hidden mb2_entry
	.type mb2_entry, @function
mb2_entry:
	cli
	cld
	/* .data, not .bss: .bss is cleared below. */
	movl %eax, mb2_entry_magic
	movl %ebx, mb2_entry_info
	rdtsc
	movl %eax, mb2_entry_tsc
	movl %edx, mb2_entry_tsc + 4

	lgdtl mb2_gdt_desc
	ljmpl $SEL_CODE32, $1f
1:	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $mb2_stack_top, %esp

	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	/* Long mode: CPUID 0x80000001 EDX bit 29. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	/* 4 page directories of 2 MiB pages: 0 - 4 GiB, identity. */
	movl $mb2_pd, %edi
	movl $PTE_P_W_PS, %eax
	xorl %edx, %edx
	movl $2048, %ecx
2:	movl %eax, (%edi)
	movl %edx, 4(%edi)
	addl $0x200000, %eax
	adcl $0, %edx
	addl $8, %edi
	loop 2b
	/* PDPT[0..3] -> the directories; PML4[0] -> the PDPT. */
	movl $mb2_pdpt, %edi
	movl $mb2_pd + PTE_P_W, %eax
	movl $4, %ecx
3:	movl %eax, (%edi)
	addl $0x1000, %eax
	addl $8, %edi
	loop 3b
	movl $mb2_pdpt + PTE_P_W, mb2_pml4

	movl $mb2_pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE64, $long_mode

/* Without long mode there is nothing to run: say so on COM1 and stop. */
no_long_mode:
	movl $no_long_mode_msg, %esi
4:	lodsb
	testb %al, %al
	jz 7f
	movb %al, %bl
	movw $COM1 + 5, %dx
	movl $100000, %ecx
5:	inb %dx, %al
	testb $0x20, %al
	jnz 6f
	loop 5b
6:	movw $COM1, %dx
	movb %bl, %al
	outb %al, %dx
	jmp 4b
7:	hlt
	jmp 7b

	.code64
long_mode:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movl $mb2_stack_top, %esp
	xorl %ebp, %ebp
	movl mb2_entry_magic(%rip), %edi
	movl mb2_entry_info(%rip), %esi
	call mb2_main
8:	cli
	hlt
	jmp 8b
	.size mb2_entry, . - mb2_entry

/* ---------------------------------------------------------------------- data */
	.section .rodata.mb2_entry, "a"
no_long_mode_msg:
	.asciz "bulkhead: this CPU has no 64-bit long mode; stopping\r\n"

	.section .data.mb2_entry, "aw"
	.balign 8
	.globl mb2_entry_tsc
	.hidden mb2_entry_tsc
mb2_entry_tsc:
	.quad 0
mb2_entry_magic:
	.long 0
mb2_entry_info:
	.long 0
	.balign 8
mb2_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code, flat */
	.quad 0x00cf92000000ffff	/* 0x10: data, flat */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
mb2_gdt_end:
	.balign 8
	.word 0
mb2_gdt_desc:
	.word mb2_gdt_end - mb2_gdt - 1
	.long mb2_gdt

	.section .bss.mb2_entry, "aw", @nobits
	.balign 4096
	.globl mb2_pdpt, mb2_stack_top
	.hidden mb2_pdpt, mb2_stack_top
mb2_pml4:
	.skip 4096
mb2_pdpt:
	.skip 4096
mb2_pd:
	.skip 4 * 4096
mb2_stack:
	.skip BOOT_STACK_SIZE
mb2_stack_top:
