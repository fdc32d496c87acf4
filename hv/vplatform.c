/* The virtual platform of a partition: port and MMIO routing, interrupt wiring, events. */
#include "hv/vplatform.h"
#include "hv/vtime.h"
#include "lib/string.h"

enum unit { UNIT_NONE, UNIT_PIT, UNIT_KBC, UNIT_RTC, UNIT_POST, UNIT_RESET, UNIT_PM };

static enum unit byte_unit(u16 port)
{
	switch (port) {
	case VPIT_PORT_CH0:
	case VPIT_PORT_CH1:
	case VPIT_PORT_CH2:
	case VPIT_PORT_CTRL:
	case VPIT_PORT_B:
		return UNIT_PIT;
	case VPM_PORT_KBC_DATA:
	case VPM_PORT_KBC_CMD:
		return UNIT_KBC;
	case VRTC_PORT_INDEX:
	case VRTC_PORT_DATA:
		return UNIT_RTC;
	case VPLATFORM_PORT_POST:
		return UNIT_POST;
	default:
		return UNIT_NONE;
	}
}

static bool in_pm_block(u16 port)
{
	return port >= VPLATFORM_PM_BASE && port < VPLATFORM_PM_BASE + VPM_BLOCK_LEN;
}

static u64 unix_ns(const struct vplatform *p, u64 now_ns)
{
	return p->unix_base_ns + now_ns;
}

static void queue(struct vplatform *p, const struct vioapic_msg *m)
{
	p->msgs[m->pin] = *m; /* a second one from the same pin coalesces, as in a LAPIC's IRR */
	p->pending |= 1u << m->pin;
}

static void drive(struct vplatform *p, u32 gsi, bool level)
{
	struct vioapic_msg m;

	if (vioapic_set_irq(&p->ioapic, gsi, level, &m))
		queue(p, &m);
}

static void event(struct vplatform *p, enum vpm_event e)
{
	if (e == VPM_EV_POWER_OFF)
		p->events |= VPLATFORM_EV_POWER_OFF;
	else if (e == VPM_EV_RESET)
		p->events |= VPLATFORM_EV_RESET;
}

/* Brings the interrupt sources to now_ns and passes their changes to the IOAPIC. */
static void update_lines(struct vplatform *p, u64 now_ns)
{
	bool rtc = vrtc_irq_line(&p->rtc, unix_ns(p, now_ns));
	bool sci = vpm_sci_level(&p->pm, now_ns);

	if (vpit_irq0_take(&p->pit, now_ns)) {
		drive(p, VPLATFORM_GSI_PIT, true); /* OUT0's rising edge, one for all since last */
		drive(p, VPLATFORM_GSI_PIT, false);
	}
	if (rtc != p->rtc_line) {
		p->rtc_line = rtc;
		drive(p, VPLATFORM_GSI_RTC, rtc);
	}
	if (sci != p->sci_line) {
		p->sci_line = sci;
		drive(p, VPLATFORM_GSI_SCI, sci);
	}
}

void vplatform_reset(struct vplatform *p, u64 now_ns)
{
	vpit_reset(&p->pit, now_ns);
	vpm_reset(&p->pm, now_ns);
	vioapic_reset(&p->ioapic);
	p->events = 0;
	p->pending = 0;
	update_lines(p, now_ns);
	p->pending = 0;
}

void vplatform_init(struct vplatform *p, u8 ioapic_id, u64 unix_base_ns, u64 now_ns)
{
	memset(p, 0, sizeof(*p));
	p->unix_base_ns = unix_base_ns;
	vpit_init(&p->pit, now_ns);
	vpm_init(&p->pm, VPLATFORM_PM_TIMER_32BIT, now_ns);
	vrtc_init(&p->rtc, unix_ns(p, now_ns));
	vioapic_init(&p->ioapic, ioapic_id);
}

static u8 byte_in(struct vplatform *p, u16 port, u64 now_ns)
{
	switch (byte_unit(port)) {
	case UNIT_PIT:
		return vpit_read(&p->pit, port, now_ns);
	case UNIT_KBC:
		return vpm_kbc_read(port);
	case UNIT_RTC:
		return vrtc_read(&p->rtc, port, unix_ns(p, now_ns));
	default: /* 0x80 and the ports past a device */
		return 0xff;
	}
}

