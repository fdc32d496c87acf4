/* A virtual Intel 8254 programmable interval timer (ports 0x40-0x43) and the PC's port B
 * (0x61: channel 2 gate, speaker enable, OUT2 and refresh read-back). Pure device model: the
 * time comes in with every call (`now_ns`, see hv/vtime.h) and the counters are computed from
 * it at 1.193182 MHz, exactly: no timer runs, nothing drifts. All six counter modes, binary
 * and BCD counting, LSB/MSB/both access, the counter latch and read-back commands, the gate
 * inputs (channel 2's from port 0x61; channels 0 and 1 are tied high).
 *
 * Channel 0's OUT is ISA IRQ 0. The model never raises it: it counts the rising edges of OUT0
 * (vpit_irq0_take) and says when the next one is due (vpit_irq0_next_ns), so that the caller
 * can arm a timer and raise the interrupt (through the vIOAPIC, GSI 2) when it fires. */
#ifndef BH_HV_VPIT_H
#define BH_HV_VPIT_H

#include "types.h"

#define VPIT_HZ 1193182ull
#define VPIT_PORT_CH0 0x40
#define VPIT_PORT_CH1 0x41
#define VPIT_PORT_CH2 0x42
#define VPIT_PORT_CTRL 0x43
#define VPIT_PORT_B 0x61
#define VPIT_IRQ 0 /* ISA IRQ of channel 0 (GSI 2 on an IOAPIC, through an override) */

/* Port B (0x61) bits */
#define VPIT_PORTB_GATE2 0x01   /* channel 2 gate (read/write) */
#define VPIT_PORTB_SPEAKER 0x02 /* speaker data enable (read/write, no sound is made) */
#define VPIT_PORTB_REFRESH 0x10 /* toggles about every 15 us (read-only) */
#define VPIT_PORTB_OUT2 0x20    /* channel 2 OUT (read-only) */

enum vpit_state {
	VPIT_IDLE, /* not counting: no count since the control word, gate off (modes 2, 3) or
		      waiting for a gate trigger (modes 1, 5) */
	VPIT_LOAD, /* the count register is loaded into the counter at the next clock pulse */
	VPIT_RUN,  /* counting */
};

struct vpit_channel {
	/* programming */
	u8 mode;       /* behaviour, 0-5 (6 and 7 behave as 2 and 3) */
	u8 mode_bits;  /* control word bits 3-1 as written (status byte) */
	u8 rw;         /* 1 LSB only, 2 MSB only, 3 LSB then MSB */
	bool bcd;
	bool gate;
	u32 n;         /* the count register, decoded: 1..65536 (1..10000 in BCD) */
	bool n_written; /* a complete count was written after the control word */

	/* counting state at PIT tick `anchor` */
	u64 anchor;
	u8 state;      /* enum vpit_state */
	u32 ce;        /* counting element 0..65535 (modes 0, 1, 4, 5; any mode while idle) */
	u32 period;    /* modes 2, 3: the count in use */
	u32 phase;     /* modes 2, 3: clock pulses since the current period began */
	bool reload;   /* modes 2, 3: `n` replaces `period` at the end of the (half) period */
	bool out;
	bool done;     /* modes 4, 5: the strobe was given for this count */
	bool null_count;

	/* bus interface */
	bool wr_msb;   /* LSB then MSB: the next write is the MSB */
	u8 wr_lsb;
	bool rd_msb;   /* LSB then MSB: the next read is the MSB */
	bool count_latched;
	u16 latch;
	bool status_latched;
	u8 status;
};

struct vpit {
	struct vpit_channel ch[3];
	u64 now;        /* latest PIT tick seen (time never runs back) */
	u8 port_b;      /* port 0x61 bits 0-3 as written */
	u32 irq0_edges; /* rising edges of OUT0 not yet taken (saturates) */
};

/* Power-on state, as PC firmware leaves the timer: channel 0 in mode 3 with count 65536
 * (18.2 Hz), channel 1 in mode 2 with count 18 (memory refresh), channel 2 programmed for
 * mode 3 without a count, its gate and the speaker off. */
void vpit_init(struct vpit *pit, u64 now_ns);
void vpit_reset(struct vpit *pit, u64 now_ns);

/* One byte access to port 0x40-0x43 or 0x61. Other ports read 0xff; writes are ignored.
 * Port 0x43 (the control word) is write-only and reads 0xff. */
u8 vpit_read(struct vpit *pit, u16 port, u64 now_ns);
void vpit_write(struct vpit *pit, u16 port, u8 value, u64 now_ns);

/* Rising edges of channel 0's OUT up to `now_ns` since the last call (0 if none): the caller
 * raises IRQ 0 once if this is not 0 (it is an edge-triggered interrupt: several coalesce). */
u32 vpit_irq0_take(struct vpit *pit, u64 now_ns);
/* The time of the next rising edge of OUT0 at or after `now_ns` (now_ns itself when edges are
 * waiting to be taken), or VTIME_NEVER when none will come unless the guest reprograms the
 * channel. A guest access can move it: ask again after every access. */
u64 vpit_irq0_next_ns(struct vpit *pit, u64 now_ns);

/* The OUT pin of a channel (0-2) at `now_ns`. */
bool vpit_out(struct vpit *pit, u32 channel, u64 now_ns);

#endif
