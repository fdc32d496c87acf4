/* A virtual MC146818 RTC with CMOS RAM, computed from the real time given with each call.
 *
 * The clock runs while SET is clear and the divider is not held in reset (A's DV at most 010).
 * While it runs, the clock registers are derived from `unix_ns + offset_ns`. When it stops,
 * their values are frozen into cmos[] and the guest reads and writes those bytes; when it
 * starts again, they become the new time (a new offset): with the divider released, the first
 * update comes 500 ms later (as on the chip, and as Linux expects when it sets the clock);
 * with SET cleared, the sub-second phase goes on where it was (the divider kept running). A
 * single clock register written while the clock runs changes only that field.
 *
 * Flags: UF at every second boundary of the running clock, AF at a boundary whose time matches
 * the alarm, PF at every period of the rate selected in A (on the real time scale) while the
 * divider runs. They are brought forward to the latest time before every access. */
#include "hv/vrtc.h"
#include "hv/vtime.h"
#include "lib/calendar.h"
#include "lib/error.h"
#include "lib/string.h"

#define RTC_HZ 32768ull
#define UPDATE_DELAY_NS 500000000ull /* first update after the divider is released */
#define CLOCK_LIMIT_SECS 16725225600ull /* 2500-01-01: a clock set later would overflow */
#define DONT_CARE(b) (((b) & 0xc0) == 0xc0)
#define NO_MATCH 0xffffffffu

static bool is_clock_reg(u8 index)
{
	return index <= VRTC_YEAR ? !(index == VRTC_SECONDS_ALARM || index == VRTC_MINUTES_ALARM ||
				       index == VRTC_HOURS_ALARM)
				  : index == VRTC_CENTURY;
}

static bool binary(const struct vrtc *rtc)
{
	return rtc->cmos[VRTC_REG_B] & VRTC_B_DM_BINARY;
}

static bool divider_runs(const struct vrtc *rtc)
{
	return (rtc->cmos[VRTC_REG_A] & VRTC_A_DV) <= 0x20;
}

static bool clock_runs(const struct vrtc *rtc)
{
	return divider_runs(rtc) && !(rtc->cmos[VRTC_REG_B] & VRTC_B_SET);
}

static u64 clock_ns(const struct vrtc *rtc)
{
	return rtc->now + rtc->offset_ns;
}

/* ---- register encoding ------------------------------------------------------------------- */

static u8 encode(u32 v, bool bin)
{
	return bin ? (u8)v : (u8)(((v / 10) << 4) | (v % 10));
}

static bool decode(u8 raw, bool bin, u32 *v)
{
	if (bin) {
		*v = raw;
		return true;
	}
	if ((raw & 0x0f) > 9 || (raw >> 4) > 9)
		return false;
	*v = (raw >> 4) * 10u + (raw & 0x0fu);
	return true;
}

static u8 encode_hour(u32 h, u8 reg_b)
{
	bool bin = reg_b & VRTC_B_DM_BINARY;

	if (reg_b & VRTC_B_24H)
		return encode(h, bin);
	return (u8)(encode(h % 12 ? h % 12 : 12, bin) | (h >= 12 ? 0x80 : 0));
}

static bool decode_hour(u8 raw, u8 reg_b, u32 *h)
{
	bool bin = reg_b & VRTC_B_DM_BINARY;
	u32 v;

	if (reg_b & VRTC_B_24H)
		return decode(raw, bin, h) && *h < 24;
	if (!decode(raw & 0x7f, bin, &v) || v < 1 || v > 12)
		return false;
	*h = v % 12 + ((raw & 0x80) ? 12 : 0);
	return true;
}

/* The date in clock registers `regs` (indexed by register number), read with register B
 * `reg_b`; century_index 0: none. */
