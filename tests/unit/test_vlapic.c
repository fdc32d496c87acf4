/* Unit tests of hv/vlapic.c, the LAPIC access policy: every register class of the xAPIC page,
 * every ICR shorthand and delivery mode, physical and logical (flat, cluster) destinations,
 * broadcasts, foreign APIC IDs, Linux's INIT/SIPI sequence, the x2APIC ICR and MSR table, and
 * accesses of the wrong size or alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "types.h"
#include "hv/vlapic.h"
#include "lib/error.h"

/* ICR low half fields */
#define FIXED (0u << 8)
#define LOWEST (1u << 8)
#define SMI (2u << 8)
#define DM3 (3u << 8)
#define NMI (4u << 8)
#define INIT (5u << 8)
#define STARTUP (6u << 8)
#define EXTINT (7u << 8)
#define LOGICAL (1u << 11)
#define BUSY (1u << 12)
#define ASSERT (1u << 14)
#define LEVEL (1u << 15)
#define SH_SELF (1u << 18)
#define SH_ALL (2u << 18)
#define SH_OTHERS (3u << 18)

#define LVT_MASKED (1u << 16)

/* A QEMU-like version register: version 0x14, 6 LVT entries; bit 31 as on AMD parts. */
#define HW_VERSION (0x80000000u | 0x00050014u)

static struct vlapic_group group;
static struct vlapic_ipi ipi;

/* A partition with `n` vCPUs on the CPUs with these APIC IDs. */
static struct vlapic_group *make(u32 n, const u32 *ids)
{
	memset(&group, 0xa5, sizeof(group));
	assert_int_equal(vlapic_group_init(&group, n, ids, HW_VERSION), BH_OK);
	return &group;
}

static struct vlapic_group *make_seq(u32 n, u32 first_id)
{
	u32 ids[VLAPIC_MAX_VCPUS];

	for (u32 i = 0; i < n; i++)
		ids[i] = first_id + i;
	return make(n, ids);
}

static enum vlapic_action rd(struct vlapic_group *g, u32 cpu, u32 offset, u32 *value)
{
	*value = 0xdeadbeef;
	return vlapic_mmio(&g->cpu[cpu], g, offset, 4, false, value, &ipi);
}

static u32 rdv(struct vlapic_group *g, u32 cpu, u32 offset)
{
	u32 value;

	assert_int_equal(rd(g, cpu, offset, &value), VLAPIC_DONE);
	return value;
}

static enum vlapic_action wr(struct vlapic_group *g, u32 cpu, u32 offset, u32 value)
{
	u32 v = value;
	enum vlapic_action a = vlapic_mmio(&g->cpu[cpu], g, offset, 4, true, &v, &ipi);

	assert_int_equal(v, value); /* a write's value is never changed */
	return a;
}

/* An xAPIC IPI: ICR high (destination) then ICR low, as every driver writes them. */
static enum vlapic_action send(struct vlapic_group *g, u32 cpu, u8 dest, u32 low)
{
	assert_int_equal(wr(g, cpu, VLAPIC_REG_ICR_HIGH, (u32)dest << 24), VLAPIC_DONE);
	return wr(g, cpu, VLAPIC_REG_ICR_LOW, low);
}

static void expect_ipi(enum vlapic_action a, enum vlapic_delivery mode, u8 vector, u64 targets)
{
	assert_int_equal(a, VLAPIC_SEND_IPI);
	assert_int_equal(ipi.mode, mode);
	assert_int_equal(ipi.vector, vector);
	assert_int_equal(ipi.targets, targets);
	assert_null(ipi.violation);
}

static void expect_nothing(enum vlapic_action a)
{
	assert_int_equal(a, VLAPIC_DONE);
	assert_int_equal(ipi.targets, 0);
	assert_null(ipi.violation);
}

static void expect_violation(enum vlapic_action a)
{
	assert_int_equal(a, VLAPIC_VIOLATION);
	assert_int_equal(ipi.targets, 0);
	assert_non_null(ipi.violation);
}

/* Linux's flat logical mode: DFR flat, LDR bit n for CPU n. */
static void linux_flat(struct vlapic_group *g)
{
	for (u32 i = 0; i < g->count; i++) {
		assert_int_equal(wr(g, i, VLAPIC_REG_DFR, 0xffffffff), VLAPIC_DONE);
		assert_int_equal(wr(g, i, VLAPIC_REG_LDR, (1u << i) << 24), VLAPIC_DONE);
	}
}

/* ---- set-up ---------------------------------------------------------------------------- */

static void test_group_init_rejects(void **state)
{
	u32 ids[VLAPIC_MAX_VCPUS + 1] = { 0 };

	(void)state;
	for (u32 i = 0; i <= VLAPIC_MAX_VCPUS; i++)
		ids[i] = i;
	assert_int_equal(vlapic_group_init(&group, 0, ids, 0), BH_EINVAL);
	assert_int_equal(vlapic_group_init(&group, VLAPIC_MAX_VCPUS + 1, ids, 0), BH_EINVAL);
	assert_int_equal(vlapic_group_init(&group, VLAPIC_MAX_VCPUS, ids, 0), BH_OK);
	ids[1] = 0xffffffff;
	assert_int_equal(vlapic_group_init(&group, 2, ids, 0), BH_EINVAL);
	ids[1] = 5;
	ids[2] = 5;
	assert_int_equal(vlapic_group_init(&group, 3, ids, 0), BH_EINVAL);
}

static void test_reset_state(void **state)
{
	static const u32 ids[] = { 4, 9 };
	struct vlapic_group *g = make(2, ids);

	(void)state;
	assert_int_equal(g->count, 2);
	for (u32 i = 0; i < 2; i++) {
		assert_int_equal(g->cpu[i].index, i);
		assert_int_equal(g->cpu[i].apic_id, ids[i]);
		assert_int_equal(rdv(g, i, VLAPIC_REG_LDR), 0);
		assert_int_equal(rdv(g, i, VLAPIC_REG_DFR), 0xffffffff);
		assert_int_equal(rdv(g, i, VLAPIC_REG_ICR_LOW), 0);
		assert_int_equal(rdv(g, i, VLAPIC_REG_ICR_HIGH), 0);
	}
	/* INIT puts the emulated part back, keeping ID and version */
	wr(g, 1, VLAPIC_REG_LDR, 0x02000000);
	wr(g, 1, VLAPIC_REG_DFR, 0x0fffffff);
	send(g, 1, 4, FIXED | 0x40);
	vlapic_reset(&g->cpu[1]);
	assert_int_equal(rdv(g, 1, VLAPIC_REG_LDR), 0);
	assert_int_equal(rdv(g, 1, VLAPIC_REG_DFR), 0xffffffff);
	assert_int_equal(rdv(g, 1, VLAPIC_REG_ICR_LOW), 0);
	assert_int_equal(rdv(g, 1, VLAPIC_REG_ICR_HIGH), 0);
	assert_int_equal(rdv(g, 1, VLAPIC_REG_ID), 9u << 24);
	assert_int_equal(rdv(g, 1, VLAPIC_REG_VERSION), 0x00050014);
}

/* ---- register classes ------------------------------------------------------------------ */

