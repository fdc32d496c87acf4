/* A virtual 8254 PIT and port 0x61, computed from the time given with each call.
 *
 * Each channel keeps its counting state as of one PIT tick (`anchor`) and is brought forward
 * to the current tick before any access: closed formulas give the counter, OUT and the number
 * of rising edges of OUT after any number of clock pulses, so an hour without an access costs
 * the same as one tick. Advancing by q pulses at once gives exactly what q single steps give
 * (the unit tests check this for every mode).
 *
 * Timing follows the 8254 data sheet: a count written to a channel is loaded into the counter
 * on the next clock pulse (that pulse does not count), so in mode 0 OUT rises N + 1 pulses after
 * a count N is written; in mode 4 OUT strobes low on pulse N + 1 and rises again on N + 2; modes
 * 2 and 3 reload every N pulses, OUT rising at each reload. A clock pulse happens at each whole
 * tick of floor(now_ns * 1193182 / 1e9).
 *
 * Simplifications, none visible to a correct program: before the first count is loaded the
 * counter reads what it held before (the chip's value is undefined); in mode 3 with an odd count
 * the counter reads N-1, N-3, ... 0 during the high half and N-1, ... 2 during the low half. */
#include "hv/vpit.h"
#include "hv/vtime.h"
#include "lib/string.h"

#define CW_SC(v) (((v) >> 6) & 3)
#define CW_RW(v) (((v) >> 4) & 3)
#define CW_MODE(v) (((v) >> 1) & 7)
#define CW_BCD 0x01
#define CW_READBACK 3
#define RB_NO_COUNT 0x20 /* read-back: bit 5 clear latches the count */
#define RB_NO_STATUS 0x10 /* read-back: bit 4 clear latches the status */

#define ST_OUT 0x80
#define ST_NULL 0x40

#define REFRESH_TICKS 18 /* port 0x61 bit 4 toggles every 18 PIT ticks (~15.1 us) */
/* Any rising edge of OUT comes within this many pulses of the anchor, or never: a load pulse,
 * the rest of a period of at most 65536, a new period of at most 65536, a strobe pulse. */
#define EDGE_HORIZON (2 * 65536ull + 4)

static u32 modulus(const struct vpit_channel *c)
{
	return c->bcd ? 10000 : 65536;
}

static void add_edges(u32 *edges, u64 n)
{
	u64 sum = (u64)*edges + n;

	*edges = sum > UINT32_MAX ? UINT32_MAX : (u32)sum;
}

/* The count register from the bytes written: 0 stands for the largest count. */
static u32 decode_count(const struct vpit_channel *c, u16 raw)
{
	u32 v = raw;

	if (c->bcd) {
		/* Digits above 9 are undefined on the chip; they weigh what they read. */
		v = ((raw >> 12) & 0xf) * 1000u + ((raw >> 8) & 0xf) * 100u +
		    ((raw >> 4) & 0xf) * 10u + (raw & 0xf);
		v %= 10000;
	}
	return v ? v : modulus(c);
}

static u16 encode_count(const struct vpit_channel *c, u32 v)
{
	v %= modulus(c);
	if (!c->bcd)
		return (u16)v;
	return (u16)(((v / 1000) << 12) | (((v / 100) % 10) << 8) | (((v / 10) % 10) << 4) |
		     (v % 10));
}

/* ---- modes 2 and 3: the state is the phase within the period ---------------------------- */

static u32 high_half(u32 period)
{
	return (period + 1) / 2; /* mode 3: OUT is high for ceil(N/2) pulses, low for floor(N/2) */
}

static bool periodic_out(const struct vpit_channel *c)
{
	if (c->mode == 2)
		return c->phase != c->period - 1; /* low for the one pulse at count 1 */
	return c->phase < high_half(c->period);
}

static u32 periodic_ce(const struct vpit_channel *c)
{
	u32 k;

	if (c->mode == 2)
		return c->period - c->phase;
	/* mode 3 counts down by two in each half */
	k = c->phase < high_half(c->period) ? c->phase : c->phase - high_half(c->period);
	return (c->period & 1) ? c->period - 1 - 2 * k : c->period - 2 * k;
}

/* The counter as read now (before encoding), 0..modulus-1. */
static u32 current_ce(const struct vpit_channel *c)
{
	if (c->state == VPIT_RUN && (c->mode == 2 || c->mode == 3))
		return periodic_ce(c) % modulus(c);
	return c->ce % modulus(c);
}

/* q pulses within periods of a fixed length: each wrap to phase 0 is a rising edge, except
 * with a period of 1 (mode 2: OUT always low; mode 3: always high). */
