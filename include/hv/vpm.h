/* Virtual ACPI fixed hardware and the PC's reset paths, as a pure device model: the PM1a event
 * and control blocks, the ACPI PM timer, the reset control register (port 0xCF9) and a keyboard
 * controller that is absent except for its reset line. Nothing here acts: a guest's request to
 * power off or reset comes back to the caller as an event, and the caller stops or restarts
 * that partition.
 *
 * The PM registers sit in one I/O block (the caller chooses its base port; the guest learns it
 * from the FADT). What the generated FADT/DSDT must say to match:
 *   PM1a_EVT_BLK = base + 0, PM1_EVT_LEN = 4     (status word, enable word)
 *   PM1a_CNT_BLK = base + 4, PM1_CNT_LEN = 2
 *   PM_TMR_BLK   = base + 8, PM_TMR_LEN = 4, flag TMR_VAL_EXT if the timer is 32 bits wide
 *   SMI_CMD = 0 (no legacy mode: SCI_EN reads 1 from reset), no PM1b, no PM2, GPE0 optional
 *   RESET_REG = SystemIO 0xCF9, 8 bits, RESET_VALUE = 0x06, flag RESET_REG_SUP
 *   IAPC_BOOT_ARCH without "8042" (no keyboard controller), DSDT \_S5 = Package { 7, 7, 0, 0 }
 *
 * Time comes in with each call (`now_ns`, see hv/vtime.h); the PM timer counts at
 * 3.579545 MHz from time 0 of that clock. */
#ifndef BH_HV_VPM_H
#define BH_HV_VPM_H

#include "types.h"

#define VPM_TIMER_HZ 3579545ull

/* Offsets in the PM block */
#define VPM_PM1_STS 0
#define VPM_PM1_EN 2
#define VPM_PM1_CNT 4
#define VPM_PM_TMR 8
#define VPM_BLOCK_LEN 12
#define VPM_PM1_EVT_LEN 4
#define VPM_PM1_CNT_LEN 2
#define VPM_PM_TMR_LEN 4

/* PM1 status and enable bits */
#define VPM_TMR_STS 0x0001    /* the timer's top bit changed */
#define VPM_BM_STS 0x0010
#define VPM_GBL_STS 0x0020
#define VPM_PWRBTN_STS 0x0100 /* the power button was pressed (vpm_power_button) */
#define VPM_SLPBTN_STS 0x0200
#define VPM_RTC_STS 0x0400
#define VPM_WAK_STS 0x8000
#define VPM_TMR_EN 0x0001
#define VPM_GBL_EN 0x0020
#define VPM_PWRBTN_EN 0x0100
#define VPM_SLPBTN_EN 0x0200
#define VPM_RTC_EN 0x0400

/* PM1 control bits */
#define VPM_SCI_EN 0x0001
#define VPM_BM_RLD 0x0002
#define VPM_GBL_RLS 0x0004    /* write-only */
#define VPM_SLP_TYP_SHIFT 10
#define VPM_SLP_TYP_MASK 0x1c00
#define VPM_SLP_EN 0x2000     /* write-only */
/* The sleep type meaning "soft off" (S5), as on Intel chipsets; no other sleep state exists
 * (the DSDT has no \_S1-\_S4), and a write of SLP_EN with another type does nothing. */
#define VPM_SLP_TYP_S5 7

/* Reset control register (Intel chipsets): bit 1 SYS_RST, bit 2 RST_CPU (writing 1 resets),
 * bit 3 FULL_RST. */
#define VPM_PORT_RESET 0xcf9
#define VPM_RESET_SYS 0x02
#define VPM_RESET_CPU 0x04
#define VPM_RESET_FULL 0x08

/* Keyboard controller ports */
#define VPM_PORT_KBC_DATA 0x60
#define VPM_PORT_KBC_CMD 0x64
/* Status of the absent controller: output buffer full with 0xff in it (Linux's i8042 driver
 * reports "No controller found"), input buffer empty (a driver waiting to send a command,
 * such as Linux's reboot path, does not time out). */
#define VPM_KBC_STATUS 0xfd

enum vpm_event {
	VPM_EV_NONE = 0,
	VPM_EV_POWER_OFF, /* PM1_CNT: SLP_EN with SLP_TYP = S5 */
	VPM_EV_RESET,     /* 0xCF9 with RST_CPU, or a keyboard controller reset pulse */
};

struct vpm {
	bool tmr_32bit;
	u16 sts;       /* latched status bits (TMR_STS is computed from the time) */
	u16 en;
	u16 cnt;       /* SCI_EN, BM_RLD, SLP_TYP */
	u64 tmr_carry; /* carries of the timer's top bit when TMR_STS was last cleared */
	u64 now;       /* latest PM timer tick seen */
	u8 reset_ctl;  /* 0xCF9 bits 1 and 3 */
};

/* `tmr_32bit`: a 32-bit PM timer (FADT TMR_VAL_EXT), else 24 bits. */
void vpm_init(struct vpm *pm, bool tmr_32bit, u64 now_ns);
/* Power-on state (a partition restart): SCI_EN set, everything else clear. */
void vpm_reset(struct vpm *pm, u64 now_ns);

/* An access of `size` (1, 2 or 4) bytes at `offset` in the PM block. Bytes outside the
 * registers (offsets 6-7, 12 and up) read 0xff and ignore writes. The status register is
 * write-one-to-clear; the timer is read-only. */
u32 vpm_read(struct vpm *pm, u16 offset, u8 size, u64 now_ns);
enum vpm_event vpm_write(struct vpm *pm, u16 offset, u8 size, u32 value, u64 now_ns);

/* The PM timer value (24 or 32 bits) at now_ns. */
u32 vpm_timer(struct vpm *pm, u64 now_ns);
/* The SCI line: SCI_EN and an enabled status bit set. */
bool vpm_sci_level(struct vpm *pm, u64 now_ns);
/* When the SCI will next rise by itself (the timer carry, when TMR_EN is set), or VTIME_NEVER. */
u64 vpm_next_event_ns(struct vpm *pm, u64 now_ns);
/* The hypervisor presses the partition's power button (a polite shutdown request). */
void vpm_power_button(struct vpm *pm);

/* Port 0xCF9, one byte. */
u8 vpm_reset_read(struct vpm *pm);
enum vpm_event vpm_reset_write(struct vpm *pm, u8 value);

/* Ports 0x60 and 0x64, one byte: no controller, only its reset line. A command 0xF0-0xFF
 * pulses output port bits 0-3 low for each clear bit 0-3; bit 0 is the CPU reset line, so
 * 0xFE (and every even command in that range) resets. Everything else is ignored. */
u8 vpm_kbc_read(u16 port);
enum vpm_event vpm_kbc_write(u16 port, u8 value);

#endif
