/* Partitions: created at boot from the configuration, started on their CPUs, failed, restarted
 * or stopped according to their policy. */
#include "hv/partition.h"
#include "arch/lapic.h"
#include "arch/tsc.h"
#include "arch/x86.h"
#include "boot/boot_info.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/loader.h"
#include "hv/log.h"
#include "hv/pdev.h"
#include "hv/percpu.h"
#include "hv/vacpi.h"
#include "hv/pmm.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/string.h"


struct partition *partitions[MAX_PARTITIONS];
u32 partition_count;

const char *partition_state_name(enum partition_state s)
{
	static const char *const names[] = { "configured", "running", "stopped", "failed",
					     "refused", "stopping", "starting" };

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

bool partition_gpa_valid(const struct partition *p, u64 gpa, u64 len)
{
	return gpa < p->ram_size && len <= p->ram_size - gpa;
}

void *partition_gpa_to_hva(const struct partition *p, u64 gpa)
{
	return (void *)(uintptr_t)(p->ram_hpa + gpa);
}

/* ------------------------------------------------------------------ console */

/* A byte the guest sent to its virtual UART (called with p->lock held). It only goes into the
 * ring: the service CPU shows it (hv/console.c), so a guest never waits for the physical UART. */
static void console_tx(void *ctx, u8 byte)
{
	struct partition *p = ctx;

	ring_write(&p->console, &byte, 1);
}

/* The vUART's interrupt line (called with p->lock held): IOAPIC pin 4. */
static void console_irq(void *ctx, bool level)
{
	pdev_irq_locked(ctx, VPLATFORM_GSI_UART, level);
}

bool partition_console_input(struct partition *p, u8 byte)
{
	bool taken = false;

	spin_lock(&p->lock);
	if (vuart_rx_room(&p->uart)) {
		vuart_receive(&p->uart, byte);
		taken = true;
	}
	spin_unlock(&p->lock);
	/* The receive interrupt the vUART raised goes out at the service CPU's next tick. */
	__atomic_store_n(&p->next_poll_ns, 0, __ATOMIC_RELAXED);
	return taken;
}

/* ------------------------------------------------------------------ loading */

extern struct boot_info *hv_boot_info;

static const struct boot_file *boot_file_named(const char *path)
{
	for (u32 i = 0; i < hv_boot_info->file_count; i++) {
		const struct boot_file *f = &hv_boot_info->files[i];

		if (!strcmp(f->name, path) && !f->error)
			return f;
	}
	return NULL;
}

static void blob_from_file(struct guest_blob *b, const struct cfg_file *cf)
{
	const struct boot_file *f = boot_file_named(cf->path);

	b->data = f ? (const u8 *)(uintptr_t)f->addr : NULL;
	b->size = f ? f->size : 0;
	b->name = cf->path;
	b->args = cf->args;
}

/* A Linux kernel also gets the platform description the x86 boot protocol points at: ACPI
 * tables listing exactly the partition's CPUs and virtual devices. */
static int load_linux(struct partition *p, struct guest_ram *ram, const struct guest_blob *kernel,
		      const struct guest_blob *modules, u32 nmod, struct guest_entry *entry,
		      char *why, size_t why_size)
{
	u32 ids[MAX_VCPUS];
	struct vacpi_config ac = {
		.cpu_count = p->vcpu_count, .apic_ids = ids,
		.ioapic_address = (u32)PDEV_IOAPIC_BASE, .ioapic_id = 0, .ioapic_gsi_base = 0,
		.pm1a_evt_port = VPLATFORM_PM_BASE, .pm1a_cnt_port = VPLATFORM_PM_BASE + 4,
		.pm_tmr_port = VPLATFORM_PM_BASE + 8,
		.oem_id = "BLKHD ", .oem_table_id = "BULKHEAD", .oem_revision = 1,
	};
	struct vacpi_tables t;
	struct guest_platform gp = { GUEST_ACPI_BASE, GUEST_ACPI_SIZE, 0 };
	int err;

	for (u32 i = 0; i < p->vcpu_count; i++)
		ids[i] = p->vcpus[i].cpu->apic_id;
	if (ram->size < GUEST_ACPI_BASE + GUEST_ACPI_SIZE) {
		fmt_snprintf(why, why_size, "too little RAM for a Linux guest");
		return BH_ERANGE;
	}
	err = vacpi_build(&ac, GUEST_ACPI_BASE, ram->base + GUEST_ACPI_BASE, GUEST_ACPI_SIZE, &t,
			  why, why_size);
	if (err)
		return err;
	gp.acpi_rsdp = t.rsdp;
	return loader_load_platform(ram, kernel, p->cfg->cmdline, modules, nmod, &gp, entry, why,
				    why_size);
}

/* Loads the images into scrubbed RAM. They come from the files as the boot path read them into
 * hypervisor memory, which no partition ever maps: a restart reloads the pristine boot copies,
 * never what the guest's previous life changed in its RAM. */
static int partition_load(struct partition *p, struct guest_entry *entry, char *why,
			  size_t why_size)
{
	const struct cfg_partition *c = p->cfg;
	struct guest_ram ram = { (u8 *)(uintptr_t)p->ram_hpa, p->ram_size };
	struct guest_blob kernel, modules[CFG_MAX_MODULES + 1];
	u32 nmod = 0;

	blob_from_file(&kernel, &c->kernel);
	if (c->initrd.path[0])
		blob_from_file(&modules[nmod++], &c->initrd);
	for (u32 i = 0; i < c->module_count; i++)
		blob_from_file(&modules[nmod++], &c->modules[i]);
	if (!kernel.data) {
		fmt_snprintf(why, why_size, "kernel '%s' was not loaded from the boot medium",
			     c->kernel.path);
		return BH_ENOENT;
	}
	for (u32 i = 0; i < nmod; i++) {
		if (!modules[i].data) {
			fmt_snprintf(why, why_size, "module '%s' was not loaded from the boot medium",
				     modules[i].name);
			return BH_ENOENT;
		}
	}
	p->pc_platform = loader_detect(kernel.data, kernel.size) == GUEST_FORMAT_LINUX;
	if (p->pc_platform)
		return load_linux(p, &ram, &kernel, modules, nmod, entry, why, why_size);
	return loader_load(&ram, &kernel, c->cmdline, modules, nmod, entry, why, why_size);
}

static void vcpus_reset(struct partition *p, const struct guest_entry *entry)
{
	for (u32 i = 0; i < p->vcpu_count; i++) {
		struct vcpu *v = &p->vcpus[i];

		virt->vcpu_init(v);
		memset(v->exits, 0, sizeof(v->exits));
		if (i == 0) {
			virt->vcpu_set_entry(v, entry);
			v->state = VCPU_IDLE;
		} else {
			v->state = VCPU_WAIT_SIPI;
		}
	}
	vuart_reset(&p->uart);
	pdev_reset(p);
}

/* ------------------------------------------------------------------ creation */

static void refuse(struct partition *p, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void refuse(struct partition *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(p->last_failure, sizeof(p->last_failure), fmt, ap);
	va_end(ap);
	p->state = PART_REFUSED;
	log_err("partition %s: refused: %s", p->cfg->name, p->last_failure);
}

static void partition_create(struct partition *p)
{
	const struct cfg_partition *c = p->cfg;
	struct guest_entry entry;
	struct guest_blob kernel;
	char why[160];
	int err;

	for (u32 cpu = 0; cpu < 64; cpu++) {
		if (!(c->cpus & (1ull << cpu)))
			continue;
		if (cpu >= cpu_count || cpus[cpu]->state != CPU_ONLINE) {
			refuse(p, "CPU %u is not online", cpu);
			return;
		}
		if (p->vcpu_count == MAX_VCPUS) {
			refuse(p, "more than %d CPUs", MAX_VCPUS);
			return;
		}
		struct vcpu *v = &p->vcpus[p->vcpu_count];

		v->part = p;
		v->index = p->vcpu_count++;
		v->cpu = cpus[cpu];
	}
	err = pmm_alloc(&hv_pmm, c->memory, 2 * MiB, 0, PMM_PARTITION, &p->ram_hpa);
	if (err) {
		refuse(p, "no %llu MiB of contiguous free RAM left",
		       (unsigned long long)(c->memory / MiB));
		return;
	}
	p->ram_size = c->memory;
	err = virt->partition_init(p);
	if (err) {
		refuse(p, "its nested page tables could not be built: %s", bh_strerror(err));
		return;
	}
	ring_init(&p->console, hv_alloc(CONSOLE_RING_SIZE, PAGE_SIZE, 0), CONSOLE_RING_SIZE);
	vuart_init(&p->uart, console_tx, console_irq, p);
	memset((void *)(uintptr_t)p->ram_hpa, 0, p->ram_size);
	err = partition_load(p, &entry, why, sizeof(why));
	if (err) {
		refuse(p, "%s", why);
		return;
	}
	vcpus_reset(p, &entry);
	blob_from_file(&kernel, &c->kernel); /* loaded above, so it is there */
	log_info("partition %s: %u CPU(s), %llu MiB at host 0x%llx, kernel '%s' (%s)", c->name,
		 p->vcpu_count, (unsigned long long)(p->ram_size / MiB),
		 (unsigned long long)p->ram_hpa, c->kernel.path,
		 loader_format_name(loader_detect(kernel.data, kernel.size)));
}

void partitions_create(void)
{
	for (u32 i = 0; i < hv_config.partition_count; i++) {
		const struct cfg_partition *c = &hv_config.partitions[i];
		struct partition *p = hv_alloc(sizeof(*p), PAGE_SIZE, 0);

		p->id = partition_count;
		p->cfg = c;
		partitions[partition_count++] = p;
		if (!c->valid) {
			p->state = PART_REFUSED;
			fmt_snprintf(p->last_failure, sizeof(p->last_failure),
				     "invalid configuration (see the errors above)");
			log_err("partition %s: refused: its configuration has errors", c->name);
			continue;
		}
		partition_create(p);
	}
}

/* Hands its first vCPU to its CPU; the others wait for the guest's INIT/SIPI (vcpus_reset). */
static void partition_launch(struct partition *p)
{
	p->started_ns = tsc_uptime_ns();
	p->output_ns = p->started_ns;
	p->output_seen = p->console.written;
	__atomic_store_n(&p->state, PART_RUNNING, __ATOMIC_SEQ_CST);
	for (u32 i = 0; i < p->vcpu_count; i++)
		if (p->vcpus[i].state == VCPU_IDLE)
			partition_vcpu_hand_over(&p->vcpus[i]);
}

void partitions_start(void)
{
	for (u32 i = 0; i < partition_count; i++) {
		struct partition *p = partitions[i];

		if (p->state != PART_CONFIGURED)
			continue;
		partition_launch(p);
		log_info("partition %s: started", p->cfg->name);
	}
}

/* ------------------------------------------------------------------ failure and stop */

static void snapshot_vcpu(struct vcpu *v, struct vcpu_snapshot *snap)
{
	snap->vcpu = v->index;
	snap->cpu = v->cpu->index;
	snap->when_ns = tsc_uptime_ns();
	snap->regs = v->regs;
	virt->vcpu_get_sregs(v, &snap->sregs);
	snap->valid = true;
}

static void dump_vcpu(const struct vcpu *v)
{
	struct vcpu_sregs s;
	const u64 *g = v->regs.gpr;

	virt->vcpu_get_sregs((struct vcpu *)v, &s);
	log_raw("  RIP %016llx  RSP %016llx  RFLAGS %016llx  CS %04x CPL %u\n",
		(unsigned long long)v->regs.rip, (unsigned long long)g[GPR_RSP],
		(unsigned long long)v->regs.rflags, s.cs_sel, s.cpl);
	log_raw("  RAX %016llx  RBX %016llx  RCX %016llx  RDX %016llx\n",
		(unsigned long long)g[GPR_RAX], (unsigned long long)g[GPR_RBX],
		(unsigned long long)g[GPR_RCX], (unsigned long long)g[GPR_RDX]);
	log_raw("  RSI %016llx  RDI %016llx  RBP %016llx  R8  %016llx\n",
		(unsigned long long)g[GPR_RSI], (unsigned long long)g[GPR_RDI],
		(unsigned long long)g[GPR_RBP], (unsigned long long)g[GPR_R8]);
	log_raw("  R9  %016llx  R10 %016llx  R11 %016llx  R12 %016llx\n",
		(unsigned long long)g[GPR_R9], (unsigned long long)g[GPR_R10],
		(unsigned long long)g[GPR_R11], (unsigned long long)g[GPR_R12]);
	log_raw("  R13 %016llx  R14 %016llx  R15 %016llx\n", (unsigned long long)g[GPR_R13],
		(unsigned long long)g[GPR_R14], (unsigned long long)g[GPR_R15]);
	log_raw("  CR0 %016llx  CR2 %016llx  CR3 %016llx  CR4 %016llx  EFER %llx\n",
		(unsigned long long)s.cr0, (unsigned long long)s.cr2, (unsigned long long)s.cr3,
		(unsigned long long)s.cr4, (unsigned long long)s.efer);
}

void partition_print_stats(const struct partition *p)
{
	char line[512];
	int n = 0;
	u64 total = 0;

	for (int r = 0; r < EXIT_REASON_COUNT; r++) {
		u64 count = 0;

		for (u32 v = 0; v < p->vcpu_count; v++)
			count += p->vcpus[v].exits[r];
		total += count;
		if (count && n < (int)sizeof(line))
			n += fmt_snprintf(line + n, sizeof(line) - (size_t)n, " %s=%llu",
					  exit_reason_name((enum exit_reason)r),
					  (unsigned long long)count);
	}
	log_info("partition %s: %s, exits total=%llu%s, blocked accesses %llu, restarts %u",
		 p->cfg->name, partition_state_name(p->state), (unsigned long long)total,
		 n ? line : "", (unsigned long long)p->violations, p->restarts);
}

/* ------------------------------------------------------------------ take-back */

/* How often the service CPU repeats its NMIs to vCPUs not yet back: an NMI that lands while
 * a CPU is in the hypervisor, just before it enters the guest again, is lost. */
#define KICK_INTERVAL_NS 1000000ull
/* RAM zeroed per turn of the service loop while a partition starts: the console and the other
 * partitions' device interrupts wait no longer than one chunk. */
#define SCRUB_CHUNK (16 * MiB)
#define XCR0_X87 1ull

void partition_vcpu_hand_over(struct vcpu *v)
{
	__atomic_add_fetch(&v->part->vcpus_held, 1, __ATOMIC_SEQ_CST);
	v->cpu->mailbox = v;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	lapic_send_ipi(v->cpu->apic_id, VECTOR_WAKEUP);
}

void partition_vcpu_left(struct vcpu *v)
{
	/* The guest owned this LAPIC (timer, TPR, LVTs, SVR) and XCR0: the next guest on this
	 * CPU, and the hypervisor's own wake-up IPI, find them as at boot. */
	lapic_reset_idle();
	if (read_cr4() & CR4_OSXSAVE)
		xsetbv(0, XCR0_X87);
	/* Last: once the count reaches 0 the service CPU may scrub and reload the partition. */
	__atomic_sub_fetch(&v->part->vcpus_held, 1, __ATOMIC_RELEASE);
}

/* Under lc_lock, p running: every vCPU is to leave its guest; `op` follows. */
static void stop_locked(struct partition *p, enum lifecycle_op op, const char *why)
{
	p->pending = op;
	fmt_snprintf(p->pending_why, sizeof(p->pending_why), "%s", why);
	p->kick_ns = 0;
	__atomic_store_n(&p->state, PART_STOPPING, __ATOMIC_SEQ_CST);
}

/* Under lc_lock, p stopped or failed with every vCPU back: scrub, reload, start. */
static void start_locked(struct partition *p, bool counted)
{
	p->restart_at_ns = 0;
	p->scrubbed = 0;
	p->pending_counted = counted;
	__atomic_store_n(&p->state, PART_STARTING, __ATOMIC_SEQ_CST);
}

/* A vCPU (any CPU) asks for its partition to stop; false if it already stops (another vCPU, or
 * the operator, came first) or is not running. */
static bool begin_stop(struct partition *p, enum lifecycle_op op, const char *why)
{
	bool running;

	spin_lock(&p->lc_lock);
	running = p->state == PART_RUNNING;
	if (running)
		stop_locked(p, op, why);
	spin_unlock(&p->lc_lock);
	return running;
}

/* NMIs to every CPU of the partition: a vCPU in its guest exits, sees the partition no longer
 * running and gives its CPU back; a CPU already idle just wakes and sleeps again. */
static void kick_vcpus(struct partition *p, u64 now_ns)
{
	if (p->kick_ns && now_ns - p->kick_ns < KICK_INTERVAL_NS)
		return;
	p->kick_ns = now_ns ? now_ns : 1;
	for (u32 i = 0; i < p->vcpu_count; i++)
		lapic_send_nmi(p->vcpus[i].cpu->apic_id);
}


/* ------------------------------------------------------------------ failure and stop */

/* The failure policy once every vCPU is back: park, or restart now or after the back-off. */
static void apply_crash_policy(struct partition *p, u64 now_ns)
{
	bool restart = p->cfg->on_crash == CFG_ON_CRASH_RESTART;
	u64 delay = restart ? lifecycle_crash_delay(&p->backoff, now_ns - p->started_ns) : 0;

	spin_lock(&p->lc_lock);
	__atomic_store_n(&p->state, PART_FAILED, __ATOMIC_SEQ_CST);
	spin_unlock(&p->lc_lock);
	if (!restart || p->backoff.streak <= 1)
		partition_print_stats(p);
	if (!restart) {
		log_err("partition %s: parked (on_crash = stop); the other partitions keep running",
			p->cfg->name);
		return;
	}
	if (p->backoff.streak <= 1)
		log_info("partition %s: restarting it (on_crash = restart)", p->cfg->name);
	else /* one line per crash of a crash loop: partition_fail said nothing this time */
		log_err("partition %s: failed again: %s; crash %u in a row, each within %llu s of "
			"its start: restarting in %llu s", p->cfg->name, p->pending_why,
			p->backoff.streak, (unsigned long long)(LIFECYCLE_STABLE_NS / 1000000000ull),
			(unsigned long long)(delay / 1000000000ull));
	spin_lock(&p->lc_lock);
	if (p->state == PART_FAILED) { /* not stopped by a command meanwhile */
		if (delay == 0)
			start_locked(p, true);
		else
			p->restart_at_ns = now_ns + delay;
	}
	spin_unlock(&p->lc_lock);
}

/* Every vCPU is back (none runs, none touches the partition's memory): carry out what the
 * stop was for. */
static void takeback_done(struct partition *p, u64 now_ns)
{
	enum lifecycle_op op;

	for (u32 i = 0; i < p->vcpu_count; i++)
		p->vcpus[i].state = VCPU_STOPPED;
	console_partition_flush(p);
	spin_lock(&p->lc_lock);
	op = p->pending;
	p->pending = LIFECYCLE_NONE;
	if (op == LIFECYCLE_RESTART)
		start_locked(p, true);
	else if (op == LIFECYCLE_STOP)
		__atomic_store_n(&p->state, PART_STOPPED, __ATOMIC_SEQ_CST);
	spin_unlock(&p->lc_lock);
	if (op == LIFECYCLE_STOP) {
		log_info("partition %s: stopped (%s)", p->cfg->name, p->pending_why);
		partition_print_stats(p);
	} else if (op == LIFECYCLE_FAIL) {
		apply_crash_policy(p, now_ns);
	}
}

static void poll_stopping(struct partition *p, u64 now_ns)
{
	if (__atomic_load_n(&p->vcpus_held, __ATOMIC_ACQUIRE)) {
		kick_vcpus(p, now_ns);
		return;
	}
	takeback_done(p, now_ns);
}

/* STARTING: one chunk of scrubbing per turn, then the images, the devices and vCPU 0. */
static void poll_starting(struct partition *p)
{
	struct guest_entry entry;
	char why[160];
	u8 *ram = (u8 *)(uintptr_t)p->ram_hpa;

	if (p->scrubbed < p->ram_size) {
		u64 n = MIN((u64)SCRUB_CHUNK, p->ram_size - p->scrubbed);

		memset(ram + p->scrubbed, 0, n);
		p->scrubbed += n;
		return;
	}
	if (partition_load(p, &entry, why, sizeof(why)) != 0) {
		fmt_snprintf(p->last_failure, sizeof(p->last_failure), "%s", why);
		spin_lock(&p->lc_lock);
		__atomic_store_n(&p->state, PART_FAILED, __ATOMIC_SEQ_CST);
		spin_unlock(&p->lc_lock);
		log_err("partition %s: cannot start: %s; parked", p->cfg->name, why);
		return;
	}
	vcpus_reset(p, &entry);
	if (p->pending_counted) {
		p->restarts++;
		log_info("partition %s: restarted (restart %u)", p->cfg->name, p->restarts);
	} else {
		log_info("partition %s: started", p->cfg->name);
	}
	partition_launch(p);
}

/* FAILED with a restart scheduled by its policy: restart once the back-off is over. */
static void poll_failed(struct partition *p, u64 now_ns)
{
	if (!p->restart_at_ns || now_ns < p->restart_at_ns)
		return;
	spin_lock(&p->lc_lock);
	if (p->state == PART_FAILED && p->restart_at_ns && now_ns >= p->restart_at_ns)
		start_locked(p, true);
	spin_unlock(&p->lc_lock);
}

/* RUNNING with a watchdog: silent on its console for that long, it has failed. The service CPU
 * watches the console ring's byte count, so the guest's output path stays as it is. */
static void poll_watchdog(struct partition *p, u64 now_ns)
{
	u64 timeout_ns = (u64)p->cfg->watchdog_s * 1000000000ull;
	u64 written = __atomic_load_n(&p->console.written, __ATOMIC_RELAXED);
	char why[96];

	if (!timeout_ns)
		return;
	if (written != p->output_seen) {
		p->output_seen = written;
		p->output_ns = now_ns;
		return;
	}
	if (!lifecycle_watchdog_expired(timeout_ns, p->output_ns, now_ns))
		return;
	fmt_snprintf(why, sizeof(why), "watchdog: no console output for %u s",
		     p->cfg->watchdog_s);
	fmt_snprintf(p->last_failure, sizeof(p->last_failure), "%s", why);
	/* As partition_fail: a crash loop is one line per crash (apply_crash_policy). */
	if (p->cfg->on_crash != CFG_ON_CRASH_RESTART ||
	    !lifecycle_crash_continues(&p->backoff, now_ns - p->started_ns))
		log_err("partition %s: failed: %s", p->cfg->name, why);
	begin_stop(p, LIFECYCLE_FAIL, why);
}

void partition_lifecycle_poll(u64 now_ns)
{
	for (u32 i = 0; i < partition_count; i++) {
		struct partition *p = partitions[i];

		switch (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE)) {
		case PART_STOPPING:
			poll_stopping(p, now_ns);
			break;
		case PART_STARTING:
			poll_starting(p);
			break;
		case PART_FAILED:
			poll_failed(p, now_ns);
			break;
		case PART_RUNNING:
			poll_watchdog(p, now_ns);
			break;
		default:
			break;
		}
	}
}

void partition_stop(struct partition *p, const char *why)
{
	begin_stop(p, LIFECYCLE_STOP, why);
}

void partition_reset(struct partition *p, const char *why)
{
	if (begin_stop(p, LIFECYCLE_RESTART, why))
		log_info("partition %s: %s; restarting it", p->cfg->name, why);
}

void partition_fail(struct vcpu *v, const char *why)
{
	struct partition *p = v->part;
	u64 ran_ns = tsc_uptime_ns() - p->started_ns;
	char what[sizeof(p->pending_why)];

	v->state = VCPU_STOPPED;
	fmt_snprintf(p->last_failure, sizeof(p->last_failure), "%s", why);
	snapshot_vcpu(v, &p->failure_regs);
	console_partition_flush(p); /* what the guest printed before it failed comes first */
	fmt_snprintf(what, sizeof(what), "%s on vCPU %u (CPU %u)", why, v->index, v->cpu->index);
	/* A crash loop is reported in one line per crash, once the service CPU knows the delay
	 * (apply_crash_policy); the first crash of a streak in full, here, with the registers. */
	if (p->cfg->on_crash != CFG_ON_CRASH_RESTART ||
	    !lifecycle_crash_continues(&p->backoff, ran_ns)) {
		log_err("partition %s: failed on vCPU %u (CPU %u): %s", p->cfg->name, v->index,
			v->cpu->index, why);
		dump_vcpu(v);
	}
	begin_stop(p, LIFECYCLE_FAIL, what);
}

void partition_vcpu_halted(struct vcpu *v)
{
	struct partition *p = v->part;

	__atomic_store_n(&v->state, VCPU_HALTED, __ATOMIC_SEQ_CST);
	for (u32 i = 0; i < p->vcpu_count; i++) {
		enum vcpu_state s = __atomic_load_n(&p->vcpus[i].state, __ATOMIC_SEQ_CST);

		/* IDLE: handed to its CPU (after a SIPI), about to run. */
		if (s == VCPU_RUNNING || s == VCPU_IDLE)
			return;
	}
	begin_stop(p, LIFECYCLE_STOP, "the guest halted");
}

/* ------------------------------------------------------------------ lifecycle commands */

struct partition *partition_find(const char *name)
{
	for (u32 i = 0; i < partition_count; i++)
		if (strcmp(partitions[i]->cfg->name, name) == 0)
			return partitions[i];
	return NULL;
}

/* A command (console shell): checked against the state, then handed to the service CPU. */
static int request(struct partition *p, enum lifecycle_op op, char *why, size_t why_len)
{
	char reason[64];
	int err;

	spin_lock(&p->lc_lock);
	err = lifecycle_check(p->state, op, p->restart_at_ns != 0, reason, sizeof(reason));
	if (!err) {
		if (op == LIFECYCLE_STOP && p->state == PART_FAILED) {
			/* Its vCPUs are out already: the scheduled restart is just cancelled. */
			p->restart_at_ns = 0;
			__atomic_store_n(&p->state, PART_STOPPED, __ATOMIC_SEQ_CST);
		} else if (op == LIFECYCLE_STOP || (op == LIFECYCLE_RESTART &&
						  p->state == PART_RUNNING))
			stop_locked(p, op, "by command");
		else
			start_locked(p, op == LIFECYCLE_RESTART);
	}
	spin_unlock(&p->lc_lock);
	if (err) {
		fmt_snprintf(why, why_len, "partition %s: %s", p->cfg->name, reason);
		return err;
	}
	if (why_len)
		why[0] = '\0';
	log_info("partition %s: %s requested", p->cfg->name,
		 op == LIFECYCLE_STOP ? "stop" : op == LIFECYCLE_START ? "start" : "restart");
	return 0;
}

int partition_request_stop(struct partition *p, char *why, size_t why_len)
{
	return request(p, LIFECYCLE_STOP, why, why_len);
}

int partition_request_start(struct partition *p, char *why, size_t why_len)
{
	return request(p, LIFECYCLE_START, why, why_len);
}

int partition_request_restart(struct partition *p, char *why, size_t why_len)
{
	return request(p, LIFECYCLE_RESTART, why, why_len);
}
