/* Partitions: their resources, state and lifecycle. */
#ifndef BH_HV_PARTITION_H
#define BH_HV_PARTITION_H

#include "types.h"
#include "arch/spinlock.h"
#include "hv/config.h"
#include "hv/lifecycle.h"
#include "hv/vcpu.h"
#include "hv/vlapic.h"
#include "hv/vplatform.h"
#include "hv/vuart.h"
#include "lib/ring.h"

#define MAX_PARTITIONS CFG_MAX_PARTITIONS
#define MAX_VCPUS 16
#define CONSOLE_RING_SIZE (64 * KiB)

const char *partition_state_name(enum partition_state s);

/* A vCPU's registers at a moment worth keeping (its partition's last failure), for `info`. */
struct vcpu_snapshot {
	bool valid;
	u32 vcpu;                    /* index in the partition */
	u32 cpu;                     /* physical CPU */
	u64 when_ns;                 /* tsc_uptime_ns() */
	struct vcpu_regs regs;
	struct vcpu_sregs sregs;
};

struct partition {
	u32 id;                      /* 0.. in config order; ASIDs/VPIDs are id + 1 */
	const struct cfg_partition *cfg;
	volatile enum partition_state state;
	struct spinlock lock;

	u64 ram_hpa;                 /* host-physical base of its RAM (guest-physical 0) */
	u64 ram_size;

	u32 vcpu_count;
	struct vcpu vcpus[MAX_VCPUS];

	struct vuart uart;
	struct vplatform platform;   /* PIT, PM block, RTC, IOAPIC (under lock) */
	bool pc_platform;            /* it has the virtual PC platform (Linux guests), see pdev.h */
	bool platform_ready;         /* platform initialised once (the RTC offset survives) */
	u64 next_poll_ns;            /* when the devices next need a poll (timer interrupts) */
	struct vlapic_group lapics;  /* the vCPUs' LAPICs as far as the hypervisor keeps them */
	struct ring console;         /* everything it printed, newest CONSOLE_RING_SIZE bytes;
				      * written under lock by its vCPUs, shown by hv/console.c */

	u64 started_ns;              /* tsc_uptime_ns() when it last started (for its uptime) */
	u32 restarts;

	/* Lifecycle (hv/lifecycle.h). `pending` and friends change under lc_lock; the service
	 * CPU carries them out in partition_lifecycle_poll. */
	struct spinlock lc_lock;
	enum lifecycle_op pending;   /* STOPPING: what follows once every vCPU is back */
	bool pending_counted;        /* STARTING: a restart (counted in restarts), not a start */
	char pending_why[96];        /* why it stops, for the log */
	u32 vcpus_held;              /* vCPUs handed to their CPUs and not yet back (atomic) */
	u64 kick_ns;                 /* STOPPING: when the vCPUs were last sent an NMI */
	u64 scrubbed;                /* STARTING: bytes of RAM zeroed so far */
	u64 restart_at_ns;           /* FAILED: when on_crash = restart starts it (0: never) */
	struct lifecycle_backoff backoff;
	u64 output_seen;             /* watchdog: console.written when it last checked */
	u64 output_ns;               /* watchdog: when the console last had new output */
	u64 violations;              /* blocked accesses */
	char last_failure[160];
	struct vcpu_snapshot failure_regs; /* the failing vCPU at its last failure */
	void *arch;                  /* vendor: NPT/EPT root, permission maps */
};

extern struct partition *partitions[MAX_PARTITIONS];
extern u32 partition_count;

/* Boot: creates every valid partition of the configuration (memory, images, vCPUs). */
void partitions_create(void);
/* Boot: hands each partition's vCPUs to their CPUs. */
void partitions_start(void);

/* A vCPU found its partition broken (triple fault, forbidden act): logs `why` with the
 * registers (once per crash loop), stops the vCPU and has the service CPU take the others back
 * and apply on_crash. Called on the failing vCPU's CPU. */
void partition_fail(struct vcpu *v, const char *why);
/* The guest powered its machine off: the partition stops (policy does not apply). */
void partition_stop(struct partition *p, const char *why);
/* The guest reset its machine: the partition restarts from its images. */
void partition_reset(struct partition *p, const char *why);
/* A vCPU halted for good; when the last one does, the partition is stopped. */
void partition_vcpu_halted(struct vcpu *v);
/* Hands v to its CPU, which runs it (vcpu_loop) from its mailbox. Counted in vcpus_held until
 * the CPU gives it back through partition_vcpu_left. */
void partition_vcpu_hand_over(struct vcpu *v);
/* On v's CPU, when vcpu_loop returns: the CPU's LAPIC and XCR0 back to the hypervisor's idle
 * state, then v no longer counts as held. The CPU touches nothing of the partition after. */
void partition_vcpu_left(struct vcpu *v);

/* Lifecycle commands: the console shell and the crash policy use these. They only record the
 * request and return; the service CPU carries it out in partition_lifecycle_poll (taking the
 * vCPUs back from the guest, scrubbing and reloading its memory from the images kept at boot,
 * starting it again), so no caller ever waits for a guest. 0, or a BH_E* value with a one-line
 * reason in why (not running, already stopping, refused at boot, ...). */
int partition_request_stop(struct partition *p, char *why, size_t why_len);
int partition_request_start(struct partition *p, char *why, size_t why_len);
int partition_request_restart(struct partition *p, char *why, size_t why_len);
/* The service CPU, each turn of its loop: carries out pending requests and timed restarts. */
void partition_lifecycle_poll(u64 now_ns);
/* The partition by its configured name, or NULL. */
struct partition *partition_find(const char *name);

/* A byte typed on the console while this partition has the focus. False when its receive
 * FIFO is full: the caller keeps the byte and offers it again. */
bool partition_console_input(struct partition *p, u8 byte);

/* Logs the exit counters of one partition. */
void partition_print_stats(const struct partition *p);

/* Guest-physical access helpers for shared code: false if outside the partition's RAM. */
bool partition_gpa_valid(const struct partition *p, u64 gpa, u64 len);
void *partition_gpa_to_hva(const struct partition *p, u64 gpa);

#endif