static void test_id_is_the_real_one_and_fixed(void **state)
{
	static const u32 ids[] = { 6, 7 };
	struct vlapic_group *g = make(2, ids);

	(void)state;
	assert_int_equal(rdv(g, 0, VLAPIC_REG_ID), 6u << 24);
	assert_int_equal(rdv(g, 1, VLAPIC_REG_ID), 7u << 24);
	expect_nothing(wr(g, 0, VLAPIC_REG_ID, 1u << 24)); /* ignored, never forwarded */
	assert_int_equal(rdv(g, 0, VLAPIC_REG_ID), 6u << 24);
	/* the IPI routing still knows vCPU 0 as APIC ID 6, and 1 is no one of the partition */
	expect_ipi(send(g, 1, 6, FIXED | 0x30), VLAPIC_IPI_FIXED, 0x30, 1);
	expect_violation(send(g, 1, 1, FIXED | 0x30));
}

static void test_version_hides_extended_space(void **state)
{
	struct vlapic_group *g = make_seq(1, 0);

	(void)state;
	assert_int_equal(rdv(g, 0, VLAPIC_REG_VERSION), HW_VERSION & ~VLAPIC_VERSION_EXTENDED);
	expect_nothing(wr(g, 0, VLAPIC_REG_VERSION, 0xffffffff));
	assert_int_equal(rdv(g, 0, VLAPIC_REG_VERSION), 0x00050014);
	/* the extended registers themselves are absent: read 0, writes go nowhere */
	for (u32 off = 0x400; off < 0x540; off += 0x10) {
		assert_int_equal(rdv(g, 0, off), 0);
		expect_nothing(wr(g, 0, off, 0xffffffff));
	}
}

static void test_forwarded_read_write(void **state)
{
	static const u32 regs[] = {
		VLAPIC_REG_TPR, VLAPIC_REG_SVR, VLAPIC_REG_ESR, VLAPIC_REG_LVT_TIMER,
		VLAPIC_REG_LVT_ERROR, VLAPIC_REG_TIMER_INITIAL, VLAPIC_REG_TIMER_DIVIDE,
	};
	struct vlapic_group *g = make_seq(2, 0);
	u32 value;

	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(regs); i++) {
		assert_int_equal(rd(g, 0, regs[i], &value), VLAPIC_FORWARD_READ);
		assert_int_equal(wr(g, 0, regs[i], 0x12345), VLAPIC_FORWARD_WRITE);
		assert_null(ipi.violation);
		assert_int_equal(ipi.targets, 0);
	}
	/* timer in every mode, TSC-deadline included, and a masked error LVT: no check needed */
	assert_int_equal(wr(g, 0, VLAPIC_REG_LVT_TIMER, 0x000200ef), VLAPIC_FORWARD_WRITE);
	assert_int_equal(wr(g, 0, VLAPIC_REG_LVT_TIMER, 0x000400ef | LVT_MASKED),
			 VLAPIC_FORWARD_WRITE);
	assert_int_equal(wr(g, 0, VLAPIC_REG_LVT_ERROR, 0x000000fe), VLAPIC_FORWARD_WRITE);
	/* the SVR may disable the APIC: the CPU still takes the hypervisor's NMIs then */
	assert_int_equal(wr(g, 0, VLAPIC_REG_SVR, 0xff), VLAPIC_FORWARD_WRITE);
}

static void test_forwarded_read_only(void **state)
{
	struct vlapic_group *g = make_seq(1, 0);
	u32 value, regs[32], n = 0;

	(void)state;
	regs[n++] = VLAPIC_REG_APR;
	regs[n++] = VLAPIC_REG_PPR;
	regs[n++] = VLAPIC_REG_TIMER_CURRENT;
	for (u32 off = VLAPIC_REG_ISR; off <= VLAPIC_REG_IRR + 0x70; off += 0x10)
		regs[n++] = off; /* ISR, TMR, IRR */
	assert_int_equal(n, 27);
	for (u32 i = 0; i < n; i++) {
		assert_int_equal(rd(g, 0, regs[i], &value), VLAPIC_FORWARD_READ);
		expect_nothing(wr(g, 0, regs[i], 0xffffffff));
	}
}

static void test_eoi_is_write_only(void **state)
{
	struct vlapic_group *g = make_seq(1, 0);

	(void)state;
	assert_int_equal(wr(g, 0, VLAPIC_REG_EOI, 0), VLAPIC_FORWARD_WRITE);
	assert_int_equal(rdv(g, 0, VLAPIC_REG_EOI), 0);
}

static void test_lvt_delivery_modes(void **state)
{
	static const u32 lvts[] = {
		VLAPIC_REG_LVT_CMCI, VLAPIC_REG_LVT_THERMAL, VLAPIC_REG_LVT_PERF,
		VLAPIC_REG_LVT_LINT0, VLAPIC_REG_LVT_LINT1,
	};
	struct vlapic_group *g = make_seq(1, 0);
	u32 value;

	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(lvts); i++) {
		u32 reg = lvts[i];
		bool lint = reg == VLAPIC_REG_LVT_LINT0 || reg == VLAPIC_REG_LVT_LINT1;

		assert_int_equal(rd(g, 0, reg, &value), VLAPIC_FORWARD_READ);
		assert_int_equal(wr(g, 0, reg, FIXED | 0xfa), VLAPIC_FORWARD_WRITE);
		assert_null(ipi.violation);
		assert_int_equal(wr(g, 0, reg, NMI), VLAPIC_FORWARD_WRITE); /* perf's watchdog */
		assert_int_equal(wr(g, 0, reg, EXTINT), lint ? VLAPIC_FORWARD_WRITE
							     : VLAPIC_VIOLATION);
		expect_violation(wr(g, 0, reg, SMI));
		expect_violation(wr(g, 0, reg, INIT));
		expect_violation(wr(g, 0, reg, LOWEST | 0x40)); /* reserved in an LVT */
		expect_violation(wr(g, 0, reg, DM3));
		expect_violation(wr(g, 0, reg, STARTUP | 0x10));
		/* masked, anything is accepted as written: firmware leaves thermal on SMI and
		 * Linux's clear_local_APIC writes it back with the mask bit */
		assert_int_equal(wr(g, 0, reg, SMI | LVT_MASKED), VLAPIC_FORWARD_WRITE);
		assert_int_equal(wr(g, 0, reg, INIT | LVT_MASKED), VLAPIC_FORWARD_WRITE);
		assert_null(ipi.violation);
	}
}

static void test_ldr_dfr_are_virtual(void **state)
{
	struct vlapic_group *g = make_seq(2, 0);

	(void)state;
	expect_nothing(wr(g, 0, VLAPIC_REG_LDR, 0x81ffffff)); /* bits 0-23 reserved */
	assert_int_equal(rdv(g, 0, VLAPIC_REG_LDR), 0x81000000);
	assert_int_equal(g->cpu[0].ldr, 0x81000000);
	expect_nothing(wr(g, 0, VLAPIC_REG_DFR, 0x00000000)); /* cluster; bits 0-27 read as 1 */
	assert_int_equal(rdv(g, 0, VLAPIC_REG_DFR), 0x0fffffff);
	expect_nothing(wr(g, 0, VLAPIC_REG_DFR, 0xf0000000));
	assert_int_equal(rdv(g, 0, VLAPIC_REG_DFR), 0xffffffff);
	/* per vCPU */
	assert_int_equal(rdv(g, 1, VLAPIC_REG_LDR), 0);
}

