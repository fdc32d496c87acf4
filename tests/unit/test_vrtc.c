/* Unit tests of lib/calendar.c (Unix time <-> date, across leap years and the 2000 and 2100
 * boundaries), vrtc_decode_cmos (the hypervisor's reading of the machine's RTC) and hv/vrtc.c,
 * the virtual MC146818: reading as Linux's mach_get_cmos_time() does, setting as
 * mc146818_set_time() does, formats, UIP, the clock's offset, interrupts and CMOS RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "types.h"
#include "hv/vrtc.h"
#include "hv/vtime.h"
#include "lib/calendar.h"
#include "lib/error.h"

#define SEC 1000000000ull
#define MS 1000000ull
#define LEAP_DAY_2024 1709214330ull /* 2024-02-29 13:45:30 UTC, a Thursday */

/* ---- calendar ------------------------------------------------------------------------- */

struct known {
	u64 secs;
	u32 year;
	u8 month, day, hour, minute, second, weekday;
};

static const struct known known_dates[] = {
	{ 0, 1970, 1, 1, 0, 0, 0, 4 },
	{ 946684799, 1999, 12, 31, 23, 59, 59, 5 },
	{ 946684800, 2000, 1, 1, 0, 0, 0, 6 },
	{ 951782400, 2000, 2, 29, 0, 0, 0, 2 },  /* 2000 is a leap year (divisible by 400) */
	{ 951868800, 2000, 3, 1, 0, 0, 0, 3 },
	{ 1709214330, 2024, 2, 29, 13, 45, 30, 4 },
	{ 2147483647, 2038, 1, 19, 3, 14, 7, 2 },
	{ 4102444799, 2099, 12, 31, 23, 59, 59, 4 },
	{ 4102444800, 2100, 1, 1, 0, 0, 0, 5 },
	{ 4107542399, 2100, 2, 28, 23, 59, 59, 0 }, /* 2100 is not */
	{ 4107542400, 2100, 3, 1, 0, 0, 0, 1 },
	{ 13574606400, 2400, 2, 29, 12, 0, 0, 2 },  /* 2400 is again */
	{ 16725225599, 2499, 12, 31, 23, 59, 59, 4 },
	{ CAL_UNIX_MAX, 9999, 12, 31, 23, 59, 59, 5 },
};

static void test_calendar_known_dates(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(known_dates); i++) {
		const struct known *k = &known_dates[i];
		struct cal_date d;
		u64 back = 1;

		assert_int_equal(cal_from_unix(k->secs, &d), 0);
		assert_int_equal(d.year, k->year);
		assert_int_equal(d.month, k->month);
		assert_int_equal(d.day, k->day);
		assert_int_equal(d.hour, k->hour);
		assert_int_equal(d.minute, k->minute);
		assert_int_equal(d.second, k->second);
		assert_int_equal(d.weekday, k->weekday);
		assert_int_equal(cal_weekday(k->secs), k->weekday);
		d.weekday = 99; /* ignored */
		assert_int_equal(cal_to_unix(&d, &back), 0);
		assert_true(back == k->secs);
	}
}

static void test_calendar_leap_years(void **state)
{
	(void)state;
	assert_true(cal_is_leap(2000));
	assert_true(cal_is_leap(2024));
	assert_true(cal_is_leap(2400));
	assert_false(cal_is_leap(1900));
	assert_false(cal_is_leap(2100));
	assert_false(cal_is_leap(2023));
	assert_int_equal(cal_days_in_month(2000, 2), 29);
	assert_int_equal(cal_days_in_month(2100, 2), 28);
	assert_int_equal(cal_days_in_month(2023, 4), 30);
	assert_int_equal(cal_days_in_month(2023, 12), 31);
	assert_int_equal(cal_days_in_month(2023, 0), 0);
	assert_int_equal(cal_days_in_month(2023, 13), 0);
}

