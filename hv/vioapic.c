/* A virtual 82093AA I/O APIC: registers, redirection entries, pin semantics. */
#include "hv/vioapic.h"
#include "lib/string.h"

#define VERSION_VALUE ((u32)(VIOAPIC_PINS - 1) << 16 | VIOAPIC_VERSION)
#define ID_SHIFT 24
#define ID_MASK 0x0fu
/* Bits of the low dword a guest may write (delivery status and remote IRR are read-only). */
#define RTE_LOW_WRITABLE (VIOAPIC_RTE_VECTOR | VIOAPIC_RTE_DELMOD | VIOAPIC_RTE_LOGICAL | \
			  VIOAPIC_RTE_ACTIVE_LOW | VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_MASKED)
#define RTE_HIGH_WRITABLE 0xff000000u /* the destination */

static u32 delivery_mode(u64 rte)
{
	return (u32)((rte & VIOAPIC_RTE_DELMOD) >> VIOAPIC_RTE_DELMOD_SHIFT);
}

/* Level semantics apply only to fixed and lowest-priority entries. */
static bool is_level(u64 rte)
{
	u32 dm = delivery_mode(rte);

	return (rte & VIOAPIC_RTE_LEVEL) && (dm == VIOAPIC_DM_FIXED || dm == VIOAPIC_DM_LOWEST);
}

static void make_msg(const struct vioapic *a, u32 pin, struct vioapic_msg *msg)
{
	u64 rte = a->rte[pin];

	msg->vector = (u8)(rte & VIOAPIC_RTE_VECTOR);
	msg->delivery = (u8)delivery_mode(rte);
	msg->logical = rte & VIOAPIC_RTE_LOGICAL;
	msg->dest = (u8)(rte >> VIOAPIC_RTE_DEST_SHIFT);
	msg->level = is_level(rte);
	msg->pin = (u8)pin;
}

/* A level-triggered entry whose input is asserted: deliver unless masked or in service. */
static bool level_service(struct vioapic *a, u32 pin, struct vioapic_msg *msg)
{
	u64 rte = a->rte[pin];

	if (!(a->lines & (1u << pin)) || (rte & VIOAPIC_RTE_MASKED) || !is_level(rte) ||
	    (rte & VIOAPIC_RTE_REMOTE_IRR))
		return false;
	a->rte[pin] |= VIOAPIC_RTE_REMOTE_IRR;
	make_msg(a, pin, msg);
	return true;
}

void vioapic_reset(struct vioapic *a)
{
	a->id = a->initial_id;
	a->ioregsel = 0;
	for (u32 i = 0; i < VIOAPIC_PINS; i++)
		a->rte[i] = VIOAPIC_RTE_MASKED;
}

void vioapic_init(struct vioapic *a, u8 id)
{
	memset(a, 0, sizeof(*a));
	a->initial_id = id & ID_MASK;
	vioapic_reset(a);
}

static u32 window_read(const struct vioapic *a)
{
	u32 reg = a->ioregsel, pin;

	switch (reg) {
	case VIOAPIC_REG_ID:
	case VIOAPIC_REG_ARB: /* the arbitration ID follows the ID */
		return (u32)a->id << ID_SHIFT;
	case VIOAPIC_REG_VER:
		return VERSION_VALUE;
	default:
		if (reg < VIOAPIC_REG_REDTBL || reg >= VIOAPIC_REG_REDTBL + 2 * VIOAPIC_PINS)
			return 0;
		pin = (reg - VIOAPIC_REG_REDTBL) / 2;
		return (reg & 1) ? (u32)(a->rte[pin] >> 32) : (u32)a->rte[pin];
	}
}