static int decode_clock(const u8 *regs, u8 reg_b, u8 century_index, u64 *secs)
{
	bool bin = reg_b & VRTC_B_DM_BINARY;
	struct cal_date d;
	u32 sec, min, hour, day, mon, yy, cc;

	if (!decode(regs[VRTC_SECONDS], bin, &sec) || !decode(regs[VRTC_MINUTES], bin, &min) ||
	    !decode_hour(regs[VRTC_HOURS], reg_b, &hour) ||
	    !decode(regs[VRTC_DAY_OF_MONTH], bin, &day) || !decode(regs[VRTC_MONTH], bin, &mon) ||
	    !decode(regs[VRTC_YEAR], bin, &yy) || yy > 99)
		return BH_EINVAL;
	if (century_index) {
		if (!decode(regs[century_index], bin, &cc) || cc > 99)
			return BH_EINVAL;
	} else {
		cc = yy < 70 ? 20 : 19;
	}
	if (sec > 59 || min > 59 || day > 31 || mon > 12)
		return BH_EINVAL;
	d = (struct cal_date){ .year = cc * 100 + yy, .month = (u8)mon, .day = (u8)day,
			       .hour = (u8)hour, .minute = (u8)min, .second = (u8)sec };
	return cal_to_unix(&d, secs);
}

/* A clock register as the running clock shows it now. */
static u8 clock_reg(const struct vrtc *rtc, u8 index)
{
	struct cal_date d;
	bool bin = binary(rtc);
	u64 secs = clock_ns(rtc) / NS_PER_SEC;

	if (cal_from_unix(secs, &d) != 0)
		cal_from_unix(CAL_UNIX_MAX, &d); /* beyond year 9999: stays there */
	switch (index) {
	case VRTC_SECONDS:
		return encode(d.second, bin);
	case VRTC_MINUTES:
		return encode(d.minute, bin);
	case VRTC_HOURS:
		return encode_hour(d.hour, rtc->cmos[VRTC_REG_B]);
	case VRTC_DAY_OF_WEEK:
		return encode((d.weekday + rtc->dow_adjust) % 7 + 1, bin);
	case VRTC_DAY_OF_MONTH:
		return encode(d.day, bin);
	case VRTC_MONTH:
		return encode(d.month, bin);
	case VRTC_YEAR:
		return encode(d.year % 100, bin);
	default: /* VRTC_CENTURY */
		return encode(d.year / 100 % 100, bin);
	}
}

/* ---- stopping and starting the clock --------------------------------------------------- */

static void freeze(struct vrtc *rtc)
{
	static const u8 regs[] = { VRTC_SECONDS, VRTC_MINUTES, VRTC_HOURS, VRTC_DAY_OF_WEEK,
				   VRTC_DAY_OF_MONTH, VRTC_MONTH, VRTC_YEAR, VRTC_CENTURY };

	for (size_t i = 0; i < ARRAY_SIZE(regs); i++)
		rtc->cmos[regs[i]] = clock_reg(rtc, regs[i]);
}

/* The frozen registers become the time; `phase_ns` is where in its second the clock starts. */
static void thaw(struct vrtc *rtc, u64 phase_ns)
{
	u64 secs;
	u32 dow;

	if (decode_clock(rtc->cmos, rtc->cmos[VRTC_REG_B], VRTC_CENTURY, &secs) != 0 ||
	    secs >= CLOCK_LIMIT_SECS)
		return; /* not a date: the clock goes on from where it was */
	rtc->offset_ns = secs * NS_PER_SEC + phase_ns - rtc->now;
	if (decode(rtc->cmos[VRTC_DAY_OF_WEEK], binary(rtc), &dow) && dow >= 1 && dow <= 7)
		rtc->dow_adjust = (u8)((dow - 1 + 7 - cal_weekday(secs)) % 7);
}

/* ---- flags ------------------------------------------------------------------------------ */

/* Periodic interrupt period in 32.768 kHz cycles (0: none). */
static u64 rate_cycles(const struct vrtc *rtc)
{
	u32 rs = rtc->cmos[VRTC_REG_A] & VRTC_A_RS;

	if (rs == 0)
		return 0;
	if (rs <= 2)
		return 1ull << (rs + 6); /* 256 Hz and 128 Hz, as rates 8 and 9 */
	return 1ull << (rs - 1);
}

/* One alarm byte: NO_MATCH if it can never match, else the value, or 0xff for "any". */
static u32 alarm_field(const struct vrtc *rtc, u8 index, u32 limit)
{
	u8 raw = rtc->cmos[index];
	u32 v;

	if (DONT_CARE(raw))
		return 0xff;
	if (index == VRTC_HOURS_ALARM) {
		if (!decode_hour(raw, rtc->cmos[VRTC_REG_B], &v))
			return NO_MATCH;
	} else if (!decode(raw, binary(rtc), &v)) {
		return NO_MATCH;
	}
	return v < limit ? v : NO_MATCH;
}