/* Every day from 1970 to 2600, against a day-by-day count. */
static void test_calendar_every_day(void **state)
{
	u32 y = 1970, m = 1, dd = 1, wd = 4;
	u64 days = 0;

	(void)state;
	while (y < 2600) {
		static const u32 times[] = { 0, 1, 43199, 86399 };

		for (size_t i = 0; i < ARRAY_SIZE(times); i++) {
			u64 secs = days * 86400 + times[i], back;
			struct cal_date d;

			assert_int_equal(cal_from_unix(secs, &d), 0);
			assert_int_equal(d.year, y);
			assert_int_equal(d.month, m);
			assert_int_equal(d.day, dd);
			assert_int_equal(d.weekday, wd);
			assert_int_equal(d.hour * 3600 + d.minute * 60 + d.second, times[i]);
			assert_int_equal(cal_to_unix(&d, &back), 0);
			assert_true(back == secs);
		}
		days++;
		wd = (wd + 1) % 7;
		if (++dd > cal_days_in_month(y, m)) {
			dd = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
}

static void test_calendar_rejects_invalid(void **state)
{
	static const struct cal_date bad[] = {
		{ 2100, 2, 29, 0, 0, 0, 0 }, { 2023, 2, 29, 0, 0, 0, 0 },
		{ 2024, 2, 30, 0, 0, 0, 0 }, { 2024, 4, 31, 0, 0, 0, 0 },
		{ 2024, 0, 1, 0, 0, 0, 0 },  { 2024, 13, 1, 0, 0, 0, 0 },
		{ 2024, 1, 0, 0, 0, 0, 0 },  { 2024, 1, 32, 0, 0, 0, 0 },
		{ 2024, 1, 1, 24, 0, 0, 0 }, { 2024, 1, 1, 0, 60, 0, 0 },
		{ 2024, 1, 1, 0, 0, 60, 0 }, { 1969, 12, 31, 23, 59, 59, 0 },
		{ 10000, 1, 1, 0, 0, 0, 0 },
	};
	struct cal_date ok = { 2000, 2, 29, 23, 59, 59, 0 };
	u64 secs = 7;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(cal_to_unix(&bad[i], &secs), BH_EINVAL);
		assert_true(secs == 7);
	}
	assert_int_equal(cal_to_unix(&ok, &secs), 0);
	assert_true(secs == 951868799);
	assert_int_equal(cal_from_unix(CAL_UNIX_MAX + 1, &ok), BH_ERANGE);
	assert_int_equal(cal_from_unix(UINT64_MAX, &ok), BH_ERANGE);
}

/* ---- decoding the machine's CMOS -------------------------------------------------------- */

static void dump(u8 *r, u8 sec, u8 min, u8 hour, u8 day, u8 mon, u8 year, u8 b)
{
	memset(r, 0, 128);
	r[VRTC_SECONDS] = sec;
	r[VRTC_MINUTES] = min;
	r[VRTC_HOURS] = hour;
	r[VRTC_DAY_OF_WEEK] = 1;
	r[VRTC_DAY_OF_MONTH] = day;
	r[VRTC_MONTH] = mon;
	r[VRTC_YEAR] = year;
	r[VRTC_REG_A] = 0x26;
	r[VRTC_REG_B] = b;
	r[VRTC_REG_D] = 0x80;
}

static void test_decode_cmos(void **state)
{
	u8 r[128];
	u64 t;

	(void)state;
	/* BCD, 24 hours, with the century register */
	dump(r, 0x30, 0x45, 0x13, 0x29, 0x02, 0x24, 0x02);
	r[VRTC_CENTURY] = 0x20;
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), VRTC_CENTURY, &t), 0);
	assert_true(t == LEAP_DAY_2024);
	/* binary */
	dump(r, 30, 45, 13, 29, 2, 24, 0x06);
	r[VRTC_CENTURY] = 20;
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), VRTC_CENTURY, &t), 0);
	assert_true(t == LEAP_DAY_2024);
	/* BCD, 12 hours: 1 PM */
	dump(r, 0x30, 0x45, 0x81, 0x29, 0x02, 0x24, 0x00);
	r[VRTC_CENTURY] = 0x20;
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), VRTC_CENTURY, &t), 0);
	assert_true(t == LEAP_DAY_2024);
	/* 12 AM is 0 h, 12 PM is 12 h */
	dump(r, 0x00, 0x00, 0x12, 0x01, 0x01, 0x00, 0x00);
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), 0, &t), 0);
	assert_true(t == 946684800);
	r[VRTC_HOURS] = 0x92;
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), 0, &t), 0);
	assert_true(t == 946684800 + 12 * 3600);
	/* binary 12 hours: 11 PM */
	dump(r, 59, 59, 11 | 0x80, 31, 12, 99, 0x04);
	assert_int_equal(vrtc_decode_cmos(r, 14, 0, &t), 0);
	assert_true(t == 946684799);
}

static void test_decode_cmos_century_pivot(void **state)
{
	u8 r[128];
	u64 t;

	(void)state;
	dump(r, 0x59, 0x59, 0x23, 0x31, 0x12, 0x99, 0x02);
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), 0, &t), 0);
	assert_true(t == 946684799); /* 99: 1999 */
	dump(r, 0x59, 0x59, 0x23, 0x31, 0x12, 0x69, 0x02);
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), 0, &t), 0);
	assert_true(t == 3155759999ull); /* 69: 2069 */
	dump(r, 0x00, 0x00, 0x00, 0x01, 0x01, 0x70, 0x02);
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), 0, &t), 0);
	assert_true(t == 0); /* 70: 1970 */
	/* a century register says otherwise */
	dump(r, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x02);
	r[VRTC_CENTURY] = 0x21;
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), VRTC_CENTURY, &t), 0);
	assert_true(t == 4102444800ull);
}

