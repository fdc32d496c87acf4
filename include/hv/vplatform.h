/* The virtual PC platform of one partition: vPIT, ACPI PM block and reset paths, vRTC and
 * vIOAPIC behind one entry point per kind of exit. Pure like the devices: the time comes in as
 * `now_ns` (the hypervisor's clock, see hv/vtime.h), and what the hypervisor must do comes
 * back from vplatform_poll: interrupts to deliver (as vIOAPIC messages), power-off and reset
 * requests, and the time by which to call vplatform_poll again.
 *
 * The caller holds the partition's lock around every call (as for the vUART), and calls
 * vplatform_poll after each vplatform_io, vplatform_mmio, vplatform_set_irq, vplatform_eoi and
 * vplatform_power_button, and whenever the deadline it returned has come.
 *
 * Wiring (the MADT must match): PIT channel 0 -> GSI 2 (ISA IRQ 0 overridden to GSI 2), COM1 ->
 * GSI 4, RTC -> GSI 8, SCI -> GSI 9, all edge-triggered active-high except what the guest
 * programs otherwise; the IOAPIC at VIOAPIC_BASE with the ID given to vplatform_init. */
#ifndef BH_HV_VPLATFORM_H
#define BH_HV_VPLATFORM_H

#include "types.h"
#include "hv/vioapic.h"
#include "hv/vpit.h"
#include "hv/vpm.h"
#include "hv/vrtc.h"

#define VPLATFORM_PM_BASE 0x600 /* PM1a_EVT 0x600, PM1a_CNT 0x604, PM_TMR 0x608 */
#define VPLATFORM_PORT_POST 0x80 /* POST codes; Linux's I/O delay (outb_p) writes here */
#define VPLATFORM_PM_TIMER_32BIT true /* the FADT sets TMR_VAL_EXT */

#define VPLATFORM_GSI_PIT 2
#define VPLATFORM_GSI_UART 4
#define VPLATFORM_GSI_RTC 8
#define VPLATFORM_GSI_SCI 9

/* Requests of the guest, for the partition (never for the machine). */
#define VPLATFORM_EV_POWER_OFF (1u << 0) /* ACPI S5: stop the partition */
#define VPLATFORM_EV_RESET (1u << 1)     /* 0xCF9, keyboard controller, ACPI reset: restart it */

struct vplatform_out {
	u32 events;    /* VPLATFORM_EV_* since the last poll */
	u32 msg_count; /* interrupts to deliver, in msgs[] (one per IOAPIC pin at most) */
	struct vioapic_msg msgs[VIOAPIC_PINS];
	u64 deadline_ns; /* call vplatform_poll again by then (now_ns clock); VTIME_NEVER: no need */
};

struct vplatform {
	struct vpit pit;
	struct vpm pm;
	struct vrtc rtc;
	struct vioapic ioapic;
	u64 unix_base_ns; /* Unix time (ns) when now_ns was 0 */
	u32 events;       /* not yet taken by vplatform_poll */
	u32 pending;      /* bit n: msgs[n], from IOAPIC pin n, waits for vplatform_poll */
	struct vioapic_msg msgs[VIOAPIC_PINS];
	bool rtc_line;    /* levels last given to the IOAPIC */
	bool sci_line;
};

/* A partition's first start. `unix_base_ns`: the real time, as a Unix time in ns, at
 * now_ns == 0 (the RTC reading at boot minus the now_ns of that reading). */
void vplatform_init(struct vplatform *p, u8 ioapic_id, u64 unix_base_ns, u64 now_ns);
/* A partition restart: every device back to its power-on state except the RTC, which keeps its
 * time, its setting and its RAM (a PC's reboot does not touch them). Pending interrupts and
 * events are dropped. */
void vplatform_reset(struct vplatform *p, u64 now_ns);

/* A port access of `size` (1, 2 or 4) bytes, `in` or out; *value holds the data (for an IN, it
 * is set, zero-extended). False if the port is not part of the platform (the caller applies its
 * own policy); true if it is, and then the access is done. A wider access to byte-wide devices
 * is split into byte accesses at port, port+1, ... as the ISA bus does; bytes that reach no
 * device read 0xff. Ports: 0x40-0x43 and 0x61 (vPIT), 0x60 and 0x64 (keyboard controller
 * reset), 0x70-0x71 (vRTC), 0x80 (sink), 0xCF9 (reset control; byte accesses only, wider
 * ones belong to PCI configuration), VPLATFORM_PM_BASE..+11 (ACPI PM). */
bool vplatform_io(struct vplatform *p, u16 port, u8 size, bool in, u32 *value, u64 now_ns);
/* An access to guest-physical `gpa`; true if it is the IOAPIC page (and was done). */
bool vplatform_mmio(struct vplatform *p, u64 gpa, u8 size, bool write, u64 *value, u64 now_ns);
/* Another device's interrupt line (the vUART's: GSI 4). */
void vplatform_set_irq(struct vplatform *p, u32 gsi, bool level);
/* The guest signalled EOI for `vector` (level-triggered entries only need it). */
void vplatform_eoi(struct vplatform *p, u8 vector);
/* The hypervisor asks the guest to shut down (ACPI power button). */
void vplatform_power_button(struct vplatform *p, u64 now_ns);

/* Brings the time-driven devices to now_ns and hands over what the caller must do. */
void vplatform_poll(struct vplatform *p, u64 now_ns, struct vplatform_out *out);

/* The partition's RTC clock as a Unix time in ns (for logs and tests). */
u64 vplatform_rtc_unix_ns(struct vplatform *p, u64 now_ns);

#endif
