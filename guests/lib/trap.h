/* Exceptions in 64-bit guests: an IDT whose every vector lands in trap_dispatch, and guards that
 * let a guest try something that may fault and resume after it. A guard is a resume point taken
 * with a setjmp-like helper (guard64.S); on an exception the innermost guard that accepts the
 * vector is resumed, with the vector noted. Guards nest: one that does not accept a vector passes
 * it outwards. An exception no guard accepts is fatal: it is printed and the guest triple-faults. */
#ifndef GUEST_TRAP_H
#define GUEST_TRAP_H

#include "types.h"

#define VEC_DE 0
#define VEC_NMI 2
#define VEC_BP 3
#define VEC_UD 6
#define VEC_DF 8
#define VEC_GP 13
#define VEC_PF 14

#define GUARD_VEC(v) (1ull << (v))
#define GUARD_ANY (~0ull) /* every vector, 0-255 */

struct trap_info {
	u32 vector;
	u64 error;
	u64 rip;
	u64 cr2; /* #PF only */
};

/* Saved by guard_setjmp; the layout is known to guard64.S. */
struct guard {
	u64 rbx, rbp, r12, r13, r14, r15, rsp, rip;
	struct guard *prev;
	u64 accept; /* bit v: vector v (0-63) is resumed here; GUARD_ANY: all */
	struct trap_info fault;
};

/* Loads the IDT (all 256 vectors, interrupt gates on the current code segment). */
void trap_init(void);

/* Runs fn(arg) under a guard accepting the vectors in `accept`. Returns -1 if fn returned, or
 * the vector of the exception that ended it (then *fault, if given, says where). */
int guard_call(u64 accept, void (*fn)(void *arg), void *arg, struct trap_info *fault);

/* Never returns: an IDT with limit 0 and an exception, i.e. a triple fault (shutdown). */
NORETURN void triple_fault(void);

/* guard64.S */
int guard_setjmp(struct guard *g) __attribute__((returns_twice));
NORETURN void guard_longjmp(struct guard *g, int value);

#endif