static void test_decode_cmos_rejects(void **state)
{
	u8 r[128];
	u64 t = 42;

	(void)state;
	dump(r, 0x1a, 0x00, 0x00, 0x01, 0x01, 0x24, 0x02); /* not BCD */
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), 0, &t), BH_EINVAL);
	dump(r, 0x60, 0x00, 0x00, 0x01, 0x01, 0x24, 0x02); /* second 60 */
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), 0, &t), BH_EINVAL);
	dump(r, 0x00, 0x00, 0x24, 0x01, 0x01, 0x24, 0x02); /* hour 24 */
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), 0, &t), BH_EINVAL);
	dump(r, 0x00, 0x00, 0x00, 0x01, 0x01, 0x24, 0x00); /* 12-hour 0 */
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), 0, &t), BH_EINVAL);
	dump(r, 0x00, 0x00, 0x13, 0x01, 0x01, 0x24, 0x00); /* 12-hour 13 */
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), 0, &t), BH_EINVAL);
	dump(r, 0x00, 0x00, 0x00, 0x30, 0x02, 0x24, 0x02); /* February 30th */
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), 0, &t), BH_EINVAL);
	dump(r, 0x00, 0x00, 0x00, 0x01, 0x13, 0x24, 0x02); /* month 13 */
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), 0, &t), BH_EINVAL);
	dump(r, 0x00, 0x00, 0x00, 0x01, 0x01, 100, 0x06); /* binary year 100 */
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), 0, &t), BH_EINVAL);
	dump(r, 0x00, 0x00, 0x00, 0x01, 0x01, 0x24, 0x02);
	r[VRTC_CENTURY] = 0x19; /* 1924 */
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), VRTC_CENTURY, &t), BH_EINVAL);
	/* dumps too short, century register out of the dump or on a clock register */
	assert_int_equal(vrtc_decode_cmos(r, 11, 0, &t), BH_EINVAL);
	assert_int_equal(vrtc_decode_cmos(r, 0x30, VRTC_CENTURY, &t), BH_EINVAL);
	assert_int_equal(vrtc_decode_cmos(r, sizeof(r), VRTC_YEAR, &t), BH_EINVAL);
	assert_true(t == 42);
}

/* ---- the virtual RTC -------------------------------------------------------------------- */

static u8 rd(struct vrtc *r, u8 index, u64 ns)
{
	vrtc_write(r, VRTC_PORT_INDEX, index, ns);
	return vrtc_read(r, VRTC_PORT_DATA, ns);
}

static void wr(struct vrtc *r, u8 index, u8 value, u64 ns)
{
	vrtc_write(r, VRTC_PORT_INDEX, index, ns);
	vrtc_write(r, VRTC_PORT_DATA, value, ns);
}

static u8 bcd2bin(u8 v)
{
	return (u8)((v >> 4) * 10 + (v & 0xf));
}

/* arch/x86/kernel/rtc.c mach_get_cmos_time(): wait for UIP clear, read, BCD unless DM. */
static u64 linux_read_time(struct vrtc *r, u64 *ns, u64 step)
{
	u8 sec, min, hour, day, mon, year, century, b;
	struct cal_date d;
	u64 t;

	while (rd(r, VRTC_REG_A, *ns) & VRTC_A_UIP)
		*ns += step;
	sec = rd(r, VRTC_SECONDS, *ns);
	min = rd(r, VRTC_MINUTES, *ns);
	hour = rd(r, VRTC_HOURS, *ns);
	day = rd(r, VRTC_DAY_OF_MONTH, *ns);
	mon = rd(r, VRTC_MONTH, *ns);
	year = rd(r, VRTC_YEAR, *ns);
	century = rd(r, VRTC_CENTURY, *ns);
	b = rd(r, VRTC_REG_B, *ns);
	if (!(b & VRTC_B_DM_BINARY)) {
		sec = bcd2bin(sec);
		min = bcd2bin(min);
		hour = bcd2bin(hour);
		day = bcd2bin(day);
		mon = bcd2bin(mon);
		year = bcd2bin(year);
		century = bcd2bin(century);
	}
	d = (struct cal_date){ century * 100u + year, mon, day, hour, min, sec, 0 };
	assert_int_equal(cal_to_unix(&d, &t), 0);
	return t;
}

static void test_power_on_registers(void **state)
{
	struct vrtc r;
	u64 t = LEAP_DAY_2024 * SEC + 250 * MS;

	(void)state;
	vrtc_init(&r, t);
	assert_int_equal(rd(&r, VRTC_REG_A, t), 0x26);
	assert_int_equal(rd(&r, VRTC_REG_B, t), 0x02);
	assert_int_equal(rd(&r, VRTC_REG_C, t), 0x00);
	assert_int_equal(rd(&r, VRTC_REG_D, t), 0x80);
	assert_int_equal(rd(&r, VRTC_SECONDS, t), 0x30);
	assert_int_equal(rd(&r, VRTC_MINUTES, t), 0x45);
	assert_int_equal(rd(&r, VRTC_HOURS, t), 0x13);
	assert_int_equal(rd(&r, VRTC_DAY_OF_WEEK, t), 5); /* Thursday; 1 = Sunday */
	assert_int_equal(rd(&r, VRTC_DAY_OF_MONTH, t), 0x29);
	assert_int_equal(rd(&r, VRTC_MONTH, t), 0x02);
	assert_int_equal(rd(&r, VRTC_YEAR, t), 0x24);
	assert_int_equal(rd(&r, VRTC_CENTURY, t), 0x20);
	assert_int_equal(rd(&r, VRTC_SECONDS_ALARM, t), 0);
	assert_int_equal(rd(&r, 0x0e, t), 0);
	assert_true(vrtc_time_ns(&r, t) == t);
	assert_false(vrtc_irq_line(&r, t));
	assert_true(vrtc_next_event_ns(&r, t) == VTIME_NEVER);
}