static void test_icr_registers(void **state)
{
	struct vlapic_group *g = make_seq(2, 0);

	(void)state;
	expect_nothing(wr(g, 0, VLAPIC_REG_ICR_HIGH, 0x01abcdef));
	assert_int_equal(rdv(g, 0, VLAPIC_REG_ICR_HIGH), 0x01000000); /* reserved bits dropped */
	/* the IPI leaves at once: delivery status reads 0 even if written, reserved bits 0 */
	expect_ipi(wr(g, 0, VLAPIC_REG_ICR_LOW, 0xfff3b000u | FIXED | 0x41), VLAPIC_IPI_FIXED,
		   0x41, 2);
	assert_int_equal(rdv(g, 0, VLAPIC_REG_ICR_LOW), 0x00008041);
	assert_int_equal(rdv(g, 0, VLAPIC_REG_ICR_LOW) & BUSY, 0);
	/* a refused IPI is still what the ICR shows */
	expect_violation(send(g, 0, 1, SMI));
	assert_int_equal(rdv(g, 0, VLAPIC_REG_ICR_LOW), SMI);
	/* the other vCPU's ICR is its own */
	assert_int_equal(rdv(g, 1, VLAPIC_REG_ICR_LOW), 0);
	assert_int_equal(rdv(g, 1, VLAPIC_REG_ICR_HIGH), 0);
}

static void test_absent_registers(void **state)
{
	static const u32 regs[] = { 0x000, 0x010, 0x040, 0x050, 0x060, 0x070, VLAPIC_REG_RRD,
				    0x290, 0x2a0, 0x2e0, 0x3a0, 0x3b0, 0x3c0, 0x3d0,
				    VLAPIC_REG_SELF_IPI, 0x400, 0x800, 0xff0 };
	struct vlapic_group *g = make_seq(2, 0);

	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(regs); i++) {
		assert_int_equal(rdv(g, 0, regs[i]), 0);
		expect_nothing(wr(g, 0, regs[i], 0x000c00ff));
	}
}

static void test_bad_accesses(void **state)
{
	struct vlapic_group *g = make_seq(2, 0);
	u32 value;

	(void)state;
	/* wrong sizes at a register's start */
	for (u8 size = 1; size <= 8; size *= 2) {
		if (size == 4)
			continue;
		value = 0xdeadbeef;
		expect_violation(vlapic_mmio(&g->cpu[0], g, VLAPIC_REG_TPR, size, false, &value,
					     &ipi));
		assert_int_equal(value, 0);
		value = 0x40;
		expect_violation(vlapic_mmio(&g->cpu[0], g, VLAPIC_REG_TPR, size, true, &value,
					     &ipi));
	}
	/* 32 bits, but not at a register's start: the APIC ID's top byte, the ICR low's middle */
	for (u32 off = 1; off < 16; off++) {
		value = 0xdeadbeef;
		expect_violation(vlapic_mmio(&g->cpu[0], g, VLAPIC_REG_ID + off, 4, false, &value,
					     &ipi));
		assert_int_equal(value, 0);
		value = SH_OTHERS | FIXED | 0x50;
		expect_violation(vlapic_mmio(&g->cpu[0], g, VLAPIC_REG_ICR_LOW + off, 4, true,
					     &value, &ipi));
		value = 0x01000000;
		expect_violation(vlapic_mmio(&g->cpu[0], g, VLAPIC_REG_LDR + off, 4, true, &value,
					     &ipi));
	}
	/* outside the page */
	value = 0xdeadbeef;
	expect_violation(vlapic_mmio(&g->cpu[0], g, 0x1000, 4, false, &value, &ipi));
	assert_int_equal(value, 0);
	expect_violation(vlapic_mmio(&g->cpu[0], g, 0xfffffff0, 4, true, &value, &ipi));
	/* none of it changed anything */
	assert_int_equal(rdv(g, 0, VLAPIC_REG_ICR_LOW), 0);
	assert_int_equal(rdv(g, 0, VLAPIC_REG_LDR), 0);
	/* a byte store over the ICR low half sends nothing either */
	value = 0x50;
	expect_violation(vlapic_mmio(&g->cpu[0], g, VLAPIC_REG_ICR_LOW, 1, true, &value, &ipi));
}

/* ---- shorthands ------------------------------------------------------------------------ */

static void test_shorthands(void **state)
{
	struct vlapic_group *g = make_seq(4, 8);

	(void)state;
	for (u32 cpu = 0; cpu < 4; cpu++) {
		/* the destination field is ignored with a shorthand: 0x33 names no CPU here */
		expect_ipi(send(g, cpu, 0x33, SH_SELF | FIXED | 0xec), VLAPIC_IPI_FIXED, 0xec,
			   1ull << cpu);
		expect_ipi(send(g, cpu, 0x33, SH_ALL | FIXED | 0xfb), VLAPIC_IPI_FIXED, 0xfb, 0xf);
		expect_ipi(send(g, cpu, 0x33, SH_OTHERS | FIXED | 0xfd), VLAPIC_IPI_FIXED, 0xfd,
			   0xf & ~(1ull << cpu));
		/* and so is the destination mode */
		expect_ipi(send(g, cpu, 0x33, SH_OTHERS | LOGICAL | NMI), VLAPIC_IPI_NMI, 0,
			   0xf & ~(1ull << cpu));
	}
}

static void test_shorthand_others_alone(void **state)
{
	struct vlapic_group *g = make_seq(1, 0);

	(void)state;
	expect_nothing(send(g, 0, 0, SH_OTHERS | FIXED | 0xfd)); /* nobody else */
	expect_ipi(send(g, 0, 0, SH_ALL | FIXED | 0xfd), VLAPIC_IPI_FIXED, 0xfd, 1);
}

static void test_nmi_with_every_shorthand(void **state)
{
	struct vlapic_group *g = make_seq(3, 0);

	(void)state;
	/* Linux's NMI self-test and late microcode loading: self and all-including-self */
	expect_ipi(send(g, 1, 0, SH_SELF | NMI), VLAPIC_IPI_NMI, 0, 2);
	expect_ipi(send(g, 1, 0, SH_ALL | NMI), VLAPIC_IPI_NMI, 0, 7);
	expect_ipi(send(g, 1, 0, SH_OTHERS | NMI | 0x02), VLAPIC_IPI_NMI, 0, 5);
	expect_ipi(send(g, 1, 2, NMI | 0x55), VLAPIC_IPI_NMI, 0, 4); /* vector field ignored */
}

static void test_sixty_four_vcpus(void **state)
{
	struct vlapic_group *g = make_seq(VLAPIC_MAX_VCPUS, 0x40);

	(void)state;
	expect_ipi(send(g, 63, 0, SH_ALL | FIXED | 0x30), VLAPIC_IPI_FIXED, 0x30, ~0ull);
	expect_ipi(send(g, 63, 0, SH_OTHERS | FIXED | 0x30), VLAPIC_IPI_FIXED, 0x30,
		   ~0ull >> 1);
	expect_ipi(send(g, 0, 0xff, FIXED | 0x30), VLAPIC_IPI_FIXED, 0x30, ~0ull);
	expect_ipi(send(g, 0, 0x7f, FIXED | 0x30), VLAPIC_IPI_FIXED, 0x30, 1ull << 63);
	expect_violation(send(g, 0, 0x3f, FIXED | 0x30));
}

/* ---- physical destinations ------------------------------------------------------------- */

