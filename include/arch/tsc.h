/* The TSC as the hypervisor's clock. */
#ifndef BH_ARCH_TSC_H
#define BH_ARCH_TSC_H

#include "types.h"

struct acpi_gas;

/* Boot-time reference: TSC value at firmware hand-over. */
void tsc_set_origin(u64 tsc);
u64 tsc_origin(void);
/* Ticks per second, 0 while unknown. */
u64 tsc_hz(void);

/* Measures the TSC against the PIT (channel 2). Returns 0 or BH_ETIMEDOUT (no PIT). */
int tsc_calibrate_pit(void);
/* Measures the TSC against the ACPI PM timer (3.579545 MHz) at I/O port `port`. */
int tsc_calibrate_pm_timer(u16 port, bool is_32bit);

/* Nanoseconds / microseconds since the origin; 0 before calibration. */
u64 tsc_uptime_us(void);
u64 tsc_uptime_ns(void);
void udelay(u64 us);

#endif
