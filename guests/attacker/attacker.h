/* The attacker guest: shared declarations of its parts (attacker.c runs the attacks, one file per
 * kind of attack). */
#ifndef ATTACKER_H
#define ATTACKER_H

#include "guest.h"
#include "io.h"
#include "trap.h"

/* What the attacks know about their partition. */
struct target {
	u64 ram_end;      /* end of the RAM in the memory map (0: no memory map) */
	u64 map_limit;    /* guest-physical addresses below this are mapped by our page tables */
	u64 scratch;      /* a 4 KiB page of our own RAM, zeroed, for instructions that take one */
	u64 scratch_word; /* a word of our own RAM for the memory-probe self test */
};
extern struct target target;

/* The verdict of the attack being run: exactly one per attack. */
void blocked(const char *fmt, ...) PRINTF_LIKE(1, 2);
void escaped(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Busy-waits about `ms` milliseconds (TSC based, assuming a TSC of at most 10 GHz; bounded). */
void spin_ms(u32 ms);

/* Guarded single operations: -1 if they completed, else the vector (only the vectors the
 * caller names are caught here; others end the whole attack as unexpected). */
int try_rdmsr(u32 msr, u64 *value);
int try_wrmsr(u32 msr, u64 value);

/* Plain 32-bit MOV loads and stores (the hypervisor decodes these on unmapped addresses). */
static inline u32 mmio_read32(u64 addr)
{
	u32 v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write32(u64 addr, u32 v)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

struct attack {
	const char *name;
	void (*run)(void);
};

/* The attacks of each file, in the order they run (each list ends with a NULL name). */
extern const struct attack cpu_attacks[];
extern const struct attack msr_attacks[];
extern const struct attack io_probe_attacks[];
extern const struct attack mmio_probe_attacks[];
extern const struct attack mem_sweep_attacks[];
extern const struct attack cr4_attacks[];
extern const struct attack ipi_attacks[];
extern const struct attack power_attacks[];

#endif
