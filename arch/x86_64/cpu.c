/* GDT, TSS and IDT of the hypervisor. One IDT is shared; each CPU has its own GDT and TSS. */
#include "arch/cpu.h"
#include "arch/x86.h"
#include "hv/percpu.h"
#include "lib/string.h"

#define IDT_VECTORS 256
#define ISR_STUB_SIZE 16

struct idt_entry {
	u16 offset_low;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_high;
	u32 reserved;
} PACKED;

struct table_pointer {
	u16 limit;
	u64 base;
} PACKED;

extern u8 isr_stubs[]; /* IDT_VECTORS stubs of ISR_STUB_SIZE bytes, arch/x86_64/isr.S */

static struct idt_entry idt[IDT_VECTORS] __attribute__((aligned(16)));

static void idt_set(unsigned vector, u64 handler, u8 ist)
{
	idt[vector] = (struct idt_entry){
		.offset_low = (u16)handler,
		.selector = GDT_CODE64,
		.ist = ist,
		.type_attr = 0x8e, /* present, ring 0, 64-bit interrupt gate */
		.offset_mid = (u16)(handler >> 16),
		.offset_high = (u32)(handler >> 32),
	};
}

void idt_init(void)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++)
		idt_set(v, (u64)(uintptr_t)isr_stubs + v * ISR_STUB_SIZE, 0);
	idt[2].ist = IST_NMI;
	idt[8].ist = IST_DOUBLE_FAULT;
	idt[18].ist = IST_MACHINE_CHECK;
}

static void gdt_build(struct arch_cpu *a)
{
	u64 tss = (u64)(uintptr_t)&a->tss;
	u64 limit = sizeof(a->tss) - 1;

	a->gdt[0] = 0;
	a->gdt[1] = 0x00af9b000000ffffull; /* 64-bit code, ring 0 */
	a->gdt[2] = 0x00cf93000000ffffull; /* data, ring 0 */
	a->gdt[3] = (limit & 0xffff) | ((tss & 0xffffff) << 16) | (0x89ull << 40) |
		    (((limit >> 16) & 0xf) << 48) | (((tss >> 24) & 0xff) << 56);
	a->gdt[4] = tss >> 32;
}

static void tss_build(struct arch_cpu *a)
{
	memset(&a->tss, 0, sizeof(a->tss));
	for (unsigned i = 0; i < IST_COUNT; i++)
		a->tss.ist[i] = a->ist_stacks[i];
	a->tss.iomap_base = sizeof(a->tss); /* no I/O bitmap */
}

void cpu_load_tables(struct percpu *cpu)
{
	struct arch_cpu *a = &cpu->arch;
	struct table_pointer gdtp = { sizeof(a->gdt) - 1, (u64)(uintptr_t)a->gdt };
	struct table_pointer idtp = { sizeof(idt) - 1, (u64)(uintptr_t)idt };

	gdt_build(a);
	tss_build(a);
	__asm__ volatile("lgdt %0" ::"m"(gdtp));
	/* Reload CS with a far return, then the data segments. */
	__asm__ volatile("pushq %[cs]\n"
			 "leaq 1f(%%rip), %%rax\n"
			 "pushq %%rax\n"
			 "lretq\n"
			 "1:\n"
			 "movl %[ds], %%eax\n"
			 "movl %%eax, %%ds\n"
			 "movl %%eax, %%es\n"
			 "movl %%eax, %%ss\n"
			 "xorl %%eax, %%eax\n"
			 "movl %%eax, %%fs\n"
			 "movl %%eax, %%gs\n"
			 :
			 : [cs] "i"(GDT_CODE64), [ds] "i"(GDT_DATA)
			 : "rax", "memory");
	__asm__ volatile("ltr %w0" ::"r"(GDT_TSS));
	__asm__ volatile("lidt %0" ::"m"(idtp));
	wrmsr(MSR_GS_BASE, (u64)(uintptr_t)cpu);
}

bool cpu_has_nx(void)
{
	return cpuid(0x80000000, 0).eax >= 0x80000001 && (cpuid(0x80000001, 0).edx & (1u << 20));
}

bool cpu_has_1g_pages(void)
{
	return cpuid(0x80000000, 0).eax >= 0x80000001 && (cpuid(0x80000001, 0).edx & (1u << 26));
}

void cpu_enable_features(void)
{
	if (cpu_has_nx())
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	write_cr0(read_cr0() | CR0_WP);
}
