/* A partition's platform as its vCPUs reach it (see hv/pdev.h). The device models are pure;
 * this file is where their decisions meet the hardware: the partition lock, the clock, IPIs to
 * the partition's own CPUs, vCPU starts, and the lifecycle events. */
#include "hv/pdev.h"
#include "arch/lapic.h"
#include "arch/tsc.h"
#include "hv/hv.h"
#include "hv/log.h"
#include "hv/partition.h"
#include "hv/percpu.h"
#include "hv/vcpu.h"
#include "lib/error.h"
#include "lib/string.h"

_Static_assert(MAX_VCPUS <= VLAPIC_MAX_VCPUS, "a vLAPIC target mask covers every vCPU");

#define IOAPIC_ID 0 /* the vIOAPIC's ID in the MADT; the guest's own numbering */
#define VECTOR_FIRST_VALID 16

void pdev_reset(struct partition *p)
{
	u32 ids[MAX_VCPUS];
	u64 now = tsc_uptime_ns();

	for (u32 i = 0; i < p->vcpu_count; i++)
		ids[i] = p->vcpus[i].cpu->apic_id;
	vlapic_group_init(&p->lapics, p->vcpu_count, ids, lapic_reg_read(VLAPIC_REG_VERSION));
	if (!p->platform_ready) {
		vplatform_init(&p->platform, IOAPIC_ID, hv_unix_time_ns() - now, now);
		p->platform_ready = true;
	} else {
		vplatform_reset(&p->platform, now);
	}
	p->next_poll_ns = 0;
}

enum pdev_result pdev_port(struct vcpu *v, u16 port, u8 size, bool in, u32 *value)
{
	struct partition *p = v->part;
	bool mine;

	if (!p->pc_platform)
		return PDEV_NOT_MINE;
	spin_lock(&p->lock);
	mine = vplatform_io(&p->platform, port, size, in, value, tsc_uptime_ns());
	spin_unlock(&p->lock);
	return mine ? PDEV_DONE : PDEV_NOT_MINE;
}

void pdev_irq_locked(struct partition *p, u32 gsi, bool level)
{
	vplatform_set_irq(&p->platform, gsi, level);
}

/* ------------------------------------------------------------------ interrupts and vCPUs */

/* INIT: the target waits for its SIPI. Only a vCPU that is not running takes it: taking a
 * running CPU back needs the NMI path of the partition stop. */
static void vcpu_init_signal(struct vcpu *t)
{
	if (t->state == VCPU_IDLE || t->state == VCPU_WAIT_SIPI || t->state == VCPU_HALTED) {
		vlapic_reset(&t->part->lapics.cpu[t->index]);
		t->state = VCPU_WAIT_SIPI;
		t->init_seen = true;
	}
}

/* SIPI: the target starts in real mode at vector * 4 KiB on its own CPU. */
static void vcpu_startup(struct vcpu *t, u8 vector)
{
	struct guest_entry e = { .mode = GUEST_MODE_REAL16, .cs = (u16)(vector << 8), .rip = 0 };

	if (t->state != VCPU_WAIT_SIPI || !t->init_seen)
		return; /* a second SIPI, as the MP protocol sends, or one without INIT */
	if (t->part->state != PART_RUNNING)
		return; /* it is being taken back: nothing new starts */
	t->init_seen = false;
	virt->vcpu_set_entry(t, &e);
	t->state = VCPU_IDLE;
	/* The sender is still counted as held, so the partition cannot be scrubbed before t,
	 * too, has come and gone (partition_vcpu_hand_over). */
	partition_vcpu_hand_over(t);
	log_info("partition %s: vCPU %u (CPU %u) started at 0x%x", t->part->cfg->name, t->index,
		 t->cpu->index, (unsigned)vector << 12);
}

