/* The LAPIC access policy. A guest owns the physical LAPIC of each of its CPUs (DESIGN.md,
 * "Interrupts and time"): its EOIs, TPR, timer, LVTs, SVR and ESR go to the real LAPIC. What
 * could reach another partition is trapped and decided here: in xAPIC mode the whole APIC page
 * traps and every access arrives decoded; in x2APIC mode only the MSRs that
 * vlapic_x2apic_msr_passthrough() refuses trap. Pure: this module never touches hardware, the
 * caller performs what the returned action says (see docs/isolation.md, "LAPIC").
 *
 * The guest's MADT lists its CPUs with their real APIC IDs, so IDs are never translated; an IPI
 * is resolved into the set of the partition's vCPUs it reaches (a bitmask of vCPU indices), and
 * anything naming a CPU outside the partition is dropped and reported. Logical destinations are
 * resolved against the LDR/DFR the guest wrote, which are kept here and never reach the
 * hardware. */
#ifndef BH_HV_VLAPIC_H
#define BH_HV_VLAPIC_H

#include "types.h"

#define VLAPIC_MAX_VCPUS 64 /* vCPUs per partition a target mask can name (u64) */

/* xAPIC register offsets in the APIC page (x2APIC MSR = 0x800 + offset / 16). */
#define VLAPIC_REG_ID 0x020
#define VLAPIC_REG_VERSION 0x030
#define VLAPIC_REG_TPR 0x080
#define VLAPIC_REG_APR 0x090
#define VLAPIC_REG_PPR 0x0a0
#define VLAPIC_REG_EOI 0x0b0
#define VLAPIC_REG_RRD 0x0c0
#define VLAPIC_REG_LDR 0x0d0
#define VLAPIC_REG_DFR 0x0e0
#define VLAPIC_REG_SVR 0x0f0
#define VLAPIC_REG_ISR 0x100 /* 8 registers, to 0x170 */
#define VLAPIC_REG_TMR 0x180 /* 8 registers, to 0x1f0 */
#define VLAPIC_REG_IRR 0x200 /* 8 registers, to 0x270 */
#define VLAPIC_REG_ESR 0x280
#define VLAPIC_REG_LVT_CMCI 0x2f0
#define VLAPIC_REG_ICR_LOW 0x300
#define VLAPIC_REG_ICR_HIGH 0x310
#define VLAPIC_REG_LVT_TIMER 0x320
#define VLAPIC_REG_LVT_THERMAL 0x330
#define VLAPIC_REG_LVT_PERF 0x340
#define VLAPIC_REG_LVT_LINT0 0x350
#define VLAPIC_REG_LVT_LINT1 0x360
#define VLAPIC_REG_LVT_ERROR 0x370
#define VLAPIC_REG_TIMER_INITIAL 0x380
#define VLAPIC_REG_TIMER_CURRENT 0x390
#define VLAPIC_REG_TIMER_DIVIDE 0x3e0
#define VLAPIC_REG_SELF_IPI 0x3f0    /* x2APIC only */
#define VLAPIC_PAGE_SIZE 0x1000

#define VLAPIC_X2APIC_MSR_FIRST 0x800
#define VLAPIC_X2APIC_MSR_LAST 0x8ff
#define VLAPIC_X2APIC_MSR(reg) (VLAPIC_X2APIC_MSR_FIRST + ((reg) >> 4))
#define VLAPIC_MSR_ICR VLAPIC_X2APIC_MSR(VLAPIC_REG_ICR_LOW) /* 0x830 */

/* IA32_APIC_BASE (MSR 0x1b) as the guest sees it: the base never moves; BSP is vCPU 0. */
#define VLAPIC_APIC_BASE_ADDR 0xfee00000ull
#define VLAPIC_APIC_BASE_BSP (1ull << 8)
#define VLAPIC_APIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define VLAPIC_APIC_BASE_EN (1ull << 11)   /* globally enabled */

/* The mode the guest put its LAPIC in through IA32_APIC_BASE (EN, EXTD). Virtual: the physical
 * LAPIC stays in the hypervisor's mode (x2APIC wherever the CPU has it, lapic.c), so the
 * hypervisor's own IPIs and NMIs never depend on what a guest chose. */
