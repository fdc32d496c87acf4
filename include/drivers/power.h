/* Machine power-off (ACPI S5) and reset (FADT reset register, then the legacy fallbacks). */
#ifndef BH_DRIVERS_POWER_H
#define BH_DRIVERS_POWER_H

#include "types.h"

struct acpi_info;

void power_init(const struct acpi_info *acpi);
/* Returns only if every method failed (the caller then parks the CPU). */
void power_off(void);
void power_reset(void);

#endif
