/* The LAPIC access policy: which guest accesses go to the physical LAPIC, which are emulated,
 * and what an ICR write may reach. The table and the reasons are in docs/isolation.md
 * ("LAPIC"); the decisions that are not the hardware's own:
 *
 * - The APIC ID reads as the real one (the guest's MADT has the real IDs) and cannot be
 *   changed: a CPU answering to another ID would receive IPIs meant for another partition and
 *   miss the hypervisor's own.
 * - LDR and DFR are kept here, never written to the hardware: logical destinations are
 *   resolved against these values, and the hardware's must stay as the hypervisor set them.
 * - Every IPI is resolved to vCPUs of the partition. A physical destination naming another
 *   APIC ID is dropped and reported; a broadcast is the partition's CPUs. A destination that
 *   names CPUs both inside and outside (x2APIC logical mode only: xAPIC logical IDs are the
 *   partition's own) is delivered to the inside part and reported.
 * - SMI, ExtINT and the reserved delivery modes are refused. Lowest priority goes to one
 *   target, the lowest-numbered vCPU it names. INIT and STARTUP never reach the sending vCPU
 *   itself (the SDM calls those combinations invalid). Every other mode is honoured with
 *   every shorthand: Linux sends NMIs with the self and all-including-self shorthands
 *   (NMI self-test, late microcode loading), which the SDM lists as invalid combinations;
 *   delivering them within the partition harms no one.
 * - A fixed or lowest-priority IPI with a vector below 16 is dropped, as the hardware drops
 *   it (the sender's ESR bit is not emulated).
 * - An unmasked LVT entry may only deliver fixed, NMI, or (LINT0/LINT1) ExtINT interrupts:
 *   SMI would run the firmware's SMM handler, which on most machines stops every CPU, and
 *   INIT belongs to the hypervisor. A masked entry is accepted as written. */
#include "hv/vlapic.h"
#include "lib/error.h"

#define ICR_VECTOR 0x000000ffu
#define ICR_MODE_SHIFT 8
#define ICR_MODE_MASK 0x7u
#define ICR_LOGICAL (1u << 11)
#define ICR_BUSY (1u << 12)
#define ICR_ASSERT (1u << 14)
#define ICR_LEVEL (1u << 15)
#define ICR_SHORTHAND_SHIFT 18
#define ICR_SHORTHAND_MASK 0x3u
/* Bits of the low half that hold something: vector, mode, destination mode, level, trigger,
 * shorthand. The delivery status (bit 12) always reads 0: an IPI leaves at once. */
#define ICR_WRITABLE 0x000ccfffu
/* x2APIC: writing these is #GP (bit 12 is ignored, as an xAPIC driver may carry it over). */
#define X2APIC_ICR_RESERVED 0xfff32000u

enum { DM_FIXED, DM_LOWEST, DM_SMI, DM_RESERVED3, DM_NMI, DM_INIT, DM_STARTUP, DM_EXTINT };
enum { SH_NONE, SH_SELF, SH_ALL, SH_OTHERS };

#define XAPIC_DEST_SHIFT 24
#define XAPIC_BROADCAST 0xffu
#define X2APIC_BROADCAST 0xffffffffu

#define LDR_MASK 0xff000000u
#define DFR_MODEL_MASK 0xf0000000u
#define DFR_RESERVED_ONES 0x0fffffffu
#define DFR_FLAT 0xf
#define DFR_CLUSTER 0x0

#define LVT_MODE_SHIFT 8
#define LVT_MASKED (1u << 16)

static u64 all_mask(const struct vlapic_group *g)
{
	return g->count >= 64 ? ~0ull : (1ull << g->count) - 1;
}

static u64 bit(u32 index)
{
	return 1ull << index;
}

static void ipi_clear(struct vlapic_ipi *ipi)
{
	ipi->mode = VLAPIC_IPI_FIXED;
	ipi->vector = 0;
	ipi->targets = 0;
	ipi->violation = NULL;
}