enum vlapic_mode {
	VLAPIC_MODE_DISABLED, /* EN=0, EXTD=0: neither the APIC page nor the MSRs answer */
	VLAPIC_MODE_XAPIC,    /* EN=1, EXTD=0: the page is decoded (vlapic_mmio); the reset mode */
	VLAPIC_MODE_X2APIC,   /* EN=1, EXTD=1: the MSRs (vlapic_msr and pass-through) */
};

/* Version register bit 31 (AMD): the extended APIC register space (0x400-0x53f) is present.
 * Hidden from guests: its control register changes how the CPU matches APIC IDs. */
#define VLAPIC_VERSION_EXTENDED (1u << 31)

/* The LAPIC of one vCPU, as far as it is not the hardware's. */
struct vlapic {
	u32 index;    /* vCPU index in the partition (bit `index` of a target mask) */
	u32 apic_id;  /* APIC ID of its physical CPU, as the guest's MADT lists it */
	u32 version;  /* what the version register reads (the hardware's, extended space hidden) */
	u32 ldr;      /* xAPIC: the logical APIC ID the guest wrote (bits 24-31); read by the other
		       * vCPUs of the partition while resolving, hence atomic accesses */
	u32 dfr;      /* xAPIC: destination format model the guest wrote (bits 28-31) */
	u32 icr_low;  /* last ICR low half written; reads show delivery status 0 (idle) */
	u32 icr_high; /* ICR destination: xAPIC bits 24-31, x2APIC all 32 bits */
	enum vlapic_mode mode; /* kept across INIT, as the hardware keeps it; reset: xAPIC */
};

/* A partition's vCPUs, to resolve destinations; vCPU i is cpu[i]. */
struct vlapic_group {
	u32 count;
	struct vlapic cpu[VLAPIC_MAX_VCPUS];
};

enum vlapic_action {
	/* Emulated here and finished; a read's result is in *value. */
	VLAPIC_DONE,
	/* The caller reads the same register (offset or MSR) of the physical LAPIC into *value.
	 * From vlapic_mmio this assumes the host's LAPIC is in xAPIC mode too: through x2APIC
	 * MSRs some forwarded xAPIC accesses (APR, an absent CMCI LVT, a non-zero EOI or ESR
	 * write) would be #GP in the hypervisor. A host in x2APIC mode gives its guests x2APIC. */
	VLAPIC_FORWARD_READ,
	/* The caller writes *value to the same register of the physical LAPIC. */
	VLAPIC_FORWARD_WRITE,
	/* The caller delivers *ipi to the vCPUs in ipi->targets (never empty). If ipi->violation
	 * is set, the destination also named CPUs outside the partition: that part was dropped,
	 * and the caller counts a blocked access. */
	VLAPIC_SEND_IPI,
	/* Refused (ipi->violation says what): nothing reaches the hardware or another vCPU. The
	 * caller counts a blocked access and completes the instruction (a read returns *value,
	 * 0; a write is dropped). No exception: the guest sees a write that had no effect. */
	VLAPIC_VIOLATION,
	/* x2APIC MSRs only: the access is one the CPU answers with #GP (reserved bits, a
	 * read-only or absent register); the caller injects #GP(0) and changes nothing. */
	VLAPIC_GP,
};

enum vlapic_delivery {
	VLAPIC_IPI_FIXED,   /* an interrupt with `vector` (lowest priority arrives as this) */
	VLAPIC_IPI_NMI,
	VLAPIC_IPI_INIT,    /* the targets go to wait-for-SIPI */
	VLAPIC_IPI_STARTUP, /* the targets start in real mode at vector << 12 (CS = vector << 8) */
};

/* What an ICR write asks for, resolved. Filled by every call that takes it. */
struct vlapic_ipi {
	enum vlapic_delivery mode;
	u8 vector;            /* FIXED: the vector; STARTUP: the start page; else 0 */
	u64 targets;          /* bit i: vCPU i of the partition */
	const char *violation; /* what was refused or dropped (static text), NULL if nothing */
};