static void periodic_steps(struct vpit_channel *c, u64 q, u32 *edges)
{
	u64 total = (u64)c->phase + q;

	if (c->period >= 2)
		add_edges(edges, total / c->period);
	c->phase = (u32)(total % c->period);
	c->out = periodic_out(c);
}

static void periodic_run(struct vpit_channel *c, u64 q, u32 *edges)
{
	if (c->reload) {
		/* A new count takes over at the end of the period (mode 2) or of the current half
		 * period (mode 3). */
		bool in_high = c->mode == 3 && c->phase < high_half(c->period);
		u64 rest = in_high ? high_half(c->period) - c->phase : c->period - c->phase;
		bool was;

		if (q < rest) {
			periodic_steps(c, q, edges);
			return;
		}
		periodic_steps(c, rest, edges);
		q -= rest;
		c->period = c->n;
		c->reload = false;
		c->null_count = false;
		was = c->out;
		c->phase = in_high ? high_half(c->period) : 0;
		c->out = periodic_out(c);
		if (!was && c->out)
			add_edges(edges, 1);
	}
	if (q)
		periodic_steps(c, q, edges);
}

/* ---- modes 0, 1, 4, 5: the state is the counting element ------------------------------- */

static u32 ce_minus(const struct vpit_channel *c, u64 q)
{
	u32 m = modulus(c);

	return (u32)((c->ce + m - q % m) % m);
}

/* Modes 0 and 1: OUT rises when the counter reaches 0 and stays high; counting goes on. */
static void terminal_run(struct vpit_channel *c, u64 q, u32 *edges)
{
	u64 to_zero = c->ce ? c->ce : modulus(c);

	if (!c->out && q >= to_zero) {
		c->out = true;
		add_edges(edges, 1);
	}
	c->ce = ce_minus(c, q);
}

/* Modes 4 and 5: OUT strobes low for the one pulse at which the counter reaches 0, once. */
static void strobe_run(struct vpit_channel *c, u64 q, u32 *edges)
{
	u64 to_zero = c->ce ? c->ce : modulus(c);

	if (!c->out) {
		c->out = true; /* the strobe pulse ends */
		c->done = true;
		add_edges(edges, 1);
	} else if (!c->done) {
		if (q == to_zero) {
			c->out = false;
		} else if (q > to_zero) {
			c->done = true;
			add_edges(edges, 1);
		}
	}
	c->ce = ce_minus(c, q);
}

/* ---- the channel state machine ---------------------------------------------------------- */

/* The clock pulse that moves the count register into the counter. */
static void load(struct vpit_channel *c, u32 *edges)
{
	bool was = c->out;

	c->state = VPIT_RUN;
	c->null_count = false;
	c->reload = false;
	switch (c->mode) {
	case 0:
		c->ce = c->n % modulus(c); /* OUT went low when the count was written */
		break;
	case 1:
		c->ce = c->n % modulus(c);
		c->out = false;
		break;
	case 2:
	case 3:
		c->period = c->n;
		c->phase = 0;
		c->out = periodic_out(c);
		break;
	default: /* 4, 5 */
		c->ce = c->n % modulus(c);
		c->done = false;
		c->out = true;
		break;
	}
	if (!was && c->out)
		add_edges(edges, 1);
}

static void advance(struct vpit_channel *c, u64 to, u32 *edges)
{
	u64 q;

	if (to <= c->anchor)
		return;
	q = to - c->anchor;
	c->anchor = to;
	if (c->state == VPIT_LOAD) {
		load(c, edges);
		q--;
	}
	if (c->state != VPIT_RUN || !q)
		return;
	switch (c->mode) {
	case 0:
		if (c->gate)
			terminal_run(c, q, edges);
		break;
	case 1:
		terminal_run(c, q, edges); /* the gate only triggers */
		break;
	case 2:
	case 3:
		periodic_run(c, q, edges); /* running implies the gate is high */
		break;
	case 4:
		if (c->gate)
			strobe_run(c, q, edges);
		break;
	default: /* 5 */
		strobe_run(c, q, edges);
		break;
	}
}

/* Stops counting, keeping the counter's value. */
static void stop(struct vpit_channel *c)
{
	c->ce = current_ce(c);
	c->state = VPIT_IDLE;
	c->reload = false;
}

static void set_out(struct vpit_channel *c, bool level, u32 *edges)
{
	if (!c->out && level)
		add_edges(edges, 1);
	c->out = level;
}