static bool field_ok(u32 alarm, u32 v)
{
	return alarm == 0xff || alarm == v;
}

/* The first second of the day at or after `from` (0..86399) matching the alarm, or NO_MATCH. */
static u32 alarm_in_day(u32 h_a, u32 m_a, u32 s_a, u32 from)
{
	u32 h0 = from / 3600, m0 = from / 60 % 60, s0 = from % 60;

	for (u32 h = h0; h < 24; h++) {
		if (!field_ok(h_a, h))
			continue;
		for (u32 m = h == h0 ? m0 : 0; m < 60; m++) {
			u32 s_from = (h == h0 && m == m0) ? s0 : 0;

			if (!field_ok(m_a, m))
				continue;
			if (s_a == 0xff)
				return h * 3600 + m * 60 + s_from;
			if (s_a >= s_from)
				return h * 3600 + m * 60 + s_a;
		}
	}
	return NO_MATCH;
}

/* The first second after `secs` (clock time) whose time of day matches the alarm, or
 * VTIME_NEVER. */
static u64 next_alarm(const struct vrtc *rtc, u64 secs)
{
	u32 s_a = alarm_field(rtc, VRTC_SECONDS_ALARM, 60);
	u32 m_a = alarm_field(rtc, VRTC_MINUTES_ALARM, 60);
	u32 h_a = alarm_field(rtc, VRTC_HOURS_ALARM, 24);
	u64 day = (secs + 1) / CAL_SECS_PER_DAY;
	u32 tod = (u32)((secs + 1) % CAL_SECS_PER_DAY), t;

	if (s_a == NO_MATCH || m_a == NO_MATCH || h_a == NO_MATCH)
		return VTIME_NEVER;
	t = alarm_in_day(h_a, m_a, s_a, tod);
	if (t == NO_MATCH) {
		day++;
		t = alarm_in_day(h_a, m_a, s_a, 0);
	}
	return day * CAL_SECS_PER_DAY + t;
}

/* Brings the flags and the time up to `unix_ns` (never back). */
static void sync(struct vrtc *rtc, u64 unix_ns)
{
	u64 then = rtc->now, p;

	if (unix_ns <= then)
		return;
	if (clock_runs(rtc)) {
		u64 s0 = (then + rtc->offset_ns) / NS_PER_SEC;
		u64 s1 = (unix_ns + rtc->offset_ns) / NS_PER_SEC;

		if (s1 > s0) {
			rtc->flags |= VRTC_C_UF;
			if (next_alarm(rtc, s0) <= s1)
				rtc->flags |= VRTC_C_AF;
		}
	}
	p = rate_cycles(rtc);
	if (p && divider_runs(rtc) &&
	    vtime_ns_to_ticks(unix_ns, RTC_HZ) / p > vtime_ns_to_ticks(then, RTC_HZ) / p)
		rtc->flags |= VRTC_C_PF;
	rtc->now = unix_ns;
}

static bool irqf(const struct vrtc *rtc)
{
	u8 b = rtc->cmos[VRTC_REG_B], f = rtc->flags;

	return ((f & VRTC_C_PF) && (b & VRTC_B_PIE)) || ((f & VRTC_C_AF) && (b & VRTC_B_AIE)) ||
	       ((f & VRTC_C_UF) && (b & VRTC_B_UIE));
}

/* ---- registers ------------------------------------------------------------------------- */

static u8 reg_read(struct vrtc *rtc, u8 index)
{
	u8 v;

	if (is_clock_reg(index))
		return clock_runs(rtc) ? clock_reg(rtc, index) : rtc->cmos[index];
	switch (index) {
	case VRTC_REG_A:
		v = rtc->cmos[VRTC_REG_A] & (u8)~VRTC_A_UIP;
		if (clock_runs(rtc) && clock_ns(rtc) % NS_PER_SEC >= NS_PER_SEC - VRTC_UIP_NS)
			v |= VRTC_A_UIP;
		return v;
	case VRTC_REG_C:
		v = (u8)(rtc->flags | (irqf(rtc) ? VRTC_C_IRQF : 0));
		rtc->flags = 0; /* reading C clears every flag */
		return v;
	case VRTC_REG_D:
		return VRTC_D_VRT;
	default:
		return rtc->cmos[index];
	}
}