/* Sets up the group for `count` vCPUs (1..VLAPIC_MAX_VCPUS); vCPU i runs on the CPU with APIC
 * ID apic_ids[i]. `hw_version` is the physical LAPIC's version register (every CPU has the
 * same). Every vCPU starts in the reset state. BH_EINVAL for a bad count, duplicate IDs, or the
 * broadcast ID 0xffffffff. */
int vlapic_group_init(struct vlapic_group *g, u32 count, const u32 *apic_ids, u32 hw_version);

/* The vCPU's LAPIC after INIT: LDR 0, DFR flat, ICR 0 (ID, version and mode stay, as the SDM
 * says for INIT; a partition restart is vlapic_group_init). Only the emulated part: the
 * physical LAPIC is the caller's to reset. */
void vlapic_reset(struct vlapic *v);

/* What the guest's RDMSR of IA32_APIC_BASE returns. */
u64 vlapic_apic_base(const struct vlapic *v);

/* A guest's WRMSR of IA32_APIC_BASE: only the EN/EXTD transitions the SDM allows (xAPIC to
 * x2APIC or disabled, x2APIC to disabled, disabled to xAPIC, or no change), the base address
 * unchanged, no reserved bit; x2APIC only if `x2apic_offered` (the guest's CPUID shows it).
 * The BSP flag is ignored (the hardware's is read-only). BH_OK with v->mode updated, or
 * BH_EINVAL: the guest gets #GP and nothing changes. What a change of mode does to the
 * physical LAPIC and the intercepts is the caller's (hv/pdev.c). */
int vlapic_apic_base_write(struct vlapic *v, u64 value, bool x2apic_offered);

/* One guest access to the xAPIC page, at `offset` (0..0xfff) of `size` bytes (1, 2, 4 or 8).
 * For a write *value holds what is written (truncated to 32 bits by the caller); for a read
 * the result goes into *value (FORWARD_READ: the caller puts it there). Only 32-bit accesses
 * at the start of a 16-byte register are valid: anything else is a VIOLATION (read 0). Unless
 * the vCPU is in xAPIC mode the page is not the APIC's: reads all ones, writes ignored (DONE),
 * as for any address with nothing behind it. */
enum vlapic_action vlapic_mmio(struct vlapic *self, const struct vlapic_group *g, u32 offset,
			       u8 size, bool write, u32 *value, struct vlapic_ipi *ipi);

/* A write of `value` to the x2APIC ICR (MSR 0x830): bits 63-32 are the destination (x2APIC
 * ID, or cluster in 31-16 / member mask in 15-0 for logical mode). Reserved bits set: GP. */
enum vlapic_action vlapic_x2apic_icr_write(struct vlapic *self, const struct vlapic_group *g,
					   u64 value, struct vlapic_ipi *ipi);

/* One access to an x2APIC MSR (0x800..0x8ff) that was intercepted: the same decisions as
 * vlapic_mmio in x2APIC form (64-bit values; GP where the CPU would raise #GP). Every access
 * is GP unless the vCPU is in x2APIC mode, as on the hardware. */
enum vlapic_action vlapic_msr(struct vlapic *self, const struct vlapic_group *g, u32 msr,
			      bool write, u64 *value, struct vlapic_ipi *ipi);

/* True if a guest's RDMSR (write false) or WRMSR (write true) of `msr` may go to the hardware
 * without an intercept: the register only ever affects its own CPU. False for anything to be
 * decided by vlapic_msr, and for every MSR outside 0x800..0x8ff (not this module's). */
bool vlapic_x2apic_msr_passthrough(u32 msr, bool write);

/* The vCPUs a destination reaches, without shorthand (also for a vIOAPIC redirection entry):
 * physical or logical, xAPIC (8-bit, logical against the virtual LDR/DFR) or x2APIC (32-bit,
 * logical against the IDs' derived cluster IDs). *outside is set when the destination names
 * a CPU that is not in the partition. */
u64 vlapic_destination(const struct vlapic_group *g, u32 dest, bool logical, bool x2apic,
		       bool *outside);

#endif