static bool window_write(struct vioapic *a, u32 value, struct vioapic_msg *msg)
{
	u32 reg = a->ioregsel, pin;
	u64 rte;

	if (reg == VIOAPIC_REG_ID) {
		a->id = (u8)((value >> ID_SHIFT) & ID_MASK);
		return false;
	}
	if (reg < VIOAPIC_REG_REDTBL || reg >= VIOAPIC_REG_REDTBL + 2 * VIOAPIC_PINS)
		return false; /* version, arbitration: read-only; others: no register */
	pin = (reg - VIOAPIC_REG_REDTBL) / 2;
	rte = a->rte[pin];
	if (reg & 1) {
		a->rte[pin] = (rte & 0xffffffffull) | ((u64)(value & RTE_HIGH_WRITABLE) << 32);
		return false;
	}
	rte = (rte & ~0xffffffffull) | (value & RTE_LOW_WRITABLE) |
	      (rte & (VIOAPIC_RTE_DELIVS | VIOAPIC_RTE_REMOTE_IRR));
	if (!(rte & VIOAPIC_RTE_LEVEL))
		rte &= ~VIOAPIC_RTE_REMOTE_IRR; /* switching to edge clears remote IRR */
	a->rte[pin] = rte;
	return level_service(a, pin, msg);
}

static u32 dword_read(const struct vioapic *a, u64 offset)
{
	if (offset == VIOAPIC_IOREGSEL)
		return a->ioregsel;
	if (offset == VIOAPIC_IOWIN)
		return window_read(a);
	return 0;
}

u64 vioapic_mmio_read(struct vioapic *a, u64 offset, u8 size)
{
	u64 value = 0;

	for (u32 i = 0; i < size && i < 8; i++) {
		u64 o = offset + i;
		u32 reg = dword_read(a, o & ~3ull);

		value |= (u64)((reg >> (8 * (o & 3))) & 0xff) << (8 * i);
	}
	return value;
}

bool vioapic_mmio_write(struct vioapic *a, u64 offset, u8 size, u64 value,
			struct vioapic_msg *msg)
{
	bool delivered = false;
	u32 i = 0;

	while (i < size && i < 8) {
		u64 base = (offset + i) & ~3ull;
		u32 mask = 0, lanes = 0, merged;

		/* the bytes of the access that fall into this dword */
		for (; i < size && i < 8 && ((offset + i) & ~3ull) == base; i++) {
			u32 lane = (u32)((offset + i) & 3);

			mask |= 0xffu << (8 * lane);
			lanes |= (u32)((value >> (8 * i)) & 0xff) << (8 * lane);
		}
		merged = (dword_read(a, base) & ~mask) | lanes;
		if (base == VIOAPIC_IOREGSEL)
			a->ioregsel = (u8)merged;
		else if (base == VIOAPIC_IOWIN && window_write(a, merged, msg))
			delivered = true;
	}
	return delivered;
}

bool vioapic_set_irq(struct vioapic *a, u32 pin, bool level, struct vioapic_msg *msg)
{
	bool was;
	u64 rte;

	if (pin >= VIOAPIC_PINS)
		return false;
	was = a->lines & (1u << pin);
	if (level)
		a->lines |= 1u << pin;
	else
		a->lines &= ~(1u << pin);
	rte = a->rte[pin];
	if (is_level(rte))
		return level_service(a, pin, msg);
	if (!level || was || (rte & VIOAPIC_RTE_MASKED))
		return false; /* edge-triggered: a rising edge, unmasked, or nothing */
	make_msg(a, pin, msg);
	return true;
}

u32 vioapic_eoi(struct vioapic *a, u8 vector, struct vioapic_msg msgs[VIOAPIC_PINS])
{
	u32 n = 0;

	for (u32 pin = 0; pin < VIOAPIC_PINS; pin++) {
		u64 rte = a->rte[pin];

		if (!(rte & VIOAPIC_RTE_REMOTE_IRR) || (rte & VIOAPIC_RTE_VECTOR) != vector)
			continue;
		a->rte[pin] &= ~VIOAPIC_RTE_REMOTE_IRR;
		if (level_service(a, pin, &msgs[n]))
			n++;
	}
	return n;
}

bool vioapic_pin_masked(const struct vioapic *a, u32 pin)
{
	return pin >= VIOAPIC_PINS || (a->rte[pin] & VIOAPIC_RTE_MASKED);
}