/* Two partitions side by side: A on APIC IDs 0 and 1, B on 2 and 3. */
static void test_physical_two_partitions(void **state)
{
	static const u32 b_ids[] = { 2, 3 };
	struct vlapic_group *b = make(2, b_ids);

	(void)state;
	expect_ipi(send(b, 0, 3, FIXED | 0xf3), VLAPIC_IPI_FIXED, 0xf3, 2);
	expect_ipi(send(b, 1, 2, FIXED | 0xf3), VLAPIC_IPI_FIXED, 0xf3, 1);
	expect_ipi(send(b, 0, 2, FIXED | 0xf3), VLAPIC_IPI_FIXED, 0xf3, 1); /* itself */
	/* A's CPUs, and IDs nobody has */
	for (u32 dest = 0; dest < 0xff; dest++) {
		if (dest == 2 || dest == 3)
			continue;
		expect_violation(send(b, 0, (u8)dest, FIXED | 0xf3));
		expect_violation(send(b, 0, (u8)dest, NMI));
		expect_violation(send(b, 0, (u8)dest, INIT | LEVEL | ASSERT));
		expect_violation(send(b, 0, (u8)dest, STARTUP | 0x9a));
	}
	/* the broadcast is the partition */
	expect_ipi(send(b, 0, 0xff, FIXED | 0xf3), VLAPIC_IPI_FIXED, 0xf3, 3);
	expect_ipi(send(b, 1, 0xff, NMI), VLAPIC_IPI_NMI, 0, 3);
	expect_ipi(send(b, 0, 0xff, INIT | LEVEL | ASSERT), VLAPIC_IPI_INIT, 0, 2);
}

static void test_physical_level_trigger_is_edge(void **state)
{
	struct vlapic_group *g = make_seq(2, 0);

	(void)state;
	/* P4 and later send a level-triggered fixed IPI as edge: so do we */
	expect_ipi(send(g, 0, 1, LEVEL | ASSERT | FIXED | 0x80), VLAPIC_IPI_FIXED, 0x80, 2);
	expect_ipi(send(g, 0, 1, LEVEL | FIXED | 0x80), VLAPIC_IPI_FIXED, 0x80, 2);
}

static void test_illegal_vectors(void **state)
{
	struct vlapic_group *g = make_seq(2, 0);

	(void)state;
	for (u32 vector = 0; vector < 16; vector++) {
		expect_nothing(send(g, 0, 1, FIXED | vector));
		expect_nothing(send(g, 0, 1, LOWEST | vector));
		expect_nothing(send(g, 0, 0, SH_SELF | FIXED | vector));
		/* even toward a foreign CPU: nothing is sent, nothing is reported */
		expect_nothing(send(g, 0, 7, FIXED | vector));
	}
	expect_ipi(send(g, 0, 1, FIXED | 16), VLAPIC_IPI_FIXED, 16, 2);
	expect_ipi(send(g, 0, 1, FIXED | 0xff), VLAPIC_IPI_FIXED, 0xff, 2);
}

static void test_refused_delivery_modes(void **state)
{
	struct vlapic_group *g = make_seq(2, 0);
	const u32 modes[] = { SMI, DM3, EXTINT };
	const u32 ways[] = { 0, SH_SELF, SH_ALL, SH_OTHERS, LOGICAL };

	(void)state;
	linux_flat(g);
	for (u32 m = 0; m < ARRAY_SIZE(modes); m++)
		for (u32 w = 0; w < ARRAY_SIZE(ways); w++) {
			expect_violation(send(g, 0, 1, modes[m] | ways[w]));
			expect_violation(send(g, 0, 0xff, modes[m] | ways[w]));
		}
}

/* ---- logical destinations -------------------------------------------------------------- */

static void test_logical_flat_eight_cpus(void **state)
{
	struct vlapic_group *g = make_seq(8, 0x10);

	(void)state;
	linux_flat(g);
	for (u32 i = 0; i < 8; i++)
		expect_ipi(send(g, 7, (u8)(1u << i), LOGICAL | FIXED | 0xfb), VLAPIC_IPI_FIXED,
			   0xfb, 1ull << i);
	expect_ipi(send(g, 0, 0x05, LOGICAL | FIXED | 0xfb), VLAPIC_IPI_FIXED, 0xfb, 0x05);
	expect_ipi(send(g, 0, 0xfe, LOGICAL | FIXED | 0xfb), VLAPIC_IPI_FIXED, 0xfb, 0xfe);
	expect_ipi(send(g, 0, 0xff, LOGICAL | NMI), VLAPIC_IPI_NMI, 0, 0xff);
	expect_nothing(send(g, 0, 0x00, LOGICAL | FIXED | 0xfb));
	/* the logical destination is not an APIC ID: 0x10 is vCPU 4 here, not APIC ID 0x10 */
	expect_ipi(send(g, 0, 0x10, LOGICAL | FIXED | 0xfb), VLAPIC_IPI_FIXED, 0xfb, 0x10);
}

static void test_logical_flat_unclaimed_bits(void **state)
{
	struct vlapic_group *g = make_seq(3, 0);

	(void)state;
	linux_flat(g);
	/* bits 3-7 belong to no vCPU: nobody outside can hold them, they reach nobody */
	expect_ipi(send(g, 0, 0xfc, LOGICAL | FIXED | 0x31), VLAPIC_IPI_FIXED, 0x31, 0x4);
	expect_nothing(send(g, 0, 0xf8, LOGICAL | FIXED | 0x31));
	/* a vCPU that has not set its LDR yet (0) is reached by no logical destination */
	expect_nothing(wr(g, 2, VLAPIC_REG_LDR, 0));
	expect_ipi(send(g, 0, 0xff, LOGICAL | FIXED | 0x31), VLAPIC_IPI_FIXED, 0x31, 0x3);
	/* two vCPUs may share a logical ID */
	expect_nothing(wr(g, 2, VLAPIC_REG_LDR, 0x02000000));
	expect_ipi(send(g, 0, 0x02, LOGICAL | FIXED | 0x31), VLAPIC_IPI_FIXED, 0x31, 0x6);
}

/* Cluster model: 4 clusters of up to 4; LDR = cluster << 4 | member bit. */
static void test_logical_cluster(void **state)
{
	struct vlapic_group *g = make_seq(6, 0);
	static const u8 ldr[] = { 0x01, 0x02, 0x04, 0x11, 0x12, 0x21 };

	(void)state;
	for (u32 i = 0; i < 6; i++) {
		expect_nothing(wr(g, i, VLAPIC_REG_DFR, 0x0fffffff));
		expect_nothing(wr(g, i, VLAPIC_REG_LDR, (u32)ldr[i] << 24));
	}
	expect_ipi(send(g, 0, 0x03, LOGICAL | FIXED | 0x40), VLAPIC_IPI_FIXED, 0x40, 0x03);
	expect_ipi(send(g, 0, 0x13, LOGICAL | FIXED | 0x40), VLAPIC_IPI_FIXED, 0x40, 0x18);
	expect_ipi(send(g, 0, 0x12, LOGICAL | FIXED | 0x40), VLAPIC_IPI_FIXED, 0x40, 0x10);
	expect_ipi(send(g, 0, 0x21, LOGICAL | FIXED | 0x40), VLAPIC_IPI_FIXED, 0x40, 0x20);
	expect_nothing(send(g, 0, 0x22, LOGICAL | FIXED | 0x40));
	expect_nothing(send(g, 0, 0x31, LOGICAL | FIXED | 0x40)); /* empty cluster */
	expect_nothing(send(g, 0, 0x10, LOGICAL | FIXED | 0x40)); /* no member bit */
	/* cluster 15 addresses every cluster */
	expect_ipi(send(g, 0, 0xf1, LOGICAL | FIXED | 0x40), VLAPIC_IPI_FIXED, 0x40, 0x29);
	expect_ipi(send(g, 0, 0xff, LOGICAL | FIXED | 0x40), VLAPIC_IPI_FIXED, 0x40, 0x3f);
	/* INIT and STARTUP by logical destination (old kernels' cluster bring-up) */
	expect_ipi(send(g, 0, 0x11, LOGICAL | INIT | LEVEL | ASSERT), VLAPIC_IPI_INIT, 0, 0x08);
	expect_ipi(send(g, 0, 0x11, LOGICAL | STARTUP | 0x9a), VLAPIC_IPI_STARTUP, 0x9a, 0x08);
}