int vlapic_group_init(struct vlapic_group *g, u32 count, const u32 *apic_ids, u32 hw_version)
{
	if (count == 0 || count > VLAPIC_MAX_VCPUS)
		return BH_EINVAL;
	for (u32 i = 0; i < count; i++) {
		if (apic_ids[i] == X2APIC_BROADCAST)
			return BH_EINVAL;
		for (u32 j = 0; j < i; j++)
			if (apic_ids[j] == apic_ids[i])
				return BH_EINVAL;
	}
	g->count = count;
	for (u32 i = 0; i < VLAPIC_MAX_VCPUS; i++) {
		struct vlapic *v = &g->cpu[i];

		v->index = i;
		v->apic_id = i < count ? apic_ids[i] : X2APIC_BROADCAST;
		v->version = hw_version & ~VLAPIC_VERSION_EXTENDED;
		v->mode = VLAPIC_MODE_XAPIC; /* as after RESET */
		vlapic_reset(v);
	}
	return BH_OK;
}

void vlapic_reset(struct vlapic *v)
{
	__atomic_store_n(&v->ldr, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&v->dfr, 0xffffffffu, __ATOMIC_RELAXED);
	v->icr_low = 0;
	v->icr_high = 0;
}

/* ---- IA32_APIC_BASE ------------------------------------------------------------------ */

/* Everything but EN, EXTD, BSP and the (fixed) base address is reserved. */
#define APIC_BASE_WRITABLE (VLAPIC_APIC_BASE_ADDR | VLAPIC_APIC_BASE_BSP | \
			    VLAPIC_APIC_BASE_EXTD | VLAPIC_APIC_BASE_EN)

u64 vlapic_apic_base(const struct vlapic *v)
{
	u64 value = VLAPIC_APIC_BASE_ADDR | (v->index == 0 ? VLAPIC_APIC_BASE_BSP : 0);

	if (v->mode != VLAPIC_MODE_DISABLED)
		value |= VLAPIC_APIC_BASE_EN;
	if (v->mode == VLAPIC_MODE_X2APIC)
		value |= VLAPIC_APIC_BASE_EXTD;
	return value;
}

/* The SDM's state diagram (x2APIC state transitions): from xAPIC to x2APIC or disabled; from
 * x2APIC only to disabled (never straight back to xAPIC); from disabled only to xAPIC. EN=0
 * with EXTD=1 is the invalid state, refused by the switch's default. */
static bool mode_transition_valid(enum vlapic_mode from, enum vlapic_mode to)
{
	if (from == to)
		return true;
	switch (from) {
	case VLAPIC_MODE_XAPIC:
		return true;
	case VLAPIC_MODE_X2APIC:
		return to == VLAPIC_MODE_DISABLED;
	case VLAPIC_MODE_DISABLED:
		return to == VLAPIC_MODE_XAPIC;
	default:
		return false;
	}
}

int vlapic_apic_base_write(struct vlapic *v, u64 value, bool x2apic_offered)
{
	bool en = value & VLAPIC_APIC_BASE_EN, extd = value & VLAPIC_APIC_BASE_EXTD;
	enum vlapic_mode to;

	if (value & ~APIC_BASE_WRITABLE)
		return BH_EINVAL;
	if ((value & VLAPIC_APIC_BASE_ADDR) != VLAPIC_APIC_BASE_ADDR)
		return BH_EINVAL; /* moving the page: the stage-2 layout has it at one address */
	if (extd && (!en || !x2apic_offered))
		return BH_EINVAL;
	to = !en ? VLAPIC_MODE_DISABLED : extd ? VLAPIC_MODE_X2APIC : VLAPIC_MODE_XAPIC;
	if (!mode_transition_valid(v->mode, to))
		return BH_EINVAL;
	v->mode = to;
	return BH_OK;
}

/* ---- destinations -------------------------------------------------------------------- */

static u64 physical_match(const struct vlapic_group *g, u32 dest, bool *outside)
{
	for (u32 i = 0; i < g->count; i++)
		if (g->cpu[i].apic_id == dest)
			return bit(i);
	*outside = true;
	return 0;
}

/* An xAPIC logical destination (MDA) against one LAPIC's LDR and DFR, as that LAPIC would
 * compare it. Cluster 15 addresses every cluster. A DFR model other than flat or cluster is
 * reserved: it matches nothing. */