static void test_linux_reads_the_time(void **state)
{
	struct vrtc r;
	u64 t = LEAP_DAY_2024 * SEC + 999900 * 1000ull; /* inside the UIP window */

	(void)state;
	vrtc_init(&r, LEAP_DAY_2024 * SEC);
	assert_true(linux_read_time(&r, &t, 50000) == LEAP_DAY_2024 + 1);
	assert_true(t >= (LEAP_DAY_2024 + 1) * SEC);
	t += 3600 * SEC;
	assert_true(linux_read_time(&r, &t, 50000) == LEAP_DAY_2024 + 1 + 3600);
}

static void test_uip_window(void **state)
{
	struct vrtc r;
	u64 s = (LEAP_DAY_2024 + 1) * SEC;

	(void)state;
	vrtc_init(&r, LEAP_DAY_2024 * SEC);
	assert_false(rd(&r, VRTC_REG_A, s - VRTC_UIP_NS - 1) & VRTC_A_UIP);
	assert_true(rd(&r, VRTC_REG_A, s - VRTC_UIP_NS) & VRTC_A_UIP);
	assert_int_equal(rd(&r, VRTC_SECONDS, s - 1), 0x30);
	assert_true(rd(&r, VRTC_REG_A, s - 1) & VRTC_A_UIP);
	assert_false(rd(&r, VRTC_REG_A, s) & VRTC_A_UIP);
	assert_int_equal(rd(&r, VRTC_SECONDS, s), 0x31);
	/* UIP guarantees at least 244 us: every second, UIP is clear until that point */
	for (u64 k = 2; k < 10; k++) {
		u64 b = (LEAP_DAY_2024 + k) * SEC;

		assert_false(rd(&r, VRTC_REG_A, b - 244 * 1000 - 200) & VRTC_A_UIP);
		assert_true(rd(&r, VRTC_REG_A, b - 244 * 1000) & VRTC_A_UIP);
	}
}

static void check_date(struct vrtc *r, u64 t, u8 cc, u8 yy, u8 mon, u8 day, u8 dow, u8 hh,
		       u8 mm, u8 ss)
{
	assert_int_equal(rd(r, VRTC_CENTURY, t), cc);
	assert_int_equal(rd(r, VRTC_YEAR, t), yy);
	assert_int_equal(rd(r, VRTC_MONTH, t), mon);
	assert_int_equal(rd(r, VRTC_DAY_OF_MONTH, t), day);
	assert_int_equal(rd(r, VRTC_DAY_OF_WEEK, t), dow);
	assert_int_equal(rd(r, VRTC_HOURS, t), hh);
	assert_int_equal(rd(r, VRTC_MINUTES, t), mm);
	assert_int_equal(rd(r, VRTC_SECONDS, t), ss);
}

static void test_clock_crosses_centuries(void **state)
{
	struct vrtc r;

	(void)state;
	vrtc_init(&r, 946684799 * SEC);
	check_date(&r, 946684799 * SEC + 999 * MS, 0x19, 0x99, 0x12, 0x31, 6, 0x23, 0x59, 0x59);
	check_date(&r, 946684800 * SEC, 0x20, 0x00, 0x01, 0x01, 7, 0x00, 0x00, 0x00);
	check_date(&r, 951782400 * SEC, 0x20, 0x00, 0x02, 0x29, 3, 0x00, 0x00, 0x00);
	vrtc_init(&r, 4102444799ull * SEC);
	check_date(&r, 4102444799ull * SEC, 0x20, 0x99, 0x12, 0x31, 5, 0x23, 0x59, 0x59);
	check_date(&r, 4102444800ull * SEC, 0x21, 0x00, 0x01, 0x01, 6, 0x00, 0x00, 0x00);
	check_date(&r, 4107542399ull * SEC, 0x21, 0x00, 0x02, 0x28, 1, 0x23, 0x59, 0x59);
	check_date(&r, 4107542400ull * SEC, 0x21, 0x00, 0x03, 0x01, 2, 0x00, 0x00, 0x00);
}

static void test_binary_and_12_hour_formats(void **state)
{
	struct vrtc r;
	u64 t = LEAP_DAY_2024 * SEC;

	(void)state;
	vrtc_init(&r, t);
	wr(&r, VRTC_REG_B, VRTC_B_24H | VRTC_B_DM_BINARY, t);
	assert_int_equal(rd(&r, VRTC_SECONDS, t), 30);
	assert_int_equal(rd(&r, VRTC_HOURS, t), 13);
	assert_int_equal(rd(&r, VRTC_YEAR, t), 24);
	assert_int_equal(rd(&r, VRTC_CENTURY, t), 20);
	wr(&r, VRTC_REG_B, VRTC_B_DM_BINARY, t); /* binary, 12 hours */
	assert_int_equal(rd(&r, VRTC_HOURS, t), 0x81);
	wr(&r, VRTC_REG_B, 0, t); /* BCD, 12 hours */
	assert_int_equal(rd(&r, VRTC_HOURS, t), 0x81);
	/* midnight is 12 AM, noon 12 PM, 11 PM is 0x91 */
	u64 midnight = (LEAP_DAY_2024 - (13 * 3600 + 45 * 60 + 30) + 86400) * SEC;

	assert_int_equal(rd(&r, VRTC_HOURS, midnight), 0x12);
	assert_int_equal(rd(&r, VRTC_HOURS, midnight + 11 * 3600 * SEC), 0x11);
	assert_int_equal(rd(&r, VRTC_HOURS, midnight + 12 * 3600 * SEC), 0x92);
	assert_int_equal(rd(&r, VRTC_HOURS, midnight + 23 * 3600 * SEC), 0x91);
	wr(&r, VRTC_REG_B, VRTC_B_DM_BINARY, midnight + 23 * 3600 * SEC);
	assert_int_equal(rd(&r, VRTC_HOURS, midnight + 23 * 3600 * SEC), 11 | 0x80);
	assert_int_equal(rd(&r, VRTC_HOURS, midnight + 24 * 3600 * SEC), 12);
}

