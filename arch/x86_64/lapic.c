/* Local APIC access in both modes. */
#include "arch/lapic.h"
#include "arch/x86.h"

#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ull

#define REG_ID 0x20
#define REG_VERSION 0x30
#define REG_TPR 0x80
#define REG_EOI 0xb0
#define REG_SVR 0xf0
#define REG_ISR 0x100 /* 8 registers of 32 vectors, 16 bytes apart */
#define REG_ESR 0x280
#define REG_LVT_CMCI 0x2f0
#define REG_LVT_TIMER 0x320
#define REG_LVT_THERMAL 0x330
#define REG_LVT_PERF 0x340
#define REG_LVT_LINT0 0x350
#define REG_LVT_LINT1 0x360
#define REG_LVT_ERROR 0x370
#define REG_TIMER_INITIAL 0x380
#define REG_ICR_LOW 0x300
#define REG_ICR_HIGH 0x310
#define X2APIC_MSR(reg) (0x800 + ((reg) >> 4))
#define X2APIC_ICR 0x830

#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define SPURIOUS_VECTOR 0xff
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_BUSY (1u << 12)

static bool use_x2apic;
static u64 mmio;

void lapic_choose_mode(u64 mmio_base)
{
	use_x2apic = (cpuid(1, 0).ecx & (1u << 21)) != 0;
	mmio = mmio_base ? mmio_base : LAPIC_DEFAULT_BASE;
}

bool lapic_x2apic(void)
{
	return use_x2apic;
}

static u32 lapic_read(u32 reg)
{
	if (use_x2apic)
		return (u32)rdmsr(X2APIC_MSR(reg));
	return mmio_read32(mmio + reg);
}

static void lapic_write(u32 reg, u32 v)
{
	if (use_x2apic)
		wrmsr(X2APIC_MSR(reg), v);
	else
		mmio_write32(mmio + reg, v);
}

void lapic_enable(void)
{
	u64 base = rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE;

	if (use_x2apic)
		base |= APIC_BASE_X2APIC;
	wrmsr(MSR_APIC_BASE, base);
	if (!use_x2apic)
		mmio = base & APIC_BASE_ADDR_MASK;
	lapic_write(REG_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
}

u32 lapic_id(void)
{
	u32 id = lapic_read(REG_ID);

	return use_x2apic ? id : id >> 24;
}

bool lapic_wait_idle(void)
{
	if (use_x2apic)
		return true;
	for (u32 i = 0; i < 1000000; i++) {
		if (!(mmio_read32(mmio + REG_ICR_LOW) & ICR_BUSY))
			return true;
		cpu_relax();
	}
	return false;
}

static void send_ipi(u32 apic_id, u32 command)
{
	if (use_x2apic) {
		wrmsr(X2APIC_ICR, ((u64)apic_id << 32) | command);
		return;
	}
	lapic_wait_idle();
	mmio_write32(mmio + REG_ICR_HIGH, apic_id << 24);
	mmio_write32(mmio + REG_ICR_LOW, command);
	lapic_wait_idle();
}

void lapic_send_init(u32 apic_id)
{
	send_ipi(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
}

void lapic_send_sipi(u32 apic_id, u8 vector_page)
{
	send_ipi(apic_id, ICR_STARTUP | ICR_LEVEL_ASSERT | vector_page);
}

void lapic_send_ipi(u32 apic_id, u8 vector)
{
	send_ipi(apic_id, vector); /* fixed delivery, physical destination, edge */
}

void lapic_send_nmi(u32 apic_id)
{
	send_ipi(apic_id, 4u << 8); /* NMI delivery, physical destination */
}

u32 lapic_reg_read(u32 reg)
{
	return lapic_read(reg);
}

void lapic_reg_write(u32 reg, u32 value)
{
	lapic_write(reg, value);
}

void lapic_eoi(void)
{
	lapic_write(REG_EOI, 0);
}

static bool in_service_any(void)
{
	for (u32 i = 0; i < 8; i++)
		if (lapic_read(REG_ISR + 16 * i))
			return true;
	return false;
}

void lapic_reset_idle(void)
{
	/* Which LVTs exist: the version register's "max LVT entry" (x2APIC #GPs on absent ones).
	 * 3: timer, LINT0, LINT1, error; 4: + performance counters; 5: + thermal; 6: + CMCI. */
	u32 max_lvt = (lapic_read(REG_VERSION) >> 16) & 0xff;

	/* Sources first, so nothing new arrives while the rest is put back. Masking a one-shot
	 * or periodic timer does not stop it counting: the initial count 0 does. */
	lapic_write(REG_LVT_TIMER, LVT_MASKED);
	lapic_write(REG_TIMER_INITIAL, 0);
	lapic_write(REG_LVT_LINT0, LVT_MASKED);
	lapic_write(REG_LVT_LINT1, LVT_MASKED);
	lapic_write(REG_LVT_ERROR, LVT_MASKED);
	if (max_lvt >= 4)
		lapic_write(REG_LVT_PERF, LVT_MASKED);
	if (max_lvt >= 5)
		lapic_write(REG_LVT_THERMAL, LVT_MASKED);
	if (max_lvt >= 6)
		lapic_write(REG_LVT_CMCI, LVT_MASKED);
	lapic_write(REG_ESR, 0); /* xAPIC: the write latches and clears the error bits */
	lapic_write(REG_TPR, 0);
	lapic_write(REG_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
	/* Interrupts the guest took but never acknowledged would block every vector of their
	 * priority class and below: each EOI retires the highest one in service. */
	for (u32 i = 0; i < 256 && in_service_any(); i++)
		lapic_eoi();
}
