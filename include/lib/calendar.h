/* Unix time <-> calendar date and time (UTC, proleptic Gregorian, no leap seconds), for the
 * years 1970 to 9999. Pure functions. */
#ifndef BH_LIB_CALENDAR_H
#define BH_LIB_CALENDAR_H

#include "types.h"

#define CAL_YEAR_MIN 1970
#define CAL_YEAR_MAX 9999
#define CAL_UNIX_MAX 253402300799ull /* 9999-12-31 23:59:59 */
#define CAL_SECS_PER_DAY 86400u

struct cal_date {
	u32 year;   /* 1970..9999 */
	u8 month;   /* 1..12 */
	u8 day;     /* 1..31 */
	u8 hour;    /* 0..23 */
	u8 minute;  /* 0..59 */
	u8 second;  /* 0..59 */
	u8 weekday; /* 0 = Sunday .. 6 = Saturday; set by cal_from_unix, ignored by cal_to_unix */
};

bool cal_is_leap(u32 year);
/* Days in a month (1..12) of a year; 0 for a month out of range. */
u32 cal_days_in_month(u32 year, u32 month);
/* 0, or BH_ERANGE beyond CAL_UNIX_MAX. */
int cal_from_unix(u64 secs, struct cal_date *d);
/* 0, or BH_EINVAL if a field is out of range (a 30th of February, an hour 24, a year before
 * 1970 or after 9999). */
int cal_to_unix(const struct cal_date *d, u64 *secs);
/* Day of the week (0 = Sunday) of a Unix time. */
u32 cal_weekday(u64 secs);

#endif