static void set_gate(struct vpit_channel *c, bool level, u32 *edges)
{
	if (level == c->gate)
		return;
	c->gate = level;
	switch (c->mode) {
	case 1:
	case 5:
		if (level && c->n_written)
			c->state = VPIT_LOAD; /* trigger (or retrigger) */
		break;
	case 2:
	case 3:
		if (!level) {
			if (c->state != VPIT_IDLE)
				stop(c);
			set_out(c, true, edges); /* gate low forces OUT high at once */
		} else if (c->n_written) {
			c->state = VPIT_LOAD; /* the rising gate restarts the period */
		}
		break;
	default: /* modes 0 and 4: the gate enables counting, nothing else */
		break;
	}
}

static void control_word(struct vpit_channel *c, u8 value, u32 *edges)
{
	stop(c);
	c->mode_bits = CW_MODE(value);
	c->mode = c->mode_bits > 5 ? (u8)(c->mode_bits - 4) : c->mode_bits;
	c->rw = CW_RW(value);
	c->bcd = value & CW_BCD;
	c->ce %= modulus(c);
	c->n_written = false;
	c->null_count = true;
	c->done = false;
	c->wr_msb = false;
	c->rd_msb = false;
	c->count_latched = false;
	c->status_latched = false;
	set_out(c, c->mode != 0, edges); /* mode 0 starts low, every other mode high */
}

static void count_written(struct vpit_channel *c, u16 raw, u32 *edges)
{
	c->n = decode_count(c, raw);
	c->n_written = true;
	c->null_count = true;
	switch (c->mode) {
	case 0:
		set_out(c, false, edges);
		c->state = VPIT_LOAD;
		break;
	case 2:
	case 3:
		if (c->state == VPIT_RUN)
			c->reload = true; /* the current period is not disturbed */
		else if (c->gate)
			c->state = VPIT_LOAD;
		break;
	case 4:
		c->state = VPIT_LOAD; /* software (re)trigger */
		break;
	default: /* modes 1 and 5 wait for a gate trigger */
		break;
	}
}

static void data_write(struct vpit_channel *c, u8 value, u32 *edges)
{
	switch (c->rw) {
	case 1:
		count_written(c, value, edges);
		break;
	case 2:
		count_written(c, (u16)(value << 8), edges);
		break;
	default:
		if (!c->wr_msb) {
			c->wr_lsb = value;
			c->wr_msb = true;
			if (c->mode == 0) {
				/* mode 0: the first byte stops the count and drops OUT at once */
				stop(c);
				set_out(c, false, edges);
			}
			break;
		}
		c->wr_msb = false;
		count_written(c, (u16)(c->wr_lsb | (value << 8)), edges);
		break;
	}
}

static u8 data_read(struct vpit_channel *c)
{
	u16 v;
	u8 b;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	v = c->count_latched ? c->latch : encode_count(c, current_ce(c));
	switch (c->rw) {
	case 1:
		b = (u8)v;
		c->count_latched = false;
		break;
	case 2:
		b = (u8)(v >> 8);
		c->count_latched = false;
		break;
	default:
		if (!c->rd_msb) {
			b = (u8)v;
			c->rd_msb = true;
		} else {
			b = (u8)(v >> 8);
			c->rd_msb = false;
			c->count_latched = false;
		}
		break;
	}
	return b;
}

static void latch_count(struct vpit_channel *c)
{
	if (c->count_latched)
		return; /* a latched count stays until it is read */
	c->latch = encode_count(c, current_ce(c));
	c->count_latched = true;
}

static void latch_status(struct vpit_channel *c)
{
	if (c->status_latched)
		return;
	c->status = (u8)((c->out ? ST_OUT : 0) | (c->null_count ? ST_NULL : 0) | (c->rw << 4) |
			 (c->mode_bits << 1) | (c->bcd ? CW_BCD : 0));
	c->status_latched = true;
}

/* ---- the chip ----------------------------------------------------------------------------- */

static u32 *edge_sink(struct vpit *pit, u32 channel, u32 *scratch)
{
	return channel == 0 ? &pit->irq0_edges : scratch;
}

/* Brings every channel to `now_ns` (or to the latest time seen, if that is later). */
static void sync(struct vpit *pit, u64 now_ns)
{
	u64 t = vtime_ns_to_ticks(now_ns, VPIT_HZ);
	u32 scratch = 0;

	if (t > pit->now)
		pit->now = t;
	for (u32 i = 0; i < 3; i++)
		advance(&pit->ch[i], pit->now, edge_sink(pit, i, &scratch));
}

