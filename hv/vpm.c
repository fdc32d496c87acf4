/* Virtual ACPI PM1 block, PM timer, reset control register and keyboard controller reset.
 *
 * Registers are accessed byte lane by byte lane, so a guest may use any width (ACPICA uses 16
 * bits for PM1 and 32 for the timer; a byte access works as on the chipsets): a read takes all
 * its bytes from one sample of the time, a write updates only the lanes it covers.
 *
 * TMR_STS is not stored: it is set whenever the timer's top bit (23 or 31) has changed since the
 * guest last cleared it, which the model knows from the time alone. */
#include "hv/vpm.h"
#include "hv/vtime.h"
#include "lib/string.h"

#define STS_STORED (VPM_BM_STS | VPM_GBL_STS | VPM_PWRBTN_STS | VPM_SLPBTN_STS | VPM_RTC_STS | \
		    VPM_WAK_STS)
#define EN_MASK (VPM_TMR_EN | VPM_GBL_EN | VPM_PWRBTN_EN | VPM_SLPBTN_EN | VPM_RTC_EN)
#define SCI_SOURCES (VPM_TMR_STS | VPM_GBL_STS | VPM_PWRBTN_STS | VPM_SLPBTN_STS | VPM_RTC_STS)
#define CNT_KEEP (VPM_SCI_EN | VPM_BM_RLD | VPM_SLP_TYP_MASK)

enum reg { REG_STS, REG_EN, REG_CNT, REG_TMR, REG_NONE };

static u32 width(const struct vpm *pm)
{
	return pm->tmr_32bit ? 32 : 24;
}

static u64 carries(const struct vpm *pm, u64 ticks)
{
	return ticks >> (width(pm) - 1);
}

static void sync(struct vpm *pm, u64 now_ns)
{
	u64 t = vtime_ns_to_ticks(now_ns, VPM_TIMER_HZ);

	if (t > pm->now)
		pm->now = t;
}

static u16 status(const struct vpm *pm)
{
	u16 s = pm->sts & STS_STORED;

	if (carries(pm, pm->now) != pm->tmr_carry)
		s |= VPM_TMR_STS;
	return s;
}

static u32 timer(const struct vpm *pm)
{
	return pm->tmr_32bit ? (u32)pm->now : (u32)(pm->now & 0xffffff);
}

/* Which register holds byte `offset`, and the offset of its first byte. */
static enum reg reg_at(u16 offset, u16 *base)
{
	if (offset < 2) {
		*base = VPM_PM1_STS;
		return REG_STS;
	}
	if (offset < 4) {
		*base = VPM_PM1_EN;
		return REG_EN;
	}
	if (offset < 6) {
		*base = VPM_PM1_CNT;
		return REG_CNT;
	}
	if (offset >= 8 && offset < 12) {
		*base = VPM_PM_TMR;
		return REG_TMR;
	}
	*base = offset; /* no register: each byte stands alone */
	return REG_NONE;
}

static u32 reg_read(const struct vpm *pm, enum reg r)
{
	switch (r) {
	case REG_STS:
		return status(pm);
	case REG_EN:
		return pm->en;
	case REG_CNT:
		return pm->cnt; /* SLP_EN and GBL_RLS read 0 */
	case REG_TMR:
		return timer(pm);
	default:
		return 0xffffffffu;
	}
}

void vpm_reset(struct vpm *pm, u64 now_ns)
{
	bool wide = pm->tmr_32bit;

	memset(pm, 0, sizeof(*pm));
	pm->tmr_32bit = wide;
	sync(pm, now_ns);
	pm->tmr_carry = carries(pm, pm->now);
	pm->cnt = VPM_SCI_EN;
}

void vpm_init(struct vpm *pm, bool tmr_32bit, u64 now_ns)
{
	memset(pm, 0, sizeof(*pm));
	pm->tmr_32bit = tmr_32bit;
	vpm_reset(pm, now_ns);
}

