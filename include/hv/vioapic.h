/* A virtual Intel 82093AA I/O APIC (version 0x11, 24 pins), as a pure device model. The
 * hypervisor traps the guest-physical page of the IOAPIC and passes each access here (offset in
 * the page, size, value); virtual devices drive its input pins with vioapic_set_irq. Nothing is
 * sent from here: an interrupt to deliver comes back as a struct vioapic_msg (vector,
 * destination, delivery mode), and the caller sends it (as a real IPI with that vector to the
 * guest's own CPU, after checking that the destination belongs to the partition).
 *
 * Emulated: IOREGSEL/IOWIN, the ID (bits 27-24, writable), version (0x00170011) and
 * arbitration registers, 24 redirection entries with vector, delivery mode, destination mode,
 * polarity (stored), trigger mode, mask and destination (bits 63-56, returned as given), remote
 * IRR for level-triggered entries, cleared by vioapic_eoi (or by switching the entry to edge,
 * the way Linux clears a stuck remote IRR on IOAPICs without an EOI register).
 *
 * Semantics of the pins, as on the 82093AA: an edge-triggered pin delivers on each rising edge
 * of its input while unmasked; an edge while masked is lost. A level-triggered pin delivers
 * while its input is asserted, it is unmasked and its remote IRR is clear; delivery sets remote
 * IRR, and the EOI for its vector clears it (delivering again if the input is still asserted).
 * NMI, INIT, SMI and ExtINT entries are always treated as edge-triggered. The input level is
 * the logical "asserted" state: the polarity bit is stored for the guest, not applied (the
 * caller and the MADT agree on each line's polarity). Delivery status always reads 0: a message
 * is handed to the caller at once. */
#ifndef BH_HV_VIOAPIC_H
#define BH_HV_VIOAPIC_H

#include "types.h"

#define VIOAPIC_BASE 0xfec00000ull
#define VIOAPIC_MMIO_SIZE 0x1000
#define VIOAPIC_PINS 24
#define VIOAPIC_VERSION 0x11

/* MMIO offsets and indirect registers */
#define VIOAPIC_IOREGSEL 0x00
#define VIOAPIC_IOWIN 0x10
#define VIOAPIC_REG_ID 0x00
#define VIOAPIC_REG_VER 0x01
#define VIOAPIC_REG_ARB 0x02
#define VIOAPIC_REG_REDTBL 0x10 /* entry n: 0x10 + 2n (low dword), 0x11 + 2n (high dword) */

/* Redirection entry bits */
#define VIOAPIC_RTE_VECTOR 0xffull
#define VIOAPIC_RTE_DELMOD_SHIFT 8
#define VIOAPIC_RTE_DELMOD (7ull << 8)
#define VIOAPIC_RTE_LOGICAL (1ull << 11)
#define VIOAPIC_RTE_DELIVS (1ull << 12)
#define VIOAPIC_RTE_ACTIVE_LOW (1ull << 13)
#define VIOAPIC_RTE_REMOTE_IRR (1ull << 14)
#define VIOAPIC_RTE_LEVEL (1ull << 15)
#define VIOAPIC_RTE_MASKED (1ull << 16)
#define VIOAPIC_RTE_DEST_SHIFT 56

enum vioapic_delivery {
	VIOAPIC_DM_FIXED = 0,
	VIOAPIC_DM_LOWEST = 1, /* lowest priority: the caller picks one CPU of the destination */
	VIOAPIC_DM_SMI = 2,    /* never for a guest: the caller drops it */
	VIOAPIC_DM_NMI = 4,    /* the caller injects a virtual NMI (real NMIs are the hypervisor's) */
	VIOAPIC_DM_INIT = 5,   /* the caller turns it into a vCPU INIT, never a real one */
	VIOAPIC_DM_EXTINT = 7, /* there is no 8259 behind it: the caller drops it */
};

/* An interrupt to deliver, as the guest programmed its redirection entry. */
struct vioapic_msg {
	u8 vector;   /* meaningless for SMI, NMI, INIT, ExtINT; a guest may program any value */
	u8 delivery; /* enum vioapic_delivery; 3 and 6 are reserved and come through as given */
	bool logical; /* destination mode: false = physical (APIC ID), true = logical */
	u8 dest;     /* bits 63-56 of the entry */
	bool level;  /* level-triggered: remote IRR is set until vioapic_eoi(vector) */
	u8 pin;
};

struct vioapic {
	u8 id;         /* ID register bits 27-24 */
	u8 initial_id;
	u8 ioregsel;
	u32 lines;     /* bit n: input pin n asserted */
	u64 rte[VIOAPIC_PINS];
};

/* Power-on: every entry masked, the ID `id` (4 bits; the MADT must say the same). */
void vioapic_init(struct vioapic *a, u8 id);
/* A partition restart: entries masked, ID back to its initial value; input lines keep their
 * levels (they belong to the devices). */
void vioapic_reset(struct vioapic *a);

/* An access to the IOAPIC page: `offset` 0..0xfff, `size` 1, 2, 4 or 8. Registers are 32 bits
 * wide; narrower accesses reach the bytes they cover, an 8-byte access two registers. Offsets
 * other than IOREGSEL and IOWIN read 0 and ignore writes. A write can unmask or reprogram a
 * level-triggered entry whose input is asserted: it then returns true with the message. */
u64 vioapic_mmio_read(struct vioapic *a, u64 offset, u8 size);
bool vioapic_mmio_write(struct vioapic *a, u64 offset, u8 size, u64 value,
			struct vioapic_msg *msg);

/* A device drives input `pin` (0-23) to `level` (asserted or not). True, with *msg filled, if
 * an interrupt must be delivered. */
bool vioapic_set_irq(struct vioapic *a, u32 pin, bool level, struct vioapic_msg *msg);
/* The guest's EOI for `vector`: clears remote IRR of the level-triggered entries with that
 * vector; those whose input is still asserted deliver again. Returns how many messages it put
 * in msgs (at most VIOAPIC_PINS). */
u32 vioapic_eoi(struct vioapic *a, u8 vector, struct vioapic_msg msgs[VIOAPIC_PINS]);

bool vioapic_pin_masked(const struct vioapic *a, u32 pin);

#endif