static void deliver_ipi(struct vcpu *v, const struct vlapic_ipi *ipi)
{
	struct partition *p = v->part;

	for (u32 i = 0; i < p->vcpu_count; i++) {
		struct vcpu *t = &p->vcpus[i];

		if (!(ipi->targets & (1ull << i)))
			continue;
		switch (ipi->mode) {
		case VLAPIC_IPI_FIXED:
			lapic_send_ipi(t->cpu->apic_id, ipi->vector);
			break;
		case VLAPIC_IPI_INIT:
			vcpu_init_signal(t);
			break;
		case VLAPIC_IPI_STARTUP:
			vcpu_startup(t, ipi->vector);
			break;
		case VLAPIC_IPI_NMI:
			/* Real NMIs are the hypervisor's way back into a CPU; virtual NMI injection
			 * is not there yet. Counted, not delivered. */
			v->part->violations++;
			break;
		}
	}
}

static void deliver_ioapic_msg(struct partition *p, const struct vioapic_msg *m)
{
	bool outside = false;
	u64 targets = vlapic_destination(&p->lapics, m->dest, m->logical, false, &outside);

	if (outside)
		p->violations++;
	if (!targets || m->vector < VECTOR_FIRST_VALID)
		return;
	if (m->delivery == VIOAPIC_DM_LOWEST)
		targets &= -targets; /* the lowest-numbered CPU of the destination */
	else if (m->delivery != VIOAPIC_DM_FIXED)
		return; /* SMI, NMI, INIT, ExtINT from a device pin: not for a guest */
	for (u32 i = 0; i < p->vcpu_count; i++)
		if (targets & (1ull << i))
			lapic_send_ipi(p->vcpus[i].cpu->apic_id, m->vector);
}

/* The guest's power-off and reset: requests to the service CPU, which takes every vCPU back
 * (whichever CPU found the event: a vCPU after its exit, or the service CPU's tick). */
static void lifecycle_events(struct partition *p, u32 events)
{
	if (events & VPLATFORM_EV_POWER_OFF)
		partition_stop(p, "the guest powered off (ACPI S5)");
	else if (events & VPLATFORM_EV_RESET)
		partition_reset(p, "the guest reset its machine");
}

/* Polls the devices and sends their interrupts; returns the lifecycle events. */
static u32 poll_and_deliver(struct partition *p, u64 now)
{
	struct vplatform_out out;

	spin_lock(&p->lock);
	vplatform_poll(&p->platform, now, &out);
	p->next_poll_ns = out.deadline_ns;
	spin_unlock(&p->lock);
	for (u32 i = 0; i < out.msg_count; i++)
		deliver_ioapic_msg(p, &out.msgs[i]);
	return out.events;
}

void pdev_tick(struct partition *p)
{
	u64 now = tsc_uptime_ns();
	u32 events;

	if (!p->pc_platform)
		return;
	if (now < __atomic_load_n(&p->next_poll_ns, __ATOMIC_RELAXED))
		return;
	events = poll_and_deliver(p, now);
	lifecycle_events(p, events);
}

void pdev_flush(struct vcpu *v)
{
	struct partition *p = v->part;

	if (!p->pc_platform)
		return;
	lifecycle_events(p, poll_and_deliver(p, tsc_uptime_ns()));
}

/* ------------------------------------------------------------------ LAPIC modes and MSRs */

#define MSR_APIC_BASE_NUMBER 0x1b

bool pdev_x2apic_offered(const struct partition *p)
{
	return p->pc_platform && lapic_x2apic() && virt->vcpu_set_x2apic_passthrough;
}

/* The guest changed its LAPIC's mode. The physical LAPIC stays in the hypervisor's x2APIC
 * mode (pdev_x2apic_offered): only which MSRs exit changes. Disabling loses the LAPIC's
 * programming, as the SDM allows the hardware to: this CPU's LAPIC goes back to the idle
 * state, so nothing the guest set up keeps firing while it believes its APIC is off. */
static void apic_mode_changed(struct vcpu *v, enum vlapic_mode mode)
{
	if (mode == VLAPIC_MODE_DISABLED)
		lapic_reset_idle();
	if (virt->vcpu_set_x2apic_passthrough)
		virt->vcpu_set_x2apic_passthrough(v, mode == VLAPIC_MODE_X2APIC);
}

static enum pdev_result apic_base_access(struct vcpu *v, bool write, u64 *value)
{
	struct vlapic *l = &v->part->lapics.cpu[v->index];
	enum vlapic_mode was = l->mode;

