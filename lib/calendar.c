/* Unix time <-> calendar date.
 *
 * Days are counted from 1601-01-01, the first day of a 400-year Gregorian cycle: such a cycle
 * has 146097 days and splits into four centuries of 36524 days (the last one has 36525: its
 * final year is divisible by 400), each century into 4-year groups of 1461 days (the last group
 * of an ordinary century has 1460) and each group into years of 365 days (the last has 366).
 * Dividing the day number by these lengths in turn gives the year with no loop over years. */
#include "lib/calendar.h"
#include "lib/error.h"

#define DAYS_400Y 146097u
#define DAYS_100Y 36524u
#define DAYS_4Y 1461u
#define DAYS_1Y 365u
#define EPOCH_YEAR 1601u
#define DAYS_1601_TO_1970 134774u

static const u16 days_before_month[2][13] = {
	{ 0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 },
	{ 0, 0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335 },
};

bool cal_is_leap(u32 year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

u32 cal_days_in_month(u32 year, u32 month)
{
	static const u8 days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (month < 1 || month > 12)
		return 0;
	return days[month - 1] + (month == 2 && cal_is_leap(year) ? 1u : 0u);
}

/* Days from 1601-01-01 to January 1st of `year` (>= 1601). */
static u64 days_before_year(u32 year)
{
	u64 n = year - EPOCH_YEAR;

	return n * DAYS_1Y + n / 4 - n / 100 + n / 400;
}

u32 cal_weekday(u64 secs)
{
	return (u32)((secs / CAL_SECS_PER_DAY + 4) % 7); /* 1970-01-01 was a Thursday */
}

int cal_from_unix(u64 secs, struct cal_date *d)
{
	u64 days, rest;
	u32 q400, q100, q4, q1, yday, leap, m;

	if (secs > CAL_UNIX_MAX)
		return BH_ERANGE;
	days = secs / CAL_SECS_PER_DAY + DAYS_1601_TO_1970;
	rest = secs % CAL_SECS_PER_DAY;

	q400 = (u32)(days / DAYS_400Y);
	days %= DAYS_400Y;
	q100 = (u32)(days / DAYS_100Y);
	if (q100 == 4)
		q100 = 3; /* the 400th year's December 31st */
	days -= (u64)q100 * DAYS_100Y;
	q4 = (u32)(days / DAYS_4Y);
	days %= DAYS_4Y;
	q1 = (u32)(days / DAYS_1Y);
	if (q1 == 4)
		q1 = 3; /* a leap year's December 31st */
	yday = (u32)(days - (u64)q1 * DAYS_1Y);

	d->year = EPOCH_YEAR + 400 * q400 + 100 * q100 + 4 * q4 + q1;
	leap = cal_is_leap(d->year);
	for (m = 12; days_before_month[leap][m] > yday; m--)
		;
	d->month = (u8)m;
	d->day = (u8)(yday - days_before_month[leap][m] + 1);
	d->hour = (u8)(rest / 3600);
	d->minute = (u8)(rest / 60 % 60);
	d->second = (u8)(rest % 60);
	d->weekday = (u8)cal_weekday(secs);
	return 0;
}

int cal_to_unix(const struct cal_date *d, u64 *secs)
{
	u64 days;

	if (d->year < CAL_YEAR_MIN || d->year > CAL_YEAR_MAX || d->month < 1 || d->month > 12 ||
	    d->day < 1 || d->day > cal_days_in_month(d->year, d->month) || d->hour > 23 ||
	    d->minute > 59 || d->second > 59)
		return BH_EINVAL;
	days = days_before_year(d->year) - DAYS_1601_TO_1970 +
	       days_before_month[cal_is_leap(d->year)][d->month] + d->day - 1;
	*secs = days * CAL_SECS_PER_DAY + d->hour * 3600u + d->minute * 60u + d->second;
	return 0;
}