/* drivers/rtc/rtc-mc146818-lib.c mc146818_set_time(): SET, divider reset, registers in BCD,
 * restore B, restore A. The first update comes 500 ms after the divider is released. */
static void linux_set_time(struct vrtc *r, u64 t, u8 yy, u8 mon, u8 day, u8 hh, u8 mm, u8 ss)
{
	u8 save_control = rd(r, VRTC_REG_B, t), save_freq;

	wr(r, VRTC_REG_B, save_control | VRTC_B_SET, t);
	save_freq = rd(r, VRTC_REG_A, t);
	wr(r, VRTC_REG_A, save_freq | 0x70, t);
	wr(r, VRTC_YEAR, yy, t);
	wr(r, VRTC_MONTH, mon, t);
	wr(r, VRTC_DAY_OF_MONTH, day, t);
	wr(r, VRTC_HOURS, hh, t);
	wr(r, VRTC_MINUTES, mm, t);
	wr(r, VRTC_SECONDS, ss, t);
	wr(r, VRTC_CENTURY, 0x20, t);
	wr(r, VRTC_REG_B, save_control, t);
	wr(r, VRTC_REG_A, save_freq, t);
}

static void test_linux_sets_the_time(void **state)
{
	struct vrtc r;
	u64 t = LEAP_DAY_2024 * SEC + 123 * MS, u;

	(void)state;
	vrtc_init(&r, t);
	linux_set_time(&r, t, 0x24, 0x07, 0x04, 0x09, 0x05, 0x00); /* 2024-07-04 09:05:00 */
	assert_int_equal(rd(&r, VRTC_SECONDS, t), 0x00);
	assert_int_equal(rd(&r, VRTC_SECONDS, t + 500 * MS - 1), 0x00);
	assert_int_equal(rd(&r, VRTC_SECONDS, t + 500 * MS), 0x01);
	check_date(&r, t + 500 * MS, 0x20, 0x24, 0x07, 0x04, 5, 0x09, 0x05, 0x01);
	assert_true(vrtc_time_ns(&r, t + 500 * MS) == 1720083901ull * SEC);
	/* the partition's clock keeps its offset from the real time */
	u = t + 500 * MS + 86400 * SEC;
	assert_true(linux_read_time(&r, &u, 1000) == 1720083901ull + 86400);
}

static void test_set_bit_freezes_the_registers(void **state)
{
	struct vrtc r;
	u64 t = LEAP_DAY_2024 * SEC + 250 * MS;

	(void)state;
	vrtc_init(&r, t);
	wr(&r, VRTC_REG_B, VRTC_B_24H | VRTC_B_SET, t);
	/* held: no update, no UIP */
	assert_int_equal(rd(&r, VRTC_SECONDS, t + 5 * SEC), 0x30);
	assert_false(rd(&r, VRTC_REG_A, t + 6 * SEC - 1000) & VRTC_A_UIP);
	wr(&r, VRTC_SECONDS, 0x00, t + 5 * SEC);
	assert_int_equal(rd(&r, VRTC_SECONDS, t + 7 * SEC), 0x00);
	assert_int_equal(rd(&r, VRTC_REG_C, t + 7 * SEC) & VRTC_C_UF, 0);
	/* SET cleared at t+7.5 s: the divider ran on, the second boundaries stay where they were
	 * (at .0 of the real time) */
	wr(&r, VRTC_REG_B, VRTC_B_24H, t + 7250 * MS);
	assert_int_equal(rd(&r, VRTC_SECONDS, (LEAP_DAY_2024 + 8) * SEC - 1), 0x00);
	assert_int_equal(rd(&r, VRTC_SECONDS, (LEAP_DAY_2024 + 8) * SEC), 0x01);
	assert_int_equal(rd(&r, VRTC_MINUTES, (LEAP_DAY_2024 + 8) * SEC), 0x45);
}

static void test_single_register_write(void **state)
{
	struct vrtc r;
	u64 t = LEAP_DAY_2024 * SEC + 700 * MS;

	(void)state;
	vrtc_init(&r, t);
	wr(&r, VRTC_MINUTES, 0x10, t);
	check_date(&r, t, 0x20, 0x24, 0x02, 0x29, 5, 0x13, 0x10, 0x30);
	assert_int_equal(rd(&r, VRTC_SECONDS, (LEAP_DAY_2024 + 1) * SEC - 1), 0x30);
	assert_int_equal(rd(&r, VRTC_SECONDS, (LEAP_DAY_2024 + 1) * SEC), 0x31);
	/* the year through the century byte */
	wr(&r, VRTC_CENTURY, 0x21, (LEAP_DAY_2024 + 1) * SEC);
	assert_int_equal(rd(&r, VRTC_CENTURY, (LEAP_DAY_2024 + 1) * SEC), 0x21);
	assert_int_equal(rd(&r, VRTC_YEAR, (LEAP_DAY_2024 + 1) * SEC), 0x24);
}