static void byte_out(struct vplatform *p, u16 port, u8 value, u64 now_ns)
{
	switch (byte_unit(port)) {
	case UNIT_PIT:
		vpit_write(&p->pit, port, value, now_ns);
		break;
	case UNIT_KBC:
		event(p, vpm_kbc_write(port, value));
		break;
	case UNIT_RTC:
		vrtc_write(&p->rtc, port, value, unix_ns(p, now_ns));
		break;
	default:
		break;
	}
}

bool vplatform_io(struct vplatform *p, u16 port, u8 size, bool in, u32 *value, u64 now_ns)
{
	u32 mask = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	if (size != 1 && size != 2 && size != 4)
		return false;
	if (in_pm_block(port)) {
		u16 offset = (u16)(port - VPLATFORM_PM_BASE);

		if (in)
			*value = vpm_read(&p->pm, offset, size, now_ns) & mask;
		else
			event(p, vpm_write(&p->pm, offset, size, *value & mask, now_ns));
	} else if (port == VPM_PORT_RESET) {
		if (size != 1)
			return false; /* 0xCF8-0xCFF as words or dwords: PCI configuration */
		if (in)
			*value = vpm_reset_read(&p->pm);
		else
			event(p, vpm_reset_write(&p->pm, (u8)*value));
	} else if (byte_unit(port) != UNIT_NONE) {
		u32 v = 0;

		for (u32 i = 0; i < size; i++) {
			u16 pt = (u16)(port + i);

			if (in)
				v |= (u32)byte_in(p, pt, now_ns) << (8 * i);
			else
				byte_out(p, pt, (u8)(*value >> (8 * i)), now_ns);
		}
		if (in)
			*value = v;
	} else {
		return false;
	}
	update_lines(p, now_ns);
	return true;
}

bool vplatform_mmio(struct vplatform *p, u64 gpa, u8 size, bool write, u64 *value, u64 now_ns)
{
	struct vioapic_msg m;

	if (gpa < VIOAPIC_BASE || gpa - VIOAPIC_BASE >= VIOAPIC_MMIO_SIZE)
		return false;
	if (write) {
		if (vioapic_mmio_write(&p->ioapic, gpa - VIOAPIC_BASE, size, *value, &m))
			queue(p, &m);
	} else {
		*value = vioapic_mmio_read(&p->ioapic, gpa - VIOAPIC_BASE, size);
	}
	update_lines(p, now_ns);
	return true;
}

void vplatform_set_irq(struct vplatform *p, u32 gsi, bool level)
{
	drive(p, gsi, level);
}

void vplatform_eoi(struct vplatform *p, u8 vector)
{
	struct vioapic_msg msgs[VIOAPIC_PINS];
	u32 n = vioapic_eoi(&p->ioapic, vector, msgs);

	for (u32 i = 0; i < n; i++)
		queue(p, &msgs[i]);
}

void vplatform_power_button(struct vplatform *p, u64 now_ns)
{
	vpm_power_button(&p->pm);
	update_lines(p, now_ns);
}

void vplatform_poll(struct vplatform *p, u64 now_ns, struct vplatform_out *out)
{
	u64 unix_now = unix_ns(p, now_ns), t;

	update_lines(p, now_ns);
	out->events = p->events;
	p->events = 0;
	out->msg_count = 0;
	for (u32 pin = 0; pin < VIOAPIC_PINS; pin++)
		if (p->pending & (1u << pin))
			out->msgs[out->msg_count++] = p->msgs[pin];
	p->pending = 0;

	/* An edge on a masked pin is lost: no need to wake up for the PIT then. The guest
	 * unmasks with an MMIO write, after which the caller polls again. */
	out->deadline_ns = VTIME_NEVER;
	if (!vioapic_pin_masked(&p->ioapic, VPLATFORM_GSI_PIT))
		out->deadline_ns = vpit_irq0_next_ns(&p->pit, now_ns);
	t = vrtc_next_event_ns(&p->rtc, unix_now);
	if (t != VTIME_NEVER)
		out->deadline_ns = MIN(out->deadline_ns, now_ns + (t > unix_now ? t - unix_now : 0));
	out->deadline_ns = MIN(out->deadline_ns, vpm_next_event_ns(&p->pm, now_ns));
}

u64 vplatform_rtc_unix_ns(struct vplatform *p, u64 now_ns)
{
	return vrtc_time_ns(&p->rtc, unix_ns(p, now_ns));
}