static void write_control(struct vpit *pit, u8 value)
{
	u32 scratch = 0;

	if (CW_SC(value) == CW_READBACK) {
		for (u32 i = 0; i < 3; i++) {
			if (!(value & (2u << i)))
				continue;
			/* the status is latched first so it reports the state before the count latch */
			if (!(value & RB_NO_STATUS))
				latch_status(&pit->ch[i]);
			if (!(value & RB_NO_COUNT))
				latch_count(&pit->ch[i]);
		}
		return;
	}
	if (CW_RW(value) == 0) {
		latch_count(&pit->ch[CW_SC(value)]);
		return;
	}
	control_word(&pit->ch[CW_SC(value)], value, edge_sink(pit, CW_SC(value), &scratch));
}

void vpit_reset(struct vpit *pit, u64 now_ns)
{
	u64 t = vtime_ns_to_ticks(now_ns, VPIT_HZ);

	memset(pit, 0, sizeof(*pit));
	pit->now = t;
	for (u32 i = 0; i < 3; i++) {
		pit->ch[i].anchor = t;
		pit->ch[i].gate = i != 2; /* channels 0 and 1: tied high; channel 2: port 0x61 */
		pit->ch[i].rw = 3;
	}
	/* what PC firmware leaves */
	write_control(pit, 0x36); /* channel 0, LSB then MSB, mode 3 */
	vpit_write(pit, VPIT_PORT_CH0, 0x00, now_ns);
	vpit_write(pit, VPIT_PORT_CH0, 0x00, now_ns);
	write_control(pit, 0x54); /* channel 1, LSB only, mode 2 */
	vpit_write(pit, VPIT_PORT_CH1, 18, now_ns);
	write_control(pit, 0xb6); /* channel 2, LSB then MSB, mode 3, no count yet */
	pit->irq0_edges = 0;
}

void vpit_init(struct vpit *pit, u64 now_ns)
{
	vpit_reset(pit, now_ns);
}

u8 vpit_read(struct vpit *pit, u16 port, u64 now_ns)
{
	switch (port) {
	case VPIT_PORT_CH0:
	case VPIT_PORT_CH1:
	case VPIT_PORT_CH2:
		sync(pit, now_ns);
		return data_read(&pit->ch[port - VPIT_PORT_CH0]);
	case VPIT_PORT_B:
		sync(pit, now_ns);
		return (u8)((pit->port_b & 0x0f) |
			    (((pit->now / REFRESH_TICKS) & 1) ? VPIT_PORTB_REFRESH : 0) |
			    (pit->ch[2].out ? VPIT_PORTB_OUT2 : 0));
	default: /* 0x43 is write-only */
		return 0xff;
	}
}

void vpit_write(struct vpit *pit, u16 port, u8 value, u64 now_ns)
{
	u32 scratch = 0;

	switch (port) {
	case VPIT_PORT_CH0:
	case VPIT_PORT_CH1:
	case VPIT_PORT_CH2:
		sync(pit, now_ns);
		data_write(&pit->ch[port - VPIT_PORT_CH0], value,
			   edge_sink(pit, port - VPIT_PORT_CH0, &scratch));
		break;
	case VPIT_PORT_CTRL:
		sync(pit, now_ns);
		write_control(pit, value);
		break;
	case VPIT_PORT_B:
		sync(pit, now_ns);
		pit->port_b = value & 0x0f; /* bits 4-7 are read-only */
		set_gate(&pit->ch[2], value & VPIT_PORTB_GATE2, &scratch);
		break;
	default:
		break;
	}
}

u32 vpit_irq0_take(struct vpit *pit, u64 now_ns)
{
	u32 n;

	sync(pit, now_ns);
	n = pit->irq0_edges;
	pit->irq0_edges = 0;
	return n;
}

u64 vpit_irq0_next_ns(struct vpit *pit, u64 now_ns)
{
	struct vpit_channel probe;
	u64 lo = 1, hi = EDGE_HORIZON;
	u32 edges = 0;

	sync(pit, now_ns);
	if (pit->irq0_edges)
		return now_ns;
	/* The first pulse count after which OUT0 has risen: the edge count is monotonic in the
	 * number of pulses, so a binary search over the same state machine finds it. */
	probe = pit->ch[0];
	advance(&probe, probe.anchor + hi, &edges);
	if (!edges)
		return VTIME_NEVER;
	while (lo < hi) {
		u64 mid = lo + (hi - lo) / 2;

		probe = pit->ch[0];
		edges = 0;
		advance(&probe, probe.anchor + mid, &edges);
		if (edges)
			hi = mid;
		else
			lo = mid + 1;
	}
	return vtime_ticks_to_ns(pit->ch[0].anchor + lo, VPIT_HZ);
}

bool vpit_out(struct vpit *pit, u32 channel, u64 now_ns)
{
	if (channel > 2)
		return false;
	sync(pit, now_ns);
	return pit->ch[channel].out;
}