static void test_invalid_writes_are_not_taken(void **state)
{
	struct vrtc r;
	u64 t = LEAP_DAY_2024 * SEC;

	(void)state;
	vrtc_init(&r, t);
	wr(&r, VRTC_MONTH, 0x13, t); /* running: month 13 */
	assert_int_equal(rd(&r, VRTC_MONTH, t), 0x02);
	wr(&r, VRTC_SECONDS, 0x5a, t); /* not BCD */
	assert_int_equal(rd(&r, VRTC_SECONDS, t), 0x30);
	wr(&r, VRTC_CENTURY, 0x25, t); /* 2524: beyond what the clock holds */
	assert_int_equal(rd(&r, VRTC_CENTURY, t), 0x20);
	wr(&r, VRTC_CENTURY, 0x19, t); /* 1924: before 1970 */
	assert_int_equal(rd(&r, VRTC_CENTURY, t), 0x20);
	/* held: February 30th is written, then refused when the clock starts again */
	wr(&r, VRTC_REG_B, VRTC_B_24H | VRTC_B_SET, t);
	wr(&r, VRTC_DAY_OF_MONTH, 0x30, t);
	assert_int_equal(rd(&r, VRTC_DAY_OF_MONTH, t), 0x30);
	wr(&r, VRTC_REG_B, VRTC_B_24H, t + 2 * SEC);
	check_date(&r, t + 2 * SEC, 0x20, 0x24, 0x02, 0x29, 5, 0x13, 0x45, 0x32);
}

static void test_day_of_week(void **state)
{
	struct vrtc r;
	u64 t = LEAP_DAY_2024 * SEC;

	(void)state;
	vrtc_init(&r, t);
	wr(&r, VRTC_DAY_OF_WEEK, 1, t); /* the guest says it is Sunday */
	assert_int_equal(rd(&r, VRTC_DAY_OF_WEEK, t), 1);
	assert_int_equal(rd(&r, VRTC_DAY_OF_WEEK, t + 86400 * SEC), 2);
	assert_int_equal(rd(&r, VRTC_DAY_OF_WEEK, t + 6 * 86400 * SEC), 7);
	assert_int_equal(rd(&r, VRTC_DAY_OF_WEEK, t + 7 * 86400 * SEC), 1);
	wr(&r, VRTC_DAY_OF_WEEK, 9, t + 7 * 86400 * SEC); /* not a day: ignored */
	assert_int_equal(rd(&r, VRTC_DAY_OF_WEEK, t + 7 * 86400 * SEC), 1);
}

static void test_cmos_ram_and_ports(void **state)
{
	struct vrtc r;
	u64 t = LEAP_DAY_2024 * SEC;

	(void)state;
	vrtc_init(&r, t);
	for (u32 i = VRTC_RAM_FIRST; i < VRTC_CMOS_SIZE; i++)
		if (i != VRTC_CENTURY)
			wr(&r, (u8)i, (u8)(i ^ 0xa5), t);
	for (u32 i = VRTC_RAM_FIRST; i < VRTC_CMOS_SIZE; i++)
		if (i != VRTC_CENTURY)
			assert_int_equal(rd(&r, (u8)i, t), i ^ 0xa5);
	/* the NMI mask bit is ignored */
	assert_int_equal(rd(&r, 0x80 | 0x0e, t), 0x0e ^ 0xa5);
	vrtc_write(&r, VRTC_PORT_INDEX, 0x8f, t);
	assert_int_equal(vrtc_read(&r, VRTC_PORT_DATA, t), 0x0f ^ 0xa5);
	/* the index register is write-only; other ports are not ours */
	assert_int_equal(vrtc_read(&r, VRTC_PORT_INDEX, t), 0xff);
	assert_int_equal(vrtc_read(&r, 0x72, t), 0xff);
	vrtc_write(&r, 0x72, 0x00, t);
	/* C and D are read-only */
	wr(&r, VRTC_REG_D, 0x00, t);
	wr(&r, VRTC_REG_C, 0xff, t);
	assert_int_equal(rd(&r, VRTC_REG_D, t), 0x80);
	assert_int_equal(rd(&r, VRTC_REG_C, t), 0x00);
	/* the hypervisor fills RAM, not the clock */
	assert_true(vrtc_cmos_set(&r, 0x34, 0x12));
	assert_int_equal(rd(&r, 0x34, t), 0x12);
	assert_false(vrtc_cmos_set(&r, VRTC_REG_B, 0x00));
	assert_false(vrtc_cmos_set(&r, VRTC_CENTURY, 0x19));
	assert_false(vrtc_cmos_set(&r, 0x80, 0x00));
	assert_int_equal(rd(&r, VRTC_REG_B, t), 0x02);
	/* the alarm bytes are plain storage */
	wr(&r, VRTC_HOURS_ALARM, 0x77, t);
	assert_int_equal(rd(&r, VRTC_HOURS_ALARM, t), 0x77);
}