static void test_logical_each_receiver_uses_its_own_dfr(void **state)
{
	struct vlapic_group *g = make_seq(3, 0);

	(void)state;
	/* vCPU 0 flat with LDR 0x12, vCPU 1 cluster with LDR 0x12, vCPU 2 with a reserved
	 * model: MDA 0x02 matches the flat one only (cluster 0 is not cluster 1) */
	expect_nothing(wr(g, 0, VLAPIC_REG_LDR, 0x12000000));
	expect_nothing(wr(g, 1, VLAPIC_REG_DFR, 0x00000000));
	expect_nothing(wr(g, 1, VLAPIC_REG_LDR, 0x12000000));
	expect_nothing(wr(g, 2, VLAPIC_REG_DFR, 0x5fffffff));
	expect_nothing(wr(g, 2, VLAPIC_REG_LDR, 0xff000000));
	expect_ipi(send(g, 0, 0x02, LOGICAL | FIXED | 0x40), VLAPIC_IPI_FIXED, 0x40, 0x1);
	expect_ipi(send(g, 0, 0x12, LOGICAL | FIXED | 0x40), VLAPIC_IPI_FIXED, 0x40, 0x3);
	expect_ipi(send(g, 0, 0xff, LOGICAL | FIXED | 0x40), VLAPIC_IPI_FIXED, 0x40, 0x3);
}

static void test_lowest_priority_picks_one(void **state)
{
	struct vlapic_group *g = make_seq(8, 0);

	(void)state;
	linux_flat(g);
	expect_ipi(send(g, 0, 0x24, LOGICAL | LOWEST | 0x61), VLAPIC_IPI_FIXED, 0x61, 0x04);
	expect_ipi(send(g, 0, 0xff, LOGICAL | LOWEST | 0x61), VLAPIC_IPI_FIXED, 0x61, 0x01);
	expect_ipi(send(g, 0, 0x05, LOWEST | 0x61), VLAPIC_IPI_FIXED, 0x61, 0x20);
	expect_ipi(send(g, 0, 0xff, LOWEST | 0x61), VLAPIC_IPI_FIXED, 0x61, 0x01);
	expect_ipi(send(g, 0, 0, SH_OTHERS | LOWEST | 0x61), VLAPIC_IPI_FIXED, 0x61, 0x02);
	expect_ipi(send(g, 3, 0, SH_SELF | LOWEST | 0x61), VLAPIC_IPI_FIXED, 0x61, 0x08);
	expect_nothing(send(g, 0, 0, LOGICAL | LOWEST | 0x61));
	expect_violation(send(g, 0, 0x09, LOWEST | 0x61));
}

/* ---- INIT / SIPI ----------------------------------------------------------------------- */

/* Linux's wakeup_secondary_cpu_via_init: INIT assert, INIT de-assert, STARTUP twice, each
 * after waiting for the ICR to be idle. */
static void test_linux_init_sipi_sequence(void **state)
{
	static const u32 ids[] = { 4, 6, 5 };
	struct vlapic_group *g = make(3, ids);

	(void)state;
	for (u32 target = 1; target < 3; target++) {
		u8 dest = (u8)ids[target];

		assert_int_equal(rdv(g, 0, VLAPIC_REG_ICR_LOW) & BUSY, 0);
		expect_ipi(send(g, 0, dest, LEVEL | ASSERT | INIT), VLAPIC_IPI_INIT, 0,
			   1ull << target);
		assert_int_equal(rdv(g, 0, VLAPIC_REG_ICR_LOW) & BUSY, 0);
		expect_nothing(send(g, 0, dest, LEVEL | INIT)); /* de-assert */
		for (int i = 0; i < 2; i++) {
			assert_int_equal(rdv(g, 0, VLAPIC_REG_ICR_LOW) & BUSY, 0);
			expect_ipi(send(g, 0, dest, STARTUP | 0x9a), VLAPIC_IPI_STARTUP, 0x9a,
				   1ull << target);
		}
	}
}

static void test_init_forms(void **state)
{
	struct vlapic_group *g = make_seq(3, 0);

	(void)state;
	/* de-assert goes nowhere, whatever the destination, foreign or broadcast */
	expect_nothing(send(g, 0, 7, LEVEL | INIT));
	expect_nothing(send(g, 0, 0, SH_ALL | LEVEL | INIT));
	/* INIT with edge trigger is an INIT, whatever the level bit */
	expect_ipi(send(g, 0, 1, INIT), VLAPIC_IPI_INIT, 0, 2);
	expect_ipi(send(g, 0, 1, ASSERT | INIT), VLAPIC_IPI_INIT, 0, 2);
	/* the old broadcast bring-up */
	expect_ipi(send(g, 0, 0, SH_OTHERS | ASSERT | INIT), VLAPIC_IPI_INIT, 0, 6);
	expect_ipi(send(g, 0, 0, SH_OTHERS | STARTUP | 0x10), VLAPIC_IPI_STARTUP, 0x10, 6);
	/* never to the sender itself */
	expect_nothing(send(g, 0, 0, ASSERT | INIT));
	expect_nothing(send(g, 1, 1, STARTUP | 0x10));
	expect_nothing(send(g, 1, 0, SH_SELF | ASSERT | INIT));
	expect_nothing(send(g, 2, 0, SH_SELF | STARTUP | 0x10));
	expect_ipi(send(g, 1, 0, SH_ALL | ASSERT | INIT), VLAPIC_IPI_INIT, 0, 5);
	expect_ipi(send(g, 1, 0xff, STARTUP | 0x20), VLAPIC_IPI_STARTUP, 0x20, 5);
	/* SIPI vector is the start page, all 8 bits of it */
	expect_ipi(send(g, 0, 2, STARTUP | 0xff), VLAPIC_IPI_STARTUP, 0xff, 4);
	expect_ipi(send(g, 0, 2, STARTUP | 0x00), VLAPIC_IPI_STARTUP, 0x00, 4);
	/* foreign */
	expect_violation(send(g, 0, 3, ASSERT | INIT));
	expect_violation(send(g, 0, 3, STARTUP | 0x9a));
}

/* ---- x2APIC ---------------------------------------------------------------------------- */

static enum vlapic_action x2(struct vlapic_group *g, u32 cpu, u32 dest, u32 low)
{
	return vlapic_x2apic_icr_write(&g->cpu[cpu], g, ((u64)dest << 32) | low, &ipi);
}

static void test_x2apic_physical(void **state)
{
	static const u32 ids[] = { 0x100, 0x101, 0x2ff };
	struct vlapic_group *g = make(3, ids);

	(void)state;
	expect_ipi(x2(g, 0, 0x101, FIXED | 0xfd), VLAPIC_IPI_FIXED, 0xfd, 2);
	expect_ipi(x2(g, 0, 0x2ff, NMI), VLAPIC_IPI_NMI, 0, 4);
	expect_ipi(x2(g, 0, 0xffffffff, FIXED | 0xfd), VLAPIC_IPI_FIXED, 0xfd, 7);
	/* only the low 8 bits in common: not the same CPU; 0xff is no broadcast in x2APIC */
	expect_violation(x2(g, 0, 0x001, FIXED | 0xfd));
	expect_violation(x2(g, 0, 0x0ff, FIXED | 0xfd));
	expect_violation(x2(g, 0, 0x102, INIT | ASSERT));
	expect_ipi(x2(g, 1, 0, SH_SELF | FIXED | 0x22), VLAPIC_IPI_FIXED, 0x22, 2);
	expect_ipi(x2(g, 1, 0, SH_OTHERS | FIXED | 0x22), VLAPIC_IPI_FIXED, 0x22, 5);
	expect_ipi(x2(g, 0, 0x101, INIT | ASSERT), VLAPIC_IPI_INIT, 0, 2);
	expect_ipi(x2(g, 0, 0x101, STARTUP | 0x9a), VLAPIC_IPI_STARTUP, 0x9a, 2);
	expect_violation(x2(g, 0, 0x101, SMI));
}