u32 vpm_read(struct vpm *pm, u16 offset, u8 size, u64 now_ns)
{
	u32 value = 0;

	sync(pm, now_ns);
	for (u32 i = 0; i < size && i < 4; i++) {
		u16 base, o = (u16)(offset + i);
		enum reg r = reg_at(o, &base);
		u8 b = (u8)(reg_read(pm, r) >> (8 * (o - base)));

		if (r == REG_NONE)
			b = 0xff;
		value |= (u32)b << (8 * i);
	}
	return value;
}

static enum vpm_event reg_write(struct vpm *pm, enum reg r, u32 mask, u32 value)
{
	u16 now_cnt;

	value &= mask;
	switch (r) {
	case REG_STS:
		if (value & VPM_TMR_STS)
			pm->tmr_carry = carries(pm, pm->now);
		pm->sts &= (u16)~value; /* write one to clear */
		break;
	case REG_EN:
		pm->en = (u16)((pm->en & ~mask) | (value & EN_MASK));
		break;
	case REG_CNT:
		now_cnt = (u16)((pm->cnt & ~mask) | value);
		pm->cnt = now_cnt & CNT_KEEP;
		if ((value & VPM_SLP_EN) &&
		    ((now_cnt & VPM_SLP_TYP_MASK) >> VPM_SLP_TYP_SHIFT) == VPM_SLP_TYP_S5)
			return VPM_EV_POWER_OFF;
		break;
	default: /* the timer is read-only */
		break;
	}
	return VPM_EV_NONE;
}

enum vpm_event vpm_write(struct vpm *pm, u16 offset, u8 size, u32 value, u64 now_ns)
{
	enum vpm_event ev = VPM_EV_NONE;
	u32 i = 0;

	sync(pm, now_ns);
	while (i < size && i < 4) {
		u16 base, o = (u16)(offset + i);
		enum reg r = reg_at(o, &base);
		u32 mask = 0, lanes = 0;

		/* all the bytes of this access that fall into register r */
		while (i < size && i < 4) {
			u16 b2, o2 = (u16)(offset + i);

			if (reg_at(o2, &b2) != r || b2 != base)
				break;
			mask |= 0xffu << (8 * (o2 - base));
			lanes |= ((value >> (8 * i)) & 0xff) << (8 * (o2 - base));
			i++;
		}
		if (r != REG_NONE) {
			enum vpm_event e = reg_write(pm, r, mask, lanes);

			if (e != VPM_EV_NONE)
				ev = e;
		}
	}
	return ev;
}

u32 vpm_timer(struct vpm *pm, u64 now_ns)
{
	sync(pm, now_ns);
	return timer(pm);
}

bool vpm_sci_level(struct vpm *pm, u64 now_ns)
{
	sync(pm, now_ns);
	return (pm->cnt & VPM_SCI_EN) && (status(pm) & pm->en & SCI_SOURCES);
}

u64 vpm_next_event_ns(struct vpm *pm, u64 now_ns)
{
	sync(pm, now_ns);
	if (!(pm->cnt & VPM_SCI_EN) || !(pm->en & VPM_TMR_EN) || (status(pm) & VPM_TMR_STS))
		return VTIME_NEVER;
	return vtime_ticks_to_ns((pm->tmr_carry + 1) << (width(pm) - 1), VPM_TIMER_HZ);
}

void vpm_power_button(struct vpm *pm)
{
	pm->sts |= VPM_PWRBTN_STS;
}

u8 vpm_reset_read(struct vpm *pm)
{
	return pm->reset_ctl;
}

enum vpm_event vpm_reset_write(struct vpm *pm, u8 value)
{
	pm->reset_ctl = value & (VPM_RESET_SYS | VPM_RESET_FULL);
	return (value & VPM_RESET_CPU) ? VPM_EV_RESET : VPM_EV_NONE;
}

u8 vpm_kbc_read(u16 port)
{
	return port == VPM_PORT_KBC_CMD ? VPM_KBC_STATUS : 0xff;
}

enum vpm_event vpm_kbc_write(u16 port, u8 value)
{
	if (port == VPM_PORT_KBC_CMD && (value & 0xf0) == 0xf0 && !(value & 0x01))
		return VPM_EV_RESET;
	return VPM_EV_NONE;
}
