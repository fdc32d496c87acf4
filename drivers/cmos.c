/* CMOS/RTC reading. Only the boot CPU uses it, before any guest runs. */
#include "drivers/cmos.h"
#include "arch/x86.h"
#include "lib/string.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define REG_A 0x0a
#define REG_A_UIP 0x80
#define ATTEMPTS 1000

static u8 cmos_read(u8 reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static bool read_all(u8 *regs)
{
	for (u32 i = 0; i < ATTEMPTS; i++) {
		if (!(cmos_read(REG_A) & REG_A_UIP))
			break;
		cpu_relax();
	}
	for (u8 r = 0; r < CMOS_CLOCK_REGS; r++)
		regs[r] = cmos_read(r);
	return !(regs[REG_A] & REG_A_UIP);
}

bool cmos_read_clock(u8 regs[CMOS_CLOCK_REGS])
{
	u8 again[CMOS_CLOCK_REGS];

	/* An update may fall between two register reads: a reading counts when two in a row
	 * agree on the clock registers (0x00-0x09). */
	for (u32 i = 0; i < ATTEMPTS; i++) {
		if (read_all(regs) && read_all(again) && !memcmp(regs, again, 10))
			return true;
	}
	return false;
}