static void test_x2apic_logical_cluster(void **state)
{
	/* cluster 1 members 0 and 1, cluster 2 member 3; 0x12 (cluster 1 member 2) is another
	 * partition's */
	static const u32 ids[] = { 0x10, 0x11, 0x23 };
	struct vlapic_group *g = make(3, ids);
	bool outside;

	(void)state;
	expect_ipi(x2(g, 0, 0x00010003, LOGICAL | FIXED | 0xfd), VLAPIC_IPI_FIXED, 0xfd, 3);
	expect_ipi(x2(g, 0, 0x00010002, LOGICAL | FIXED | 0xfd), VLAPIC_IPI_FIXED, 0xfd, 2);
	expect_ipi(x2(g, 0, 0x00020008, LOGICAL | NMI), VLAPIC_IPI_NMI, 0, 4);
	/* partly outside: the inside part is delivered, the outside one reported */
	assert_int_equal(x2(g, 0, 0x00010007, LOGICAL | FIXED | 0xfd), VLAPIC_SEND_IPI);
	assert_int_equal(ipi.targets, 3);
	assert_non_null(ipi.violation);
	assert_int_equal(x2(g, 0, 0x0001ffff, LOGICAL | LOWEST | 0xfd), VLAPIC_SEND_IPI);
	assert_int_equal(ipi.targets, 1);
	assert_non_null(ipi.violation);
	/* wholly outside */
	expect_violation(x2(g, 0, 0x00010004, LOGICAL | FIXED | 0xfd));
	expect_violation(x2(g, 0, 0x00020001, LOGICAL | FIXED | 0xfd));
	expect_violation(x2(g, 0, 0x00000001, LOGICAL | INIT | ASSERT));
	/* no member bit names no one */
	expect_nothing(x2(g, 0, 0x00010000, LOGICAL | FIXED | 0xfd));
	/* broadcast */
	expect_ipi(x2(g, 2, 0xffffffff, LOGICAL | FIXED | 0xfd), VLAPIC_IPI_FIXED, 0xfd, 7);
	/* the same through the exported resolver (a vIOAPIC's redirection entries) */
	assert_int_equal(vlapic_destination(g, 0x00010003, true, true, &outside), 3);
	assert_false(outside);
	assert_int_equal(vlapic_destination(g, 0x00010006, true, true, &outside), 2);
	assert_true(outside);
}

static void test_x2apic_icr_reserved_bits(void **state)
{
	struct vlapic_group *g = make_seq(2, 0);
	u64 value;

	(void)state;
	g->cpu[0].mode = VLAPIC_MODE_X2APIC;
	for (u32 b = 0; b < 32; b++) {
		u32 low = (1u << b) | FIXED | 0x40;
		bool reserved = b == 13 || b == 16 || b == 17 || b >= 20;

		if (!reserved)
			continue;
		assert_int_equal(x2(g, 0, 1, low), VLAPIC_GP);
		assert_int_equal(ipi.targets, 0);
	}
	/* a refused write left the ICR as it was */
	value = 0;
	assert_int_equal(vlapic_msr(&g->cpu[0], g, VLAPIC_MSR_ICR, false, &value, &ipi),
			 VLAPIC_DONE);
	assert_int_equal(value, 0);
	/* bit 12 (no delivery status in x2APIC) is ignored */
	expect_ipi(x2(g, 0, 1, BUSY | FIXED | 0x40), VLAPIC_IPI_FIXED, 0x40, 2);
	assert_int_equal(vlapic_msr(&g->cpu[0], g, VLAPIC_MSR_ICR, false, &value, &ipi),
			 VLAPIC_DONE);
	assert_int_equal(value, (1ull << 32) | 0x40);
}

/* Expected pass-through, per x2APIC MSR: 'r' read only, 'w' write only, 'b' both. */
static char expected_pass(u32 msr)
{
	if (msr >= 0x810 && msr <= 0x827)
		return 'r'; /* ISR, TMR, IRR */
	switch (msr) {
	case 0x802: return 'r'; /* ID */
	case 0x808: return 'b'; /* TPR */
	case 0x80a: return 'r'; /* PPR */
	case 0x80b: return 'w'; /* EOI */
	case 0x80d: return 'r'; /* LDR */
	case 0x80f: return 'b'; /* SVR */
	case 0x828: return 'b'; /* ESR */
	case 0x82f: return 'r'; /* LVT CMCI */
	case 0x832: return 'b'; /* LVT timer */
	case 0x833: case 0x834: case 0x835: case 0x836: return 'r'; /* LVT thermal..LINT1 */
	case 0x837: return 'b'; /* LVT error */
	case 0x838: return 'b'; /* initial count */
	case 0x839: return 'r'; /* current count */
	case 0x83e: return 'b'; /* divide */
	case 0x83f: return 'w'; /* SELF IPI */
	default: return 0;
	}
}

static void test_x2apic_passthrough_table(void **state)
{
	(void)state;
	for (u32 msr = 0x7f0; msr <= 0x910; msr++) {
		char e = expected_pass(msr);

		assert_int_equal(vlapic_x2apic_msr_passthrough(msr, false), e == 'r' || e == 'b');
		assert_int_equal(vlapic_x2apic_msr_passthrough(msr, true), e == 'w' || e == 'b');
	}
	/* in particular: the ICR, the version, the AMD extended space, other MSRs */
	assert_false(vlapic_x2apic_msr_passthrough(0x830, false));
	assert_false(vlapic_x2apic_msr_passthrough(0x830, true));
	assert_false(vlapic_x2apic_msr_passthrough(0x803, false));
	assert_false(vlapic_x2apic_msr_passthrough(0x841, true));
	assert_false(vlapic_x2apic_msr_passthrough(0x1b, false));
	assert_false(vlapic_x2apic_msr_passthrough(0x6e0, true));
}

static enum vlapic_action msr(struct vlapic_group *g, u32 cpu, u32 index, bool write,
			      u64 *value)
{
	return vlapic_msr(&g->cpu[cpu], g, index, write, value, &ipi);
}

#define BASE VLAPIC_APIC_BASE_ADDR
#define EN VLAPIC_APIC_BASE_EN
#define EXTD VLAPIC_APIC_BASE_EXTD
#define BSP VLAPIC_APIC_BASE_BSP

static void to_x2apic(struct vlapic_group *g, u32 cpu)
{
	assert_int_equal(vlapic_apic_base_write(&g->cpu[cpu], BASE | EN | EXTD, true), BH_OK);
	assert_int_equal(g->cpu[cpu].mode, VLAPIC_MODE_X2APIC);
}

