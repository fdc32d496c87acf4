/* The machine's CMOS/RTC registers (ports 0x70/0x71), read once at boot for the date. */
#ifndef BH_DRIVERS_CMOS_H
#define BH_DRIVERS_CMOS_H

#include "types.h"

#define CMOS_CLOCK_REGS 0x40

/* Registers 0..CMOS_CLOCK_REGS-1 into regs, outside an RTC update (read until two reads
 * agree). False if the clock never settled. */
bool cmos_read_clock(u8 regs[CMOS_CLOCK_REGS]);

#endif