/* ---- interrupts ------------------------------------------------------------------------- */

static void test_update_interrupt(void **state)
{
	struct vrtc r;
	u64 t = LEAP_DAY_2024 * SEC + 300 * MS, s = (LEAP_DAY_2024 + 1) * SEC;

	(void)state;
	vrtc_init(&r, t);
	wr(&r, VRTC_REG_A, 0x20, t); /* no periodic flag in the way */
	wr(&r, VRTC_REG_B, VRTC_B_24H | VRTC_B_UIE, t);
	assert_true(vrtc_next_event_ns(&r, t) == s);
	assert_false(vrtc_irq_line(&r, s - 1));
	assert_true(vrtc_irq_line(&r, s));
	assert_true(vrtc_next_event_ns(&r, s) == VTIME_NEVER); /* up until C is read */
	assert_int_equal(rd(&r, VRTC_REG_C, s + 10), VRTC_C_IRQF | VRTC_C_UF);
	assert_false(vrtc_irq_line(&r, s + 10));
	assert_int_equal(rd(&r, VRTC_REG_C, s + 20), 0);
	assert_true(vrtc_next_event_ns(&r, s + 20) == s + SEC);
	/* UF is set without UIE too, but raises nothing */
	wr(&r, VRTC_REG_B, VRTC_B_24H, s + 20);
	assert_false(vrtc_irq_line(&r, s + 5 * SEC));
	assert_int_equal(rd(&r, VRTC_REG_C, s + 5 * SEC), VRTC_C_UF);
	/* enabling UIE with UF pending raises the line at once */
	assert_false(vrtc_irq_line(&r, s + 6 * SEC));
	wr(&r, VRTC_REG_B, VRTC_B_24H | VRTC_B_UIE, s + 6 * SEC);
	assert_true(vrtc_irq_line(&r, s + 6 * SEC));
	/* SET clears UIE and stops updates */
	rd(&r, VRTC_REG_C, s + 6 * SEC);
	wr(&r, VRTC_REG_B, VRTC_B_24H | VRTC_B_UIE | VRTC_B_SET, s + 6 * SEC);
	assert_int_equal(rd(&r, VRTC_REG_B, s + 6 * SEC), VRTC_B_24H | VRTC_B_SET);
	assert_true(vrtc_next_event_ns(&r, s + 6 * SEC) == VTIME_NEVER);
	assert_int_equal(rd(&r, VRTC_REG_C, s + 9 * SEC), 0);
}

static void test_periodic_interrupt(void **state)
{
	struct vrtc r;
	u64 t = 5 * SEC + 100, next;

	(void)state;
	vrtc_init(&r, t);
	/* rate 6: 1024 Hz, every 32 cycles of 32.768 kHz */
	wr(&r, VRTC_REG_B, VRTC_B_24H | VRTC_B_PIE, t);
	next = vrtc_next_event_ns(&r, t);
	assert_true(next == vtime_ticks_to_ns((vtime_ns_to_ticks(t, 32768) / 32 + 1) * 32, 32768));
	assert_true(next - t <= 976563);
	assert_false(vrtc_irq_line(&r, next - 1));
	assert_true(vrtc_irq_line(&r, next));
	assert_int_equal(rd(&r, VRTC_REG_C, next), VRTC_C_IRQF | VRTC_C_PF);
	/* periods are exact: 1024 in one second */
	u32 n = 0;
	u64 now = next;

	while (now < next + SEC) {
		u64 e = vrtc_next_event_ns(&r, now);

		assert_true(e > now);
		now = e;
		if (now <= next + SEC) {
			assert_true(rd(&r, VRTC_REG_C, now) & VRTC_C_PF);
			n++;
		}
	}
	assert_int_equal(n, 1024);
	/* rate 3 (8192 Hz), rate 15 (2 Hz), rates 1 and 2 (256 and 128 Hz), rate 0 (none) */
	wr(&r, VRTC_REG_A, 0x23, now);
	assert_true(vrtc_next_event_ns(&r, now) - now <= 122071);
	wr(&r, VRTC_REG_A, 0x2f, now);
	assert_true(vrtc_next_event_ns(&r, now) - now <= 500 * MS);
	assert_true(vrtc_next_event_ns(&r, now) - now > 122071);
	wr(&r, VRTC_REG_A, 0x21, now);
	assert_true(vrtc_next_event_ns(&r, now) ==
		    vtime_ticks_to_ns((vtime_ns_to_ticks(now, 32768) / 128 + 1) * 128, 32768));
	wr(&r, VRTC_REG_A, 0x20, now);
	assert_true(vrtc_next_event_ns(&r, now) == VTIME_NEVER);
	assert_int_equal(rd(&r, VRTC_REG_C, now + SEC) & VRTC_C_PF, 0);
	/* the divider held in reset: no periodic flag, no updates */
	wr(&r, VRTC_REG_A, 0x76, now + SEC);
	assert_true(vrtc_next_event_ns(&r, now + SEC) == VTIME_NEVER);
	assert_int_equal(rd(&r, VRTC_REG_C, now + 3 * SEC), 0);
}