static void test_x2apic_msr_accesses(void **state)
{
	static const u32 ids[] = { 0x20, 0x21 };
	struct vlapic_group *g = make(2, ids);
	u64 value;

	(void)state;
	to_x2apic(g, 0);
	/* every pass-through access, if it traps anyway, is forwarded */
	for (u32 m = 0x800; m <= 0x8ff; m++) {
		char e = expected_pass(m);

		value = 0;
		if (e == 'r' || e == 'b')
			assert_int_equal(msr(g, 0, m, false, &value), VLAPIC_FORWARD_READ);
		if (e == 'w' || e == 'b')
			assert_int_equal(msr(g, 0, m, true, &value), VLAPIC_FORWARD_WRITE);
	}
	/* ICR: write resolves, read shows the guest's last one */
	value = (0x21ull << 32) | FIXED | 0xef;
	expect_ipi(msr(g, 0, 0x830, true, &value), VLAPIC_IPI_FIXED, 0xef, 2);
	value = 0;
	assert_int_equal(msr(g, 0, 0x830, false, &value), VLAPIC_DONE);
	assert_int_equal(value, (0x21ull << 32) | 0xef);
	value = (0x22ull << 32) | FIXED | 0xef;
	expect_violation(msr(g, 0, 0x830, true, &value));
	/* version: the extended space hidden; read-only */
	assert_int_equal(msr(g, 0, 0x803, false, &value), VLAPIC_DONE);
	assert_int_equal(value, 0x00050014);
	assert_int_equal(msr(g, 0, 0x803, true, &value), VLAPIC_GP);
	/* checked LVT writes */
	for (u32 m = 0x833; m <= 0x836; m++) {
		value = NMI;
		assert_int_equal(msr(g, 0, m, true, &value), VLAPIC_FORWARD_WRITE);
		value = SMI;
		expect_violation(msr(g, 0, m, true, &value));
		value = SMI | LVT_MASKED;
		assert_int_equal(msr(g, 0, m, true, &value), VLAPIC_FORWARD_WRITE);
		value = (1ull << 32) | NMI;
		assert_int_equal(msr(g, 0, m, true, &value), VLAPIC_GP);
	}
	value = EXTINT;
	assert_int_equal(msr(g, 0, 0x835, true, &value), VLAPIC_FORWARD_WRITE); /* LINT0 */
	expect_violation(msr(g, 0, 0x834, true, &value));                       /* perf */
	value = INIT;
	expect_violation(msr(g, 0, 0x82f, true, &value)); /* CMCI */
	/* absent in x2APIC mode, read-only, or unknown: #GP */
	static const u32 gp_read[] = { 0x800, 0x801, 0x809, 0x80b, 0x80c, 0x80e, 0x831, 0x83a,
				       0x83f, 0x840, 0x841, 0x850, 0x8ff };
	static const u32 gp_write[] = { 0x802, 0x80a, 0x80d, 0x810, 0x827, 0x839, 0x831, 0x80e,
					0x841, 0x853 };
	for (u32 i = 0; i < ARRAY_SIZE(gp_read); i++)
		assert_int_equal(msr(g, 0, gp_read[i], false, &value), VLAPIC_GP);
	for (u32 i = 0; i < ARRAY_SIZE(gp_write); i++)
		assert_int_equal(msr(g, 0, gp_write[i], true, &value), VLAPIC_GP);
	/* not an x2APIC MSR at all */
	assert_int_equal(msr(g, 0, 0x1b, false, &value), VLAPIC_GP);
	assert_int_equal(msr(g, 0, 0x900, true, &value), VLAPIC_GP);
}

/* ---- IA32_APIC_BASE and the modes ------------------------------------------------------ */

static int base_write(struct vlapic_group *g, u32 cpu, u64 value)
{
	return vlapic_apic_base_write(&g->cpu[cpu], value, true);
}

static void test_apic_base_reads(void **state)
{
	static const u32 ids[] = { 4, 5 };
	struct vlapic_group *g = make(2, ids);

	(void)state;
	/* after reset: xAPIC, enabled, BSP on vCPU 0 only */
	assert_int_equal(g->cpu[0].mode, VLAPIC_MODE_XAPIC);
	assert_int_equal(vlapic_apic_base(&g->cpu[0]), BASE | EN | BSP);
	assert_int_equal(vlapic_apic_base(&g->cpu[1]), BASE | EN);
	to_x2apic(g, 1);
	assert_int_equal(vlapic_apic_base(&g->cpu[1]), BASE | EN | EXTD);
	assert_int_equal(base_write(g, 0, BASE | BSP), BH_OK);
	assert_int_equal(vlapic_apic_base(&g->cpu[0]), BASE | BSP);
}

/* Every (from, to) pair of the SDM's diagram, written with EN/EXTD; the invalid state EN=0,
 * EXTD=1 is never reachable. */
static void test_apic_base_transitions(void **state)
{
	static const u32 ids[] = { 0 };
	static const u64 bits[] = { 0, EN, EN | EXTD, EXTD };
	/* allowed[from][to], states in the order of bits[] (disabled, xAPIC, x2APIC, invalid) */
	static const bool allowed[3][4] = {
		{ true, true, false, false },
		{ true, true, true, false },
		{ true, false, true, false },
	};
	static const enum vlapic_mode modes[] = { VLAPIC_MODE_DISABLED, VLAPIC_MODE_XAPIC,
						  VLAPIC_MODE_X2APIC };

	(void)state;
	for (u32 from = 0; from < 3; from++) {
		for (u32 to = 0; to < 4; to++) {
			struct vlapic_group *g = make(1, ids);

			g->cpu[0].mode = modes[from];
			assert_int_equal(base_write(g, 0, BASE | BSP | bits[to]) == BH_OK,
					 allowed[from][to]);
			assert_int_equal(g->cpu[0].mode, allowed[from][to] ? modes[to] : modes[from]);
		}
	}
}

static void test_apic_base_refusals(void **state)
{
	static const u32 ids[] = { 0 };
	struct vlapic_group *g = make(1, ids);

	(void)state;
	/* the base never moves, reserved bits stay 0 */
	assert_int_equal(base_write(g, 0, 0xfe000000ull | EN), BH_EINVAL);
	assert_int_equal(base_write(g, 0, 0x1fee00000ull | EN), BH_EINVAL);
	assert_int_equal(base_write(g, 0, BASE | EN | (1ull << 9)), BH_EINVAL);
	assert_int_equal(base_write(g, 0, BASE | EN | 1), BH_EINVAL);
	assert_int_equal(base_write(g, 0, BASE | EN | (1ull << 63)), BH_EINVAL);
	/* x2APIC only where the guest was shown it */
	assert_int_equal(vlapic_apic_base_write(&g->cpu[0], BASE | EN | EXTD, false), BH_EINVAL);
	assert_int_equal(g->cpu[0].mode, VLAPIC_MODE_XAPIC);
	/* the BSP flag is the hardware's: writing either value changes nothing */
	assert_int_equal(base_write(g, 0, BASE | EN), BH_OK);
	assert_int_equal(vlapic_apic_base(&g->cpu[0]), BASE | EN | BSP);
	/* Linux leaving x2APIC mode: through disabled, then xAPIC */
	to_x2apic(g, 0);
	assert_int_equal(base_write(g, 0, BASE | EN), BH_EINVAL);
	assert_int_equal(base_write(g, 0, BASE), BH_OK);
	assert_int_equal(base_write(g, 0, BASE | EN), BH_OK);
	assert_int_equal(g->cpu[0].mode, VLAPIC_MODE_XAPIC);
}

static void test_mode_kept_by_init_reset_by_group_init(void **state)
{
	static const u32 ids[] = { 0, 1 };
	struct vlapic_group *g = make(2, ids);

	(void)state;
	to_x2apic(g, 1);
	vlapic_reset(&g->cpu[1]); /* INIT */
	assert_int_equal(g->cpu[1].mode, VLAPIC_MODE_X2APIC);
	make(2, ids); /* partition restart */
	assert_int_equal(g->cpu[1].mode, VLAPIC_MODE_XAPIC);
}