static bool xapic_logical_match(u32 ldr, u32 dfr, u8 mda)
{
	u8 id = (u8)(ldr >> XAPIC_DEST_SHIFT);

	switch (dfr >> 28) {
	case DFR_FLAT:
		return (id & mda) != 0;
	case DFR_CLUSTER:
		if ((mda >> 4) != 0xf && (mda >> 4) != (id >> 4))
			return false;
		return (id & mda & 0xf) != 0;
	default:
		return false;
	}
}

/* x2APIC logical destination: cluster in bits 31-16, member mask in 15-0. A CPU's logical ID
 * derives from its x2APIC ID: cluster ID[19:4], member bit ID[3:0]. */
static u64 x2apic_logical(const struct vlapic_group *g, u32 dest, bool *outside)
{
	u32 cluster = dest >> 16, members = dest & 0xffff, named = 0;
	u64 targets = 0;

	for (u32 i = 0; i < g->count; i++) {
		u32 id = g->cpu[i].apic_id;
		u32 member = 1u << (id & 0xf);

		if ((id >> 4) == cluster && (members & member)) {
			targets |= bit(i);
			named |= member;
		}
	}
	if (members & ~named)
		*outside = true;
	return targets;
}

u64 vlapic_destination(const struct vlapic_group *g, u32 dest, bool logical, bool x2apic,
		       bool *outside)
{
	u64 targets = 0;

	*outside = false;
	if (x2apic) {
		if (dest == X2APIC_BROADCAST)
			return all_mask(g);
		return logical ? x2apic_logical(g, dest, outside) : physical_match(g, dest, outside);
	}
	dest &= 0xff;
	if (!logical)
		return dest == XAPIC_BROADCAST ? all_mask(g) : physical_match(g, dest, outside);
	/* The LDRs are the partition's own (virtual): a logical destination cannot name a CPU
	 * outside it; bits no vCPU claims reach nobody, as on a machine without those CPUs. */
	for (u32 i = 0; i < g->count; i++) {
		u32 ldr = __atomic_load_n(&g->cpu[i].ldr, __ATOMIC_RELAXED);
		u32 dfr = __atomic_load_n(&g->cpu[i].dfr, __ATOMIC_RELAXED);

		if (xapic_logical_match(ldr, dfr, (u8)dest))
			targets |= bit(i);
	}
	return targets;
}

/* ---- IPIs ---------------------------------------------------------------------------- */

/* Resolves an ICR write (low half `low`, destination `dest` already extracted). */
static enum vlapic_action send_ipi(const struct vlapic *self, const struct vlapic_group *g,
				   u32 low, u32 dest, bool x2apic, struct vlapic_ipi *ipi)
{
	u32 mode = (low >> ICR_MODE_SHIFT) & ICR_MODE_MASK;
	u8 vector = (u8)(low & ICR_VECTOR);
	bool outside = false;
	u64 targets = 0;

	switch (mode) {
	case DM_SMI:
		ipi->violation = "SMI IPI";
		return VLAPIC_VIOLATION;
	case DM_EXTINT:
		ipi->violation = "ExtINT IPI";
		return VLAPIC_VIOLATION;
	case DM_RESERVED3:
		ipi->violation = "IPI with reserved delivery mode 3";
		return VLAPIC_VIOLATION;
	case DM_INIT:
		/* INIT level de-assert: only re-synchronized arbitration IDs on old CPUs. */
		if ((low & ICR_LEVEL) && !(low & ICR_ASSERT))
			return VLAPIC_DONE;
		break;
	case DM_FIXED:
	case DM_LOWEST:
		if (vector < 16)
			return VLAPIC_DONE; /* illegal vector: the hardware sends nothing either */
		break;
	default:
		break;
	}

	switch ((low >> ICR_SHORTHAND_SHIFT) & ICR_SHORTHAND_MASK) {
	case SH_NONE:
		targets = vlapic_destination(g, dest, low & ICR_LOGICAL, x2apic, &outside);
		break;
	case SH_SELF:
		targets = bit(self->index);
		break;
	case SH_ALL:
		targets = all_mask(g);
		break;
	case SH_OTHERS:
		targets = all_mask(g) & ~bit(self->index);
		break;
	}

	switch (mode) {
	case DM_FIXED:
		ipi->mode = VLAPIC_IPI_FIXED;
		ipi->vector = vector;
		break;
	case DM_LOWEST:
		ipi->mode = VLAPIC_IPI_FIXED;
		ipi->vector = vector;
		targets &= ~targets + 1; /* the lowest-numbered vCPU named */
		break;
	case DM_NMI:
		ipi->mode = VLAPIC_IPI_NMI;
		break;
	case DM_INIT:
		ipi->mode = VLAPIC_IPI_INIT;
		targets &= ~bit(self->index);
		break;
	case DM_STARTUP:
		ipi->mode = VLAPIC_IPI_STARTUP;
		ipi->vector = vector;
		targets &= ~bit(self->index);
		break;
	}
	ipi->targets = targets;
	if (outside)
		ipi->violation = "IPI to a CPU outside the partition";
	if (targets)
		return VLAPIC_SEND_IPI;
	return outside ? VLAPIC_VIOLATION : VLAPIC_DONE;
}