static void test_alarm_interrupt(void **state)
{
	struct vrtc r;
	u64 t = LEAP_DAY_2024 * SEC + 100 * MS; /* 13:45:30.1 */
	u64 at_1346 = (LEAP_DAY_2024 + 30) * SEC;

	(void)state;
	vrtc_init(&r, t);
	wr(&r, VRTC_REG_A, 0x20, t); /* no periodic flag in the way */
	wr(&r, VRTC_HOURS_ALARM, 0x13, t);
	wr(&r, VRTC_MINUTES_ALARM, 0x46, t);
	wr(&r, VRTC_SECONDS_ALARM, 0x00, t);
	wr(&r, VRTC_REG_B, VRTC_B_24H | VRTC_B_AIE, t);
	assert_true(vrtc_next_event_ns(&r, t) == at_1346);
	assert_false(vrtc_irq_line(&r, at_1346 - 1));
	rd(&r, VRTC_REG_C, at_1346 - 1); /* UF of earlier seconds, no AF */
	assert_true(vrtc_irq_line(&r, at_1346));
	assert_int_equal(rd(&r, VRTC_REG_C, at_1346), VRTC_C_IRQF | VRTC_C_AF | VRTC_C_UF);
	/* the same time tomorrow */
	assert_true(vrtc_next_event_ns(&r, at_1346) == at_1346 + 86400 * SEC);
	/* passing it without a look still sets AF */
	assert_int_equal(rd(&r, VRTC_REG_C, at_1346 + 3 * 86400 * SEC) & VRTC_C_AF, VRTC_C_AF);
	/* don't-care hours and minutes: at second 00 of every minute */
	u64 now = at_1346 + 3 * 86400 * SEC + 10 * SEC;

	wr(&r, VRTC_HOURS_ALARM, 0xc0, now);
	wr(&r, VRTC_MINUTES_ALARM, 0xff, now);
	assert_true(vrtc_next_event_ns(&r, now) == at_1346 + 3 * 86400 * SEC + 60 * SEC);
	/* everything don't-care: every second */
	wr(&r, VRTC_SECONDS_ALARM, 0xc0, now);
	assert_true(vrtc_next_event_ns(&r, now) == at_1346 + 3 * 86400 * SEC + 11 * SEC);
	/* an alarm that cannot match */
	wr(&r, VRTC_SECONDS_ALARM, 0x61, now);
	assert_true(vrtc_next_event_ns(&r, now) == VTIME_NEVER);
	/* 12-hour alarm: 1 PM */
	wr(&r, VRTC_REG_B, VRTC_B_AIE, now);
	wr(&r, VRTC_HOURS_ALARM, 0x81, now);
	wr(&r, VRTC_MINUTES_ALARM, 0x46, now);
	wr(&r, VRTC_SECONDS_ALARM, 0x00, now);
	assert_true(vrtc_next_event_ns(&r, now) == at_1346 + 4 * 86400 * SEC);
	/* an alarm later the same day: 23:59:59 */
	wr(&r, VRTC_REG_B, VRTC_B_24H | VRTC_B_AIE, now);
	wr(&r, VRTC_HOURS_ALARM, 0x23, now);
	wr(&r, VRTC_MINUTES_ALARM, 0x59, now);
	wr(&r, VRTC_SECONDS_ALARM, 0x59, now);
	assert_true(vrtc_next_event_ns(&r, now) ==
		    now - 10 * SEC + (10 * 3600 + 13 * 60 + 59) * SEC);
}

static void test_time_never_runs_back(void **state)
{
	struct vrtc r;
	u64 t = LEAP_DAY_2024 * SEC;

	(void)state;
	vrtc_init(&r, t);
	assert_int_equal(rd(&r, VRTC_SECONDS, t + 5 * SEC), 0x35);
	assert_int_equal(rd(&r, VRTC_SECONDS, t + 2 * SEC), 0x35);
	assert_int_equal(rd(&r, VRTC_SECONDS, 0), 0x35);
	assert_true(vrtc_time_ns(&r, t) == t + 5 * SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calendar_known_dates),
		cmocka_unit_test(test_calendar_leap_years),
		cmocka_unit_test(test_calendar_every_day),
		cmocka_unit_test(test_calendar_rejects_invalid),
		cmocka_unit_test(test_decode_cmos),
		cmocka_unit_test(test_decode_cmos_century_pivot),
		cmocka_unit_test(test_decode_cmos_rejects),
		cmocka_unit_test(test_power_on_registers),
		cmocka_unit_test(test_linux_reads_the_time),
		cmocka_unit_test(test_uip_window),
		cmocka_unit_test(test_clock_crosses_centuries),
		cmocka_unit_test(test_binary_and_12_hour_formats),
		cmocka_unit_test(test_linux_sets_the_time),
		cmocka_unit_test(test_set_bit_freezes_the_registers),
		cmocka_unit_test(test_single_register_write),
		cmocka_unit_test(test_invalid_writes_are_not_taken),
		cmocka_unit_test(test_day_of_week),
		cmocka_unit_test(test_cmos_ram_and_ports),
		cmocka_unit_test(test_update_interrupt),
		cmocka_unit_test(test_periodic_interrupt),
		cmocka_unit_test(test_alarm_interrupt),
		cmocka_unit_test(test_time_never_runs_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