static void reg_write(struct vrtc *rtc, u8 index, u8 value)
{
	bool ran = clock_runs(rtc), divider_ran = divider_runs(rtc);
	u64 phase = clock_ns(rtc) % NS_PER_SEC;

	if (is_clock_reg(index)) {
		if (ran) {
			freeze(rtc);
			rtc->cmos[index] = value;
			thaw(rtc, phase);
		} else {
			rtc->cmos[index] = value;
		}
		return;
	}
	switch (index) {
	case VRTC_REG_A:
		rtc->cmos[index] = value & (u8)~VRTC_A_UIP;
		break;
	case VRTC_REG_B:
		if (value & VRTC_B_SET)
			value &= (u8)~VRTC_B_UIE; /* SET going high clears UIE */
		rtc->cmos[index] = value;
		break;
	case VRTC_REG_C:
	case VRTC_REG_D:
		return; /* read-only */
	default:
		rtc->cmos[index] = value;
		return;
	}
	if (ran && !clock_runs(rtc))
		freeze(rtc);
	else if (!ran && clock_runs(rtc))
		thaw(rtc, divider_ran ? phase : UPDATE_DELAY_NS);
}

/* ---- interface ---------------------------------------------------------------------------- */

void vrtc_init(struct vrtc *rtc, u64 unix_ns)
{
	memset(rtc, 0, sizeof(*rtc));
	rtc->now = unix_ns;
	rtc->cmos[VRTC_REG_A] = 0x26;
	rtc->cmos[VRTC_REG_B] = VRTC_B_24H;
}

u8 vrtc_read(struct vrtc *rtc, u16 port, u64 unix_ns)
{
	if (port != VRTC_PORT_DATA)
		return 0xff; /* the index register is write-only */
	sync(rtc, unix_ns);
	return reg_read(rtc, rtc->index);
}

void vrtc_write(struct vrtc *rtc, u16 port, u8 value, u64 unix_ns)
{
	if (port == VRTC_PORT_INDEX) {
		rtc->index = value & 0x7f; /* bit 7 masks NMIs on a PC: ignored */
		return;
	}
	if (port != VRTC_PORT_DATA)
		return;
	sync(rtc, unix_ns);
	reg_write(rtc, rtc->index, value);
}

bool vrtc_irq_line(struct vrtc *rtc, u64 unix_ns)
{
	sync(rtc, unix_ns);
	return irqf(rtc);
}

u64 vrtc_next_event_ns(struct vrtc *rtc, u64 unix_ns)
{
	u8 b = rtc->cmos[VRTC_REG_B];
	u64 best = VTIME_NEVER, t, p;

	sync(rtc, unix_ns);
	if (irqf(rtc))
		return VTIME_NEVER; /* the line is up until register C is read */
	p = rate_cycles(rtc);
	if ((b & VRTC_B_PIE) && p && divider_runs(rtc)) {
		t = vtime_ticks_to_ns((vtime_ns_to_ticks(rtc->now, RTC_HZ) / p + 1) * p, RTC_HZ);
		best = MIN(best, t);
	}
	if (clock_runs(rtc)) {
		u64 secs = clock_ns(rtc) / NS_PER_SEC;

		if (b & VRTC_B_UIE) {
			t = (secs + 1) * NS_PER_SEC - rtc->offset_ns;
			best = MIN(best, t);
		}
		if (b & VRTC_B_AIE) {
			u64 s = next_alarm(rtc, secs);

			if (s != VTIME_NEVER) {
				t = s * NS_PER_SEC - rtc->offset_ns;
				best = MIN(best, t);
			}
		}
	}
	return best;
}

u64 vrtc_time_ns(struct vrtc *rtc, u64 unix_ns)
{
	sync(rtc, unix_ns);
	return clock_ns(rtc);
}

bool vrtc_cmos_set(struct vrtc *rtc, u8 index, u8 value)
{
	if (index < VRTC_RAM_FIRST || index >= VRTC_CMOS_SIZE || index == VRTC_CENTURY)
		return false;
	rtc->cmos[index] = value;
	return true;
}

int vrtc_decode_cmos(const u8 *regs, size_t len, u8 century_index, u64 *unix_secs)
{
	if (len <= VRTC_REG_B || (century_index && (century_index >= len ||
						    century_index <= VRTC_REG_D)))
		return BH_EINVAL;
	return decode_clock(regs, regs[VRTC_REG_B], century_index, unix_secs);
}