enum vlapic_action vlapic_x2apic_icr_write(struct vlapic *self, const struct vlapic_group *g,
					   u64 value, struct vlapic_ipi *ipi)
{
	u32 low = (u32)value, dest = (u32)(value >> 32);

	ipi_clear(ipi);
	if (low & X2APIC_ICR_RESERVED)
		return VLAPIC_GP;
	self->icr_low = low & ICR_WRITABLE;
	self->icr_high = dest;
	return send_ipi(self, g, low, dest, true, ipi);
}

/* ---- LVTs ---------------------------------------------------------------------------- */

/* Why a write of `value` to the LVT register `reg` (xAPIC offset) is refused, or NULL. Only
 * the LVTs with a delivery mode field come here (not the timer's and the error LVT). */
static const char *lvt_refusal(u32 reg, u32 value)
{
	if (value & LVT_MASKED)
		return NULL; /* delivers nothing while masked; unmasking is another write */
	switch ((value >> LVT_MODE_SHIFT) & 0x7) {
	case DM_FIXED:
	case DM_NMI:
		return NULL;
	case DM_EXTINT:
		if (reg == VLAPIC_REG_LVT_LINT0 || reg == VLAPIC_REG_LVT_LINT1)
			return NULL;
		return "ExtINT delivery in an LVT other than LINT0/LINT1";
	case DM_SMI:
		return "SMI delivery in an LVT";
	case DM_INIT:
		return "INIT delivery in an LVT";
	default:
		return "reserved delivery mode in an LVT";
	}
}

static bool lvt_checked(u32 reg)
{
	switch (reg) {
	case VLAPIC_REG_LVT_CMCI:
	case VLAPIC_REG_LVT_THERMAL:
	case VLAPIC_REG_LVT_PERF:
	case VLAPIC_REG_LVT_LINT0:
	case VLAPIC_REG_LVT_LINT1:
		return true;
	default:
		return false;
	}
}

/* ---- xAPIC page ---------------------------------------------------------------------- */

/* How an xAPIC register is handled, apart from the emulated ones. */
enum reg_class {
	REG_ABSENT,     /* reads 0, writes ignored */
	REG_FORWARD,    /* read and write go to the hardware */
	REG_FORWARD_RO, /* reads go to the hardware, writes are ignored */
	REG_FORWARD_WO, /* writes go to the hardware, reads return 0 */
	REG_LVT,        /* reads go to the hardware, writes are checked (lvt_refusal) */
	REG_EMULATED,   /* ID, version, LDR, DFR, ICR */
};

static enum reg_class classify(u32 reg)
{
	if (reg >= VLAPIC_REG_ISR && reg < VLAPIC_REG_IRR + 0x80)
		return REG_FORWARD_RO; /* ISR, TMR, IRR */
	switch (reg) {
	case VLAPIC_REG_ID:
	case VLAPIC_REG_VERSION:
	case VLAPIC_REG_LDR:
	case VLAPIC_REG_DFR:
	case VLAPIC_REG_ICR_LOW:
	case VLAPIC_REG_ICR_HIGH:
		return REG_EMULATED;
	case VLAPIC_REG_TPR:
	case VLAPIC_REG_SVR:
	case VLAPIC_REG_ESR:
	case VLAPIC_REG_LVT_TIMER:
	case VLAPIC_REG_LVT_ERROR:
	case VLAPIC_REG_TIMER_INITIAL:
	case VLAPIC_REG_TIMER_DIVIDE:
		return REG_FORWARD;
	case VLAPIC_REG_APR:
	case VLAPIC_REG_PPR:
	case VLAPIC_REG_TIMER_CURRENT:
		return REG_FORWARD_RO;
	case VLAPIC_REG_EOI:
		return REG_FORWARD_WO;
	case VLAPIC_REG_LVT_CMCI:
	case VLAPIC_REG_LVT_THERMAL:
	case VLAPIC_REG_LVT_PERF:
	case VLAPIC_REG_LVT_LINT0:
	case VLAPIC_REG_LVT_LINT1:
		return REG_LVT;
	default:
		/* Remote read (obsolete), SELF IPI (x2APIC only), AMD's extended space (hidden
		 * by the version register) and the reserved offsets. */
		return REG_ABSENT;
	}
}