	if (!write) {
		*value = vlapic_apic_base(l);
		return PDEV_DONE;
	}
	if (vlapic_apic_base_write(l, *value, pdev_x2apic_offered(v->part)) != BH_OK)
		return PDEV_GP;
	if (l->mode != was)
		apic_mode_changed(v, l->mode);
	return PDEV_DONE;
}

/* An x2APIC MSR that exited (the pass-through ones only exit before x2APIC mode, and then
 * vlapic_msr answers #GP). The host is in x2APIC mode, so the forwarded accesses are the same
 * MSR of the physical LAPIC, through the register offset lapic.c takes. */
static enum pdev_result x2apic_msr_access(struct vcpu *v, u32 msr, bool write, u64 *value)
{
	struct partition *p = v->part;
	u32 reg = (msr - VLAPIC_X2APIC_MSR_FIRST) << 4;
	struct vlapic_ipi ipi;

	switch (vlapic_msr(&p->lapics.cpu[v->index], &p->lapics, msr, write, value, &ipi)) {
	case VLAPIC_FORWARD_READ:
		*value = lapic_reg_read(reg);
		return PDEV_DONE;
	case VLAPIC_FORWARD_WRITE:
		lapic_reg_write(reg, (u32)*value);
		return PDEV_DONE;
	case VLAPIC_SEND_IPI:
		if (ipi.violation)
			p->violations++;
		deliver_ipi(v, &ipi);
		return PDEV_DONE;
	case VLAPIC_VIOLATION:
		return PDEV_BLOCKED;
	case VLAPIC_GP:
		return PDEV_GP;
	case VLAPIC_DONE:
	default:
		return PDEV_DONE;
	}
}

enum pdev_result pdev_msr(struct vcpu *v, u32 msr, bool write, u64 *value)
{
	if (!v->part->pc_platform)
		return PDEV_NOT_MINE;
	if (msr == MSR_APIC_BASE_NUMBER)
		return apic_base_access(v, write, value);
	if (msr >= VLAPIC_X2APIC_MSR_FIRST && msr <= VLAPIC_X2APIC_MSR_LAST)
		return x2apic_msr_access(v, msr, write, value);
	return PDEV_NOT_MINE;
}

/* ------------------------------------------------------------------ MMIO */

static enum pdev_result lapic_access(struct vcpu *v, u32 offset, u8 size, bool write,
				     u64 *value)
{
	struct partition *p = v->part;
	struct vlapic_ipi ipi;
	u32 v32 = (u32)*value;
	enum vlapic_action a;

	a = vlapic_mmio(&p->lapics.cpu[v->index], &p->lapics, offset, size, write, &v32, &ipi);
	switch (a) {
	case VLAPIC_FORWARD_READ:
		v32 = lapic_reg_read(offset);
		break;
	case VLAPIC_FORWARD_WRITE:
		lapic_reg_write(offset, v32);
		break;
	case VLAPIC_SEND_IPI:
		if (ipi.violation)
			p->violations++;
		deliver_ipi(v, &ipi);
		break;
	case VLAPIC_VIOLATION:
	case VLAPIC_GP:
		*value = 0;
		return PDEV_BLOCKED;
	case VLAPIC_DONE:
		break;
	}
	if (!write)
		*value = v32;
	return PDEV_DONE;
}

enum pdev_result pdev_mmio(struct vcpu *v, u64 gpa, u8 size, bool write, u64 *value)
{
	struct partition *p = v->part;

	if (!p->pc_platform)
		return PDEV_NOT_MINE;
	if (gpa >= PDEV_LAPIC_BASE && gpa < PDEV_LAPIC_BASE + VLAPIC_PAGE_SIZE)
		return lapic_access(v, (u32)(gpa - PDEV_LAPIC_BASE), size, write, value);
	if (gpa >= PDEV_IOAPIC_BASE && gpa < PDEV_IOAPIC_BASE + VIOAPIC_MMIO_SIZE) {
		bool mine;

		spin_lock(&p->lock);
		mine = vplatform_mmio(&p->platform, gpa, size, write, value, tsc_uptime_ns());
		spin_unlock(&p->lock);
		return mine ? PDEV_DONE : PDEV_NOT_MINE;
	}
	return PDEV_NOT_MINE;
}
