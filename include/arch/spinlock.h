/* Ticket spinlock: fair, so no CPU starves on the console or the allocator. */
#ifndef BH_ARCH_SPINLOCK_H
#define BH_ARCH_SPINLOCK_H

#include "arch/x86.h"

struct spinlock {
	volatile u16 next;
	volatile u16 owner;
};

#define SPINLOCK_INIT { 0, 0 }

static inline void spin_lock(struct spinlock *l)
{
	u16 ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
		cpu_relax();
}

/* Gives up after `spins` attempts; for paths (fault reports) that must print even when the
 * lock holder died. Returns whether the lock is now held. */
static inline bool spin_lock_bounded(struct spinlock *l, u64 spins)
{
	u16 owner = __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE);
	u16 next = owner;

	while (spins--) {
		owner = __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE);
		next = owner;
		if (__atomic_compare_exchange_n(&l->next, &next, (u16)(owner + 1), false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return true;
		cpu_relax();
	}
	return false;
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->owner, (u16)(l->owner + 1), __ATOMIC_RELEASE);
}

#endif