static enum vlapic_action emulated_read(const struct vlapic *self, u32 reg, u32 *value)
{
	switch (reg) {
	case VLAPIC_REG_ID:
		*value = self->apic_id << XAPIC_DEST_SHIFT;
		break;
	case VLAPIC_REG_VERSION:
		*value = self->version;
		break;
	case VLAPIC_REG_LDR:
		*value = __atomic_load_n(&self->ldr, __ATOMIC_RELAXED);
		break;
	case VLAPIC_REG_DFR:
		*value = __atomic_load_n(&self->dfr, __ATOMIC_RELAXED);
		break;
	case VLAPIC_REG_ICR_LOW:
		*value = self->icr_low;
		break;
	case VLAPIC_REG_ICR_HIGH:
		*value = self->icr_high;
		break;
	default:
		*value = 0;
		break;
	}
	return VLAPIC_DONE;
}

static enum vlapic_action emulated_write(struct vlapic *self, const struct vlapic_group *g,
					 u32 reg, u32 value, struct vlapic_ipi *ipi)
{
	switch (reg) {
	case VLAPIC_REG_LDR:
		__atomic_store_n(&self->ldr, value & LDR_MASK, __ATOMIC_RELAXED);
		break;
	case VLAPIC_REG_DFR:
		__atomic_store_n(&self->dfr, (value & DFR_MODEL_MASK) | DFR_RESERVED_ONES,
				 __ATOMIC_RELAXED);
		break;
	case VLAPIC_REG_ICR_HIGH:
		self->icr_high = value & LDR_MASK; /* destination in bits 24-31, the rest reserved */
		break;
	case VLAPIC_REG_ICR_LOW:
		self->icr_low = value & ICR_WRITABLE;
		return send_ipi(self, g, value, self->icr_high >> XAPIC_DEST_SHIFT, false, ipi);
	default:
		break; /* ID and version: ignored */
	}
	return VLAPIC_DONE;
}

enum vlapic_action vlapic_mmio(struct vlapic *self, const struct vlapic_group *g, u32 offset,
			       u8 size, bool write, u32 *value, struct vlapic_ipi *ipi)
{
	ipi_clear(ipi);
	if (self->mode != VLAPIC_MODE_XAPIC) {
		/* x2APIC mode or disabled: the page has nothing behind it. */
		if (!write)
			*value = 0xffffffffu;
		return VLAPIC_DONE;
	}
	if (offset >= VLAPIC_PAGE_SIZE || (offset & 0xf) || size != 4) {
		if (!write)
			*value = 0;
		ipi->violation = "APIC page access that is not 32 bits at a register's start";
		return VLAPIC_VIOLATION;
	}
	switch (classify(offset)) {
	case REG_EMULATED:
		if (write)
			return emulated_write(self, g, offset, *value, ipi);
		return emulated_read(self, offset, value);
	case REG_FORWARD:
		return write ? VLAPIC_FORWARD_WRITE : VLAPIC_FORWARD_READ;
	case REG_FORWARD_RO:
		return write ? VLAPIC_DONE : VLAPIC_FORWARD_READ;
	case REG_FORWARD_WO:
		if (write)
			return VLAPIC_FORWARD_WRITE;
		*value = 0;
		return VLAPIC_DONE;
	case REG_LVT:
		if (!write)
			return VLAPIC_FORWARD_READ;
		ipi->violation = lvt_refusal(offset, *value);
		return ipi->violation ? VLAPIC_VIOLATION : VLAPIC_FORWARD_WRITE;
	case REG_ABSENT:
	default:
		if (!write)
			*value = 0;
		return VLAPIC_DONE;
	}
}

