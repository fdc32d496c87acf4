/* State the hypervisor core shares between its parts. */
#ifndef BH_HV_HV_H
#define BH_HV_HV_H

#include "types.h"

#ifndef BULKHEAD_VERSION
#define BULKHEAD_VERSION "0.1.0"
#endif

struct pmm;
struct config;
struct acpi_info;
struct boot_info;

extern struct pmm hv_pmm;
extern struct config hv_config;
extern struct acpi_info hv_acpi;

/* Boot-time allocation of hypervisor memory (zeroed). Running out of memory while booting is
 * fatal: the hypervisor cannot keep its promises without its tables. */
void *hv_alloc(u64 size, u64 align, u64 limit);

/* Wall-clock time (Unix, ns) from the machine's RTC at boot plus the TSC since. */
u64 hv_unix_time_ns(void);

/* A boot step failed and the hypervisor cannot continue: logged, then this CPU stops. */
NORETURN void hv_panic(const char *fmt, ...) PRINTF_LIKE(1, 2);

#endif
