/* A virtual MC146818 real-time clock and CMOS RAM (ports 0x70/0x71). Pure device model: the real
 * date and time come in with every call as a Unix time in nanoseconds (`unix_ns`: the
 * hypervisor reads the machine's RTC once at boot and adds the TSC time elapsed since), and the
 * partition's clock is that time plus an offset the guest changes by setting the clock.
 *
 * Emulated: seconds to year in BCD or binary (register B DM), 24 or 12 hours (B 24/12, PM in
 * bit 7 of the hours), day of week (1 = Sunday), the century at 0x32 (the FADT's CENTURY field),
 * register A (UIP during the last 244 us before each update; divider and rate bits), B (SET
 * freezes the clock registers for setting them, PIE, AIE, UIE), C (PF, AF, UF, IRQF; cleared by
 * reading) and D (VRT: valid RAM and time), the alarm with don't-care bytes (0xC0-0xFF), the
 * periodic, alarm and update-ended interrupts (IRQ 8, reported as a line level and a next-event
 * time, never raised by the model), 113 bytes of CMOS RAM (0x0e-0x7f but the century). The
 * NMI mask bit of port 0x70 is ignored. Not emulated: daylight saving (DSE is stored, nothing
 * more), the square wave pin, the extended bank (ports 0x72/0x73).
 *
 * Deviations from the chip, harmless to a guest that follows the data sheet: the clock
 * registers always show the time in the current format (changing DM or 24/12 converts them;
 * the chip leaves the bytes as they were), and a set of clock registers that is not a valid
 * date and time between 1970 and 2499 is not taken: the clock keeps running from where it was.
 *
 * Also here, for the hypervisor's own reading of the machine's RTC: vrtc_decode_cmos. */
#ifndef BH_HV_VRTC_H
#define BH_HV_VRTC_H

#include "types.h"

#define VRTC_PORT_INDEX 0x70
#define VRTC_PORT_DATA 0x71
#define VRTC_IRQ 8
#define VRTC_CMOS_SIZE 128

/* Register indexes */
#define VRTC_SECONDS 0x00
#define VRTC_SECONDS_ALARM 0x01
#define VRTC_MINUTES 0x02
#define VRTC_MINUTES_ALARM 0x03
#define VRTC_HOURS 0x04
#define VRTC_HOURS_ALARM 0x05
#define VRTC_DAY_OF_WEEK 0x06
#define VRTC_DAY_OF_MONTH 0x07
#define VRTC_MONTH 0x08
#define VRTC_YEAR 0x09
#define VRTC_REG_A 0x0a
#define VRTC_REG_B 0x0b
#define VRTC_REG_C 0x0c
#define VRTC_REG_D 0x0d
#define VRTC_RAM_FIRST 0x0e
#define VRTC_CENTURY 0x32

#define VRTC_A_UIP 0x80
#define VRTC_A_DV 0x70       /* divider: 0x20 runs (32.768 kHz), 0x60/0x70 hold it in reset */
#define VRTC_A_RS 0x0f       /* periodic rate */
#define VRTC_B_SET 0x80
#define VRTC_B_PIE 0x40
#define VRTC_B_AIE 0x20
#define VRTC_B_UIE 0x10
#define VRTC_B_SQWE 0x08
#define VRTC_B_DM_BINARY 0x04
#define VRTC_B_24H 0x02
#define VRTC_B_DSE 0x01
#define VRTC_C_IRQF 0x80
#define VRTC_C_PF 0x40
#define VRTC_C_AF 0x20
#define VRTC_C_UF 0x10
#define VRTC_D_VRT 0x80

/* The clock reads at most this long before a second begins with UIP set (8 cycles of 32 kHz). */
#define VRTC_UIP_NS 244141ull

struct vrtc {
	u8 cmos[VRTC_CMOS_SIZE]; /* RAM, alarms, A, B; the clock registers only while held */
	u8 index;
	u64 offset_ns; /* partition clock = unix_ns + offset_ns (mod 2^64) */
	u8 flags;      /* register C's PF, AF, UF */
	u64 now;       /* latest unix_ns seen; the flags are brought up to it */
	u8 dow_adjust; /* 0..6 added to the weekday of the date (a guest may set another) */
};

/* Power-on: the clock shows `unix_ns`; A = 0x26 (32.768 kHz, 1024 Hz), B = 0x02 (24 hours,
 * BCD), RAM zero. A partition restart keeps the RTC as it is, as a PC's reboot does. */
void vrtc_init(struct vrtc *rtc, u64 unix_ns);

/* One byte access to port 0x70 (index; reads 0xff) or 0x71 (data). Other ports: 0xff. */
u8 vrtc_read(struct vrtc *rtc, u16 port, u64 unix_ns);
void vrtc_write(struct vrtc *rtc, u16 port, u8 value, u64 unix_ns);

/* The IRQ 8 line (register C's IRQF). */
bool vrtc_irq_line(struct vrtc *rtc, u64 unix_ns);
/* The Unix time (ns) at which the line will rise by itself, or VTIME_NEVER. */
u64 vrtc_next_event_ns(struct vrtc *rtc, u64 unix_ns);
/* The partition's clock (Unix ns) while it runs. */
u64 vrtc_time_ns(struct vrtc *rtc, u64 unix_ns);

/* CMOS RAM (0x0e-0x7f except the century byte) for the hypervisor to fill before boot. */
bool vrtc_cmos_set(struct vrtc *rtc, u8 index, u8 value);

/* The Unix time in a dump of the machine's CMOS registers (regs[i] = register i; at least
 * registers 0x00-0x0b, and the century register if `century_index` is not 0 — from the FADT;
 * without one, years 70-99 are 19xx and 00-69 20xx). BH_EINVAL if the registers do not hold
 * a valid date and time (read them again: an update may have come between the reads). */
int vrtc_decode_cmos(const u8 *regs, size_t len, u8 century_index, u64 *unix_secs);

#endif