/* Only the interface of the current mode answers: the MSRs in xAPIC mode are #GP (the
 * attacker's x2APIC ICR write stays blocked), the page in x2APIC or disabled mode is empty. */
static void test_interface_follows_mode(void **state)
{
	static const u32 ids[] = { 0, 1 };
	struct vlapic_group *g = make(2, ids);
	u64 value;
	u32 v32;

	(void)state;
	for (u32 m = 0x800; m <= 0x8ff; m++) {
		value = 0;
		assert_int_equal(msr(g, 0, m, false, &value), VLAPIC_GP);
		value = ((u64)1 << 32) | INIT | ASSERT;
		assert_int_equal(msr(g, 0, m, true, &value), VLAPIC_GP);
	}
	assert_int_equal(rd(g, 0, VLAPIC_REG_TPR, &v32), VLAPIC_FORWARD_READ);
	to_x2apic(g, 0);
	assert_int_equal(rdv(g, 0, VLAPIC_REG_ID), 0xffffffffu);
	assert_int_equal(rdv(g, 0, VLAPIC_REG_TPR), 0xffffffffu);
	assert_int_equal(wr(g, 0, VLAPIC_REG_ICR_LOW, INIT | ASSERT | SH_OTHERS), VLAPIC_DONE);
	assert_int_equal(wr(g, 0, VLAPIC_REG_EOI, 0), VLAPIC_DONE);
	value = 0;
	assert_int_equal(msr(g, 0, 0x808, false, &value), VLAPIC_FORWARD_READ);
	/* disabled: neither */
	assert_int_equal(base_write(g, 0, BASE), BH_OK);
	assert_int_equal(rdv(g, 0, VLAPIC_REG_TPR), 0xffffffffu);
	assert_int_equal(msr(g, 0, 0x808, false, &value), VLAPIC_GP);
	value = 0xef;
	assert_int_equal(msr(g, 0, 0x830, true, &value), VLAPIC_GP);
}

/* The x2APIC ICR of a vCPU in x2APIC mode, in x2APIC format (32-bit destination): Linux's
 * physical IPIs, INIT/SIPI to its own CPUs, and what reaches outside. */
static void test_x2apic_icr_msr_format(void **state)
{
	static const u32 ids[] = { 0x10, 0x11, 0x13 };
	struct vlapic_group *g = make(3, ids);
	u64 value;

	(void)state;
	to_x2apic(g, 0);
	value = (0x13ull << 32) | FIXED | 0xfb;
	expect_ipi(msr(g, 0, 0x830, true, &value), VLAPIC_IPI_FIXED, 0xfb, 4);
	value = (0x11ull << 32) | INIT | ASSERT;
	expect_ipi(msr(g, 0, 0x830, true, &value), VLAPIC_IPI_INIT, 0, 2);
	value = (0x11ull << 32) | STARTUP | 0x9a;
	expect_ipi(msr(g, 0, 0x830, true, &value), VLAPIC_IPI_STARTUP, 0x9a, 2);
	/* a CPU of another partition (0x12), or one whose low 8 bits match a vCPU's */
	value = (0x12ull << 32) | INIT | ASSERT;
	expect_violation(msr(g, 0, 0x830, true, &value));
	value = (0x111ull << 32) | NMI;
	expect_violation(msr(g, 0, 0x830, true, &value));
	/* logical, cluster 1 (IDs 0x10-0x1f): members 0, 1 and 2 (0x12 is not ours) */
	value = (0x10007ull << 32) | LOGICAL | FIXED | 0x40;
	assert_int_equal(msr(g, 0, 0x830, true, &value), VLAPIC_SEND_IPI);
	assert_int_equal(ipi.targets, 3);
	assert_non_null(ipi.violation);
	/* broadcast: the partition's CPUs */
	value = (0xffffffffull << 32) | FIXED | 0x41;
	expect_ipi(msr(g, 0, 0x830, true, &value), VLAPIC_IPI_FIXED, 0x41, 7);
	/* SELF IPI passes through: a vector to this CPU only */
	assert_true(vlapic_x2apic_msr_passthrough(0x83f, true));
	assert_false(vlapic_x2apic_msr_passthrough(0x83f, false));
}

/* ---- the exported resolver ------------------------------------------------------------- */

static void test_destination_resolver(void **state)
{
	static const u32 ids[] = { 2, 3 };
	struct vlapic_group *g = make(2, ids);
	bool outside = true;

	(void)state;
	linux_flat(g);
	assert_int_equal(vlapic_destination(g, 3, false, false, &outside), 2);
	assert_false(outside);
	assert_int_equal(vlapic_destination(g, 0xff, false, false, &outside), 3);
	assert_false(outside);
	assert_int_equal(vlapic_destination(g, 0x103, false, false, &outside), 2); /* 8 bits */
	assert_int_equal(vlapic_destination(g, 1, false, false, &outside), 0);
	assert_true(outside);
	assert_int_equal(vlapic_destination(g, 0x02, true, false, &outside), 2);
	assert_false(outside);
	assert_int_equal(vlapic_destination(g, 0x80, true, false, &outside), 0);
	assert_false(outside);
	assert_int_equal(vlapic_destination(g, 0xff, false, true, &outside), 0);
	assert_true(outside);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_init_rejects),
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_id_is_the_real_one_and_fixed),
		cmocka_unit_test(test_version_hides_extended_space),
		cmocka_unit_test(test_forwarded_read_write),
		cmocka_unit_test(test_forwarded_read_only),
		cmocka_unit_test(test_eoi_is_write_only),
		cmocka_unit_test(test_lvt_delivery_modes),
		cmocka_unit_test(test_ldr_dfr_are_virtual),
		cmocka_unit_test(test_icr_registers),
		cmocka_unit_test(test_absent_registers),
		cmocka_unit_test(test_bad_accesses),
		cmocka_unit_test(test_shorthands),
		cmocka_unit_test(test_shorthand_others_alone),
		cmocka_unit_test(test_nmi_with_every_shorthand),
		cmocka_unit_test(test_sixty_four_vcpus),
		cmocka_unit_test(test_physical_two_partitions),
		cmocka_unit_test(test_physical_level_trigger_is_edge),
		cmocka_unit_test(test_illegal_vectors),
		cmocka_unit_test(test_refused_delivery_modes),
		cmocka_unit_test(test_logical_flat_eight_cpus),
		cmocka_unit_test(test_logical_flat_unclaimed_bits),
		cmocka_unit_test(test_logical_cluster),
		cmocka_unit_test(test_logical_each_receiver_uses_its_own_dfr),
		cmocka_unit_test(test_lowest_priority_picks_one),
		cmocka_unit_test(test_linux_init_sipi_sequence),
		cmocka_unit_test(test_init_forms),
		cmocka_unit_test(test_x2apic_physical),
		cmocka_unit_test(test_x2apic_logical_cluster),
		cmocka_unit_test(test_x2apic_icr_reserved_bits),
		cmocka_unit_test(test_x2apic_passthrough_table),
		cmocka_unit_test(test_x2apic_msr_accesses),
		cmocka_unit_test(test_destination_resolver),
		cmocka_unit_test(test_apic_base_reads),
		cmocka_unit_test(test_apic_base_transitions),
		cmocka_unit_test(test_apic_base_refusals),
		cmocka_unit_test(test_mode_kept_by_init_reset_by_group_init),
		cmocka_unit_test(test_interface_follows_mode),
		cmocka_unit_test(test_x2apic_icr_msr_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
