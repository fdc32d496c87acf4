/* AP start-up code, copied to a page below 1 MiB. An AP wakes up here in real mode (CS = page >> 4,
 * IP = 0), goes through 32-bit protected mode into long mode on the hypervisor's page tables and
 * jumps to ap_entry(percpu) on its own stack. Everything it needs is in the parameter block at
 * tr_params, filled in by arch/x86_64/smp.c; %ebx holds the page's linear address throughout. */

#define OFF(label) ((label) - ap_trampoline_start)

/* Parameter block layout: keep in sync with struct trampoline_params in smp.c. */
#define P_GDT_DESC 0   /* u16 limit, u32 base (patched) */
#define P_PM_JUMP 8    /* u32 offset, u16 selector */
#define P_LM_JUMP 16   /* u32 offset, u16 selector */
#define P_CR3 24       /* u32 */
#define P_EFER 28      /* u32: bits to set in EFER besides LME */
#define P_STACK 32     /* u64 */
#define P_ENTRY 40     /* u64 */
#define P_ARG 48       /* u64 */
#define P_CR4 56       /* u32 */

	.text
	.globl ap_trampoline_start, ap_trampoline_end, ap_trampoline_params
	.hidden ap_trampoline_start, ap_trampoline_end, ap_trampoline_params
	.balign 16
	.code16
ap_trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	movzwl %ax, %ebx
	shll $4, %ebx
	lgdtl OFF(tr_params) + P_GDT_DESC
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl *OFF(tr_params) + P_PM_JUMP

	.code32
tr_protected:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl OFF(tr_params) + P_CR4(%ebx), %eax
	movl %eax, %cr4
	movl OFF(tr_params) + P_CR3(%ebx), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax	/* LME */
	orl OFF(tr_params) + P_EFER(%ebx), %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax	/* PG | WP | PE */
	movl %eax, %cr0
	ljmpl *OFF(tr_params) + P_LM_JUMP(%ebx)

	.code64
tr_long:
	movl %ebx, %ebx		/* upper halves are undefined after the mode switch */
	movq OFF(tr_params) + P_STACK(%rbx), %rsp
	movq OFF(tr_params) + P_ARG(%rbx), %rdi
	movq OFF(tr_params) + P_ENTRY(%rbx), %rax
	xorl %ebp, %ebp
	pushq $0		/* a zero return address ends backtraces */
	jmpq *%rax

	.balign 16
tr_gdt:
	.quad 0
	.quad 0x00cf9b000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf93000000ffff	/* 0x10: data */
	.quad 0x00af9b000000ffff	/* 0x18: 64-bit code */
tr_gdt_end:

	.balign 16
ap_trampoline_params:
tr_params:
	.fill 64, 1, 0
ap_trampoline_end:

	.globl ap_trampoline_gdt_offset, ap_trampoline_pm_offset, ap_trampoline_lm_offset
	.hidden ap_trampoline_gdt_offset, ap_trampoline_pm_offset, ap_trampoline_lm_offset
	.section .rodata
	.balign 4
ap_trampoline_gdt_offset: .long OFF(tr_gdt)
ap_trampoline_pm_offset: .long OFF(tr_protected)
ap_trampoline_lm_offset: .long OFF(tr_long)

	.section .note.GNU-stack, "", @progbits
