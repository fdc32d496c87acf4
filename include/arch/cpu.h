/* Descriptor tables and CPU bring-up. */
#ifndef BH_ARCH_CPU_H
#define BH_ARCH_CPU_H

#include "types.h"

#define GDT_CODE64 0x08
#define GDT_DATA 0x10
#define GDT_TSS 0x18 /* two slots */
#define GDT_ENTRIES 5

/* IST stacks: faults that must not run on a possibly broken stack. */
enum { IST_DOUBLE_FAULT = 1, IST_NMI = 2, IST_MACHINE_CHECK = 3, IST_COUNT = 3 };
#define IST_STACK_SIZE (8 * KiB)

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} PACKED;

struct arch_cpu {
	u64 gdt[GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss64 tss __attribute__((aligned(16)));
	u64 ist_stacks[IST_COUNT]; /* tops */
};

/* Register frame pushed by the interrupt stubs (arch/x86_64/isr.S). */
struct trap_frame {
	u64 rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss;
};

struct percpu;

/* Builds the shared IDT once (boot CPU). */
void idt_init(void);
/* Loads this CPU's GDT, TSS and the IDT, sets GS to its percpu. */
void cpu_load_tables(struct percpu *cpu);
/* EFER.NXE, CR0.WP and the like: what every CPU needs before it runs on our page tables. */
void cpu_enable_features(void);
bool cpu_has_nx(void);
bool cpu_has_1g_pages(void);
/* A CPU is writing a fault report right now. */
bool trap_reports_pending(void);

#endif
