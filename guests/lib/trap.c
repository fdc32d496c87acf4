/* IDT and guards for the 64-bit guests (see trap.h). */
#include "guest.h"
#include "trap.h"

/* What trap_common (trap64.S) leaves on the stack. */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

struct idt_gate {
	u16 offset_low;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_high;
	u32 reserved;
} __attribute__((packed));

#define GATE_INTERRUPT_DPL0 0x8E

extern const u64 trap_stubs[256];
void trap_dispatch(struct trap_frame *f);

static struct idt_gate idt[256] __attribute__((aligned(16)));
static struct guard *volatile guard_top;

void trap_init(void)
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (u64)(uptr)idt };
	u16 cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	for (int v = 0; v < 256; v++) {
		u64 a = trap_stubs[v];

		idt[v] = (struct idt_gate){
			.offset_low = (u16)a,
			.selector = cs,
			.ist = 0,
			.type_attr = GATE_INTERRUPT_DPL0,
			.offset_mid = (u16)(a >> 16),
			.offset_high = (u32)(a >> 32),
		};
	}
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

static bool accepts(const struct guard *g, u64 vector)
{
	return g->accept == GUARD_ANY || (vector < 64 && (g->accept >> vector) & 1);
}

void trap_dispatch(struct trap_frame *f)
{
	struct trap_info info = { (u32)f->vector, f->error, f->rip, 0 };

	if (f->vector == VEC_PF)
		__asm__ volatile("mov %%cr2, %0" : "=r"(info.cr2));
	for (struct guard *g = guard_top; g; g = g->prev) {
		if (accepts(g, f->vector)) {
			g->fault = info;
			guard_top = g;
			guard_longjmp(g, 1);
		}
	}
	con_printf("FATAL: exception %u outside any guard: rip=0x%llx error=0x%llx cr2=0x%llx "
		   "rsp=0x%llx\n", info.vector, (unsigned long long)info.rip,
		   (unsigned long long)info.error, (unsigned long long)info.cr2,
		   (unsigned long long)f->rsp);
	triple_fault();
}

int guard_call(u64 accept, void (*fn)(void *arg), void *arg, struct trap_info *fault)
{
	struct guard g = { .prev = guard_top, .accept = accept };

	guard_top = &g;
	if (guard_setjmp(&g) == 0) {
		fn(arg);
		guard_top = g.prev;
		return -1;
	}
	guard_top = g.prev;
	if (fault)
		*fault = g.fault;
	return (int)g.fault.vector;
}