/* ---- x2APIC MSRs --------------------------------------------------------------------- */

#define PASS_R 1u
#define PASS_W 2u

/* The x2APIC MSRs a guest reaches without an intercept, and how. Every one only ever acts on
 * its own CPU. Everything else in 0x800-0x8ff is intercepted: the ICR (IPIs must be checked;
 * its read shows the guest's last ICR, not the hypervisor's), the version (to hide AMD's
 * extended space), LVT writes with a delivery mode field (checked as in xAPIC mode), writes
 * to read-only registers and every absent or unknown register (#GP, decided here rather than
 * left to whatever a future CPU puts there). */
static const struct {
	u16 first, last;
	u8 pass;
} x2apic_pass[] = {
	{ 0x802, 0x802, PASS_R },          /* ID: the real one, which the MADT lists */
	{ 0x808, 0x808, PASS_R | PASS_W }, /* TPR */
	{ 0x80a, 0x80a, PASS_R },          /* PPR */
	{ 0x80b, 0x80b, PASS_W },          /* EOI */
	{ 0x80d, 0x80d, PASS_R },          /* LDR: read-only, derived from the real ID */
	{ 0x80f, 0x80f, PASS_R | PASS_W }, /* SVR */
	{ 0x810, 0x827, PASS_R },          /* ISR, TMR, IRR */
	{ 0x828, 0x828, PASS_R | PASS_W }, /* ESR */
	{ 0x82f, 0x82f, PASS_R },          /* LVT CMCI: writes checked */
	{ 0x832, 0x832, PASS_R | PASS_W }, /* LVT timer: no delivery mode field */
	{ 0x833, 0x836, PASS_R },          /* LVT thermal, perf, LINT0, LINT1: writes checked */
	{ 0x837, 0x837, PASS_R | PASS_W }, /* LVT error: no delivery mode field */
	{ 0x838, 0x838, PASS_R | PASS_W }, /* timer initial count */
	{ 0x839, 0x839, PASS_R },          /* timer current count */
	{ 0x83e, 0x83e, PASS_R | PASS_W }, /* timer divide configuration */
	{ 0x83f, 0x83f, PASS_W },          /* SELF IPI: a fixed vector to this CPU only */
};

bool vlapic_x2apic_msr_passthrough(u32 msr, bool write)
{
	for (u32 i = 0; i < ARRAY_SIZE(x2apic_pass); i++)
		if (msr >= x2apic_pass[i].first && msr <= x2apic_pass[i].last)
			return (x2apic_pass[i].pass & (write ? PASS_W : PASS_R)) != 0;
	return false;
}

enum vlapic_action vlapic_msr(struct vlapic *self, const struct vlapic_group *g, u32 msr,
			      bool write, u64 *value, struct vlapic_ipi *ipi)
{
	u32 reg;

	ipi_clear(ipi);
	if (self->mode != VLAPIC_MODE_X2APIC)
		return VLAPIC_GP;
	if (vlapic_x2apic_msr_passthrough(msr, write))
		return write ? VLAPIC_FORWARD_WRITE : VLAPIC_FORWARD_READ;
	if (msr < VLAPIC_X2APIC_MSR_FIRST || msr > VLAPIC_X2APIC_MSR_LAST)
		return VLAPIC_GP;
	reg = (msr - VLAPIC_X2APIC_MSR_FIRST) << 4;
	if (msr == VLAPIC_MSR_ICR) {
		if (write)
			return vlapic_x2apic_icr_write(self, g, *value, ipi);
		*value = ((u64)self->icr_high << 32) | self->icr_low;
		return VLAPIC_DONE;
	}
	if (reg == VLAPIC_REG_VERSION && !write) {
		*value = self->version;
		return VLAPIC_DONE;
	}
	if (write && lvt_checked(reg)) {
		if (*value >> 32)
			return VLAPIC_GP;
		ipi->violation = lvt_refusal(reg, (u32)*value);
		return ipi->violation ? VLAPIC_VIOLATION : VLAPIC_FORWARD_WRITE;
	}
	return VLAPIC_GP;
}
