/* hv_main: from the boot path's hand-over to a running hypervisor.
 * console → config → memory map → ACPI → own tables → all CPUs → summary → ready. */
#include "boot/boot_info.h"
#include "arch/cpu.h"
#include "arch/lapic.h"
#include "arch/mmu.h"
#include "arch/smp.h"
#include "arch/tsc.h"
#include "arch/x86.h"
#include "drivers/acpi.h"
#include "drivers/cmos.h"
#include "hv/vrtc.h"
#include "drivers/power.h"
#include "drivers/uart.h"
#include "hv/config.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/log.h"
#include "hv/partition.h"
#include "hv/pdev.h"
#include "hv/percpu.h"
#include "hv/plan.h"
#include "hv/vcpu.h"
#include "hv/pmm.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/string.h"

#define PERCPU_AREA_SIZE (PAGE_SIZE + CPU_STACK_SIZE + IST_COUNT * IST_STACK_SIZE)

struct pmm hv_pmm;
struct config hv_config;
struct acpi_info hv_acpi;
struct percpu *cpus[MAX_CPUS];
u32 cpu_count;

static struct uart console;
struct boot_info *hv_boot_info;
static struct boot_info *boot;
static u64 ready_tsc;

/* Linker-script symbols around the hypervisor's code. */
extern char _text[] __attribute__((visibility("hidden")));
extern char _etext[] __attribute__((visibility("hidden")));

void *hv_alloc(u64 size, u64 align, u64 limit)
{
	u64 addr;
	int err = pmm_alloc(&hv_pmm, size, align, limit, PMM_HV, &addr);

	if (err)
		hv_panic("out of memory allocating %llu bytes: %s", (unsigned long long)size,
			 bh_strerror(err));
	memset((void *)(uintptr_t)addr, 0, ALIGN_UP(size, PAGE_SIZE));
	return (void *)(uintptr_t)addr;
}

void hv_panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("PANIC: %s", msg);
	log_err("PANIC: boot cannot continue; this CPU stops");
	cpu_park();
}

/* ------------------------------------------------------------------ configuration */

static void load_config(void)
{
	const struct boot_file *f;

	config_defaults(&hv_config);
	if (boot->config_file < 0)
		return;
	f = &boot->files[boot->config_file];
	config_parse(&hv_config, (const char *)(uintptr_t)f->addr, f->size);
}

static void report_boot_files(void)
{
	u32 shown = hv_config.error_count < CFG_MAX_ERRORS ? hv_config.error_count : CFG_MAX_ERRORS;
	const char *cfg_name = boot->config_file >= 0 ? boot->files[boot->config_file].name
						      : "bulkhead.cfg";

	if (boot->config_file < 0)
		log_warn("config: no configuration file was loaded; using defaults");
	for (u32 i = 0; i < shown; i++)
		log_err("%s:%u: %s", cfg_name, hv_config.errors[i].line, hv_config.errors[i].msg);
	if (hv_config.error_count > shown)
		log_err("%s: %u more errors not shown", cfg_name, hv_config.error_count - shown);
	for (u32 i = 0; i < boot->file_count; i++) {
		const struct boot_file *f = &boot->files[i];

		if (f->error)
			log_err("boot: file '%s' could not be read: %s", f->name,
				bh_strerror(f->error));
		else
			log_info("boot: file '%s' at 0x%llx, %llu bytes", f->name,
				 (unsigned long long)f->addr, (unsigned long long)f->size);
	}
}

/* ------------------------------------------------------------------ memory */

static enum pmm_kind boot_mem_kind(u32 type)
{
	switch (type) {
	case BOOT_MEM_USABLE: return PMM_FREE;
	case BOOT_MEM_LOADER: return PMM_HV;
	case BOOT_MEM_ACPI_RECLAIM: return PMM_ACPI_RECLAIM;
	case BOOT_MEM_ACPI_NVS: return PMM_ACPI_NVS;
	default: return PMM_FIRMWARE;
	}
}

/* Everything but the firmware's boot-time memory, which is still in use (its page tables, our
 * GDT until we load our own) and is added once we run on our own tables. */
static const char *boot_mem_type_name(u32 type)
{
	static const char *const names[] = { "?", "usable", "loader", "reserved", "mmio",
					     "acpi-reclaim", "acpi-nvs", "unusable", "boot-services" };

	return type < ARRAY_SIZE(names) ? names[type] : "?";
}

static void memory_map_init(void)
{
	pmm_init(&hv_pmm);
	for (u32 i = 0; i < boot->mem_count; i++) {
		const struct boot_mem_region *r = &boot->mem[i];
		int err;

		log_debug("memory: %016llx-%016llx %s", (unsigned long long)r->base,
			  (unsigned long long)(r->base + r->size - 1), boot_mem_type_name(r->type));
		if (r->type == BOOT_MEM_BOOT_RECLAIM || r->type == BOOT_MEM_MMIO)
			continue;
		err = pmm_add(&hv_pmm, r->base, r->size, boot_mem_kind(r->type));
		if (err)
			log_warn("memory: region 0x%llx+0x%llx ignored: %s",
				 (unsigned long long)r->base, (unsigned long long)r->size,
				 bh_strerror(err));
	}
	/* The first page (real-mode IVT, BIOS data) is never handed out. */
	pmm_add(&hv_pmm, 0, PAGE_SIZE, PMM_FIRMWARE);
}

static void memory_reclaim_boot_services(void)
{
	u64 reclaimed = 0;

	for (u32 i = 0; i < boot->mem_count; i++) {
		const struct boot_mem_region *r = &boot->mem[i];

		if (r->type != BOOT_MEM_BOOT_RECLAIM)
			continue;
		if (pmm_add(&hv_pmm, r->base, r->size, PMM_FREE) == 0)
			reclaimed += r->size;
	}
	log_info("memory: %llu KiB of firmware boot-time memory reclaimed",
		 (unsigned long long)(reclaimed / KiB));
}

static u64 physical_top(void)
{
	u64 top = 4 * GiB; /* MMIO below 4 GiB is mapped even where the map does not list it */

	for (u32 i = 0; i < boot->mem_count; i++)
		top = MAX(top, boot->mem[i].base + boot->mem[i].size);
	return top;
}

/* ------------------------------------------------------------------ ACPI */

static const void *acpi_map_identity(void *ctx, u64 phys, u64 len)
{
	(void)ctx;
	if (!phys || phys + len < phys || phys + len > physical_top())
		return NULL;
	return (const void *)(uintptr_t)phys;
}

static void acpi_init(void)
{
	struct acpi_mem mem = { acpi_map_identity, NULL };
	char why[128] = "";
	int err;

	if (!boot->rsdp) {
		log_warn("acpi: the firmware gave no RSDP: no CPU list, no power-off from ACPI");
		return;
	}
	err = acpi_parse(&mem, boot->rsdp, &hv_acpi, why, sizeof(why));
	if (err) {
		log_err("acpi: %s (%s); ignoring ACPI", why, bh_strerror(err));
		return;
	}
	for (u32 i = 0; i < hv_acpi.warning_count && i < ACPI_MAX_WARNINGS; i++)
		log_warn("acpi: %s", hv_acpi.warnings[i]);
	log_info("acpi: RSDP rev %u at 0x%llx, %s, OEM '%s', %u tables", hv_acpi.rsdp_revision,
		 (unsigned long long)hv_acpi.rsdp_address, hv_acpi.xsdt_used ? "XSDT" : "RSDT",
		 hv_acpi.oem_id, hv_acpi.table_count);
	for (u32 i = 0; i < hv_acpi.table_count; i++)
		log_debug("acpi:   %s at 0x%llx, %u bytes%s", hv_acpi.tables[i].signature,
			  (unsigned long long)hv_acpi.tables[i].address, hv_acpi.tables[i].length,
			  hv_acpi.tables[i].checksum_ok ? "" : " (bad checksum, ignored)");
	log_info("acpi: %u CPUs, %u IOAPICs, %u overrides, %u MCFG regions, PM timer %s, "
		 "S5 %s", hv_acpi.cpu_count, hv_acpi.ioapic_count, hv_acpi.override_count,
		 hv_acpi.mcfg_count, hv_acpi.fadt.pm_timer.address ? "yes" : "no",
		 hv_acpi.s5_present ? "yes" : "no");
	for (u32 i = 0; i < hv_acpi.ioapic_count; i++)
		log_debug("acpi:   IOAPIC %u at 0x%x, GSI base %u", hv_acpi.ioapics[i].id,
			  hv_acpi.ioapics[i].address, hv_acpi.ioapics[i].gsi_base);
	for (u32 i = 0; i < hv_acpi.mcfg_count; i++)
		log_debug("acpi:   ECAM segment %u buses %u-%u at 0x%llx", hv_acpi.mcfg[i].segment,
			  hv_acpi.mcfg[i].bus_start, hv_acpi.mcfg[i].bus_end,
			  (unsigned long long)hv_acpi.mcfg[i].base);
}

static int pit_calibration;
static u64 boot_unix_ns; /* Unix time at TSC origin, from the machine's RTC */

/* The date for the guests' virtual RTCs: the machine's RTC, read once. */
static void wall_clock_init(void)
{
	u8 regs[CMOS_CLOCK_REGS];
	u64 secs;

	if (!cmos_read_clock(regs) || vrtc_decode_cmos(regs, sizeof(regs), 0, &secs) != 0) {
		log_warn("clock: the RTC gave no valid date; guests start at 1970-01-01");
		return;
	}
	boot_unix_ns = secs * 1000000000ull - tsc_uptime_ns();
	log_info("clock: RTC says %llu s since 1970", (unsigned long long)secs);
}

static void clock_init(void)
{
	int err = pit_calibration;

	if (err && hv_acpi.fadt.pm_timer.address &&
	    hv_acpi.fadt.pm_timer.space_id == ACPI_SPACE_IO)
		err = tsc_calibrate_pm_timer((u16)hv_acpi.fadt.pm_timer.address,
					     hv_acpi.fadt.pm_timer_32bit);
	if (err)
		log_warn("clock: no PIT or PM timer to calibrate the TSC; timestamps are off");
	else
		log_info("clock: TSC runs at %llu kHz", (unsigned long long)(tsc_hz() / 1000));
	wall_clock_init();
}

u64 hv_unix_time_ns(void)
{
	return boot_unix_ns + tsc_uptime_ns();
}

/* ------------------------------------------------------------------ CPUs */

static struct percpu *percpu_create(u32 index, u32 apic_id)
{
	u8 *area = hv_alloc(PERCPU_AREA_SIZE, PAGE_SIZE, 0);
	struct percpu *cpu = (struct percpu *)area;
	u8 *stacks = area + PAGE_SIZE;

	_Static_assert(sizeof(struct percpu) <= PAGE_SIZE, "percpu fits its page");
	cpu->self = cpu;
	cpu->index = index;
	cpu->apic_id = apic_id;
	for (unsigned i = 0; i < IST_COUNT; i++)
		cpu->arch.ist_stacks[i] = (u64)(uintptr_t)(stacks + (i + 1) * IST_STACK_SIZE);
	cpu->stack_top = (u64)(uintptr_t)(stacks + IST_COUNT * IST_STACK_SIZE + CPU_STACK_SIZE);
	return cpu;
}

static void cpu_add(u32 apic_id)
{
	if (cpu_count == MAX_CPUS) {
		log_warn("cpu: more than %d CPUs; APIC ID %u is not used", MAX_CPUS, apic_id);
		return;
	}
	cpus[cpu_count] = percpu_create(cpu_count, apic_id);
	cpu_count++;
}

/* The boot CPU is CPU 0; the others follow in MADT order or, on a machine without a MADT, in
 * the order the UEFI loader found them. Without either, the boot CPU runs alone. */
static void cpus_enumerate(u32 bsp_apic_id)
{
	cpus[cpu_count++] = percpu_create(0, bsp_apic_id);
	if (hv_acpi.cpu_count) {
		for (u32 i = 0; i < hv_acpi.cpu_count; i++) {
			const struct acpi_cpu *c = &hv_acpi.cpus[i];

			if (c->enabled && c->apic_id != bsp_apic_id)
				cpu_add(c->apic_id);
		}
	} else if (boot->cpu_count) {
		log_warn("cpu: no ACPI MADT; using the %u CPUs the firmware reported at boot",
			 boot->cpu_count);
		for (u32 i = 0; i < boot->cpu_count && i < BOOT_MAX_CPUS; i++)
			if (boot->cpu_apic_ids[i] != bsp_apic_id)
				cpu_add(boot->cpu_apic_ids[i]);
	} else {
		log_warn("cpu: neither ACPI nor the firmware lists the CPUs; only the boot CPU runs");
	}
	if (hv_config.debug_phantom_cpu >= 0 && cpu_count < MAX_CPUS) {
		/* Test hook: a CPU the MADT does not have, to exercise the no-answer path. */
		cpus[cpu_count] = percpu_create(cpu_count, (u32)hv_config.debug_phantom_cpu);
		cpu_count++;
	}
}

static void cpu_self_test_fault(struct percpu *cpu)
{
	if (hv_config.debug_fault_cpu == (s32)cpu->index) {
		log_info("cpu %u: raising #UD on purpose (debug_fault_cpu)", cpu->index);
		__asm__ volatile("ud2");
	}
}

/* An AP without work sleeps until another CPU puts a vCPU in its mailbox and wakes it. */
static NORETURN void ap_idle(struct percpu *cpu)
{
	for (;;) {
		struct vcpu *v;

		irq_disable();
		v = cpu->mailbox;
		if (v) {
			cpu->mailbox = NULL;
			vcpu_loop(v);
			continue;
		}
		/* STI's one-instruction shadow: the wake-up cannot slip in before HLT. */
		__asm__ volatile("sti; hlt" ::: "memory");
	}
}

static void virt_enable_here(struct percpu *cpu)
{
	if (virt && cpu->virt_cpu && virt->cpu_enable(cpu) != 0)
		log_err("cpu %u: cannot enable %s", cpu->index, virt->name);
}

static void ap_entry(struct percpu *cpu)
{
	cpu_enable_features();
	cpu_load_tables(cpu);
	lapic_enable();
	if (lapic_id() != cpu->apic_id)
		log_warn("cpu %u: expected APIC ID %u, found %u", cpu->index, cpu->apic_id,
			 lapic_id());
	virt_enable_here(cpu);
	/* Before reporting in: the boot CPU waits for this CPU's answer, so a fault report is
	 * complete before boot goes on. */
	cpu_self_test_fault(cpu);
	cpu->state = CPU_ONLINE;
	ap_idle(cpu);
}

static u32 cpus_start(void)
{
	u32 online = 1;

	if (smp_prepare_trampoline(boot->trampoline, read_cr3()) != 0) {
		log_err("cpu: no usable trampoline page below 1 MiB; only the boot CPU runs");
		return online;
	}
	for (u32 i = 1; i < cpu_count; i++) {
		if (smp_start_cpu(cpus[i], ap_entry) != 0) {
			log_err("cpu: APIC ID %u did not answer", cpus[i]->apic_id);
		} else if (cpus[i]->state == CPU_PARKED) {
			log_warn("cpu %u: APIC ID %u stopped by a fault while starting", i,
				 cpus[i]->apic_id);
		} else {
			online++;
			log_info("cpu %u: APIC ID %u online", i, cpus[i]->apic_id);
		}
	}
	return online;
}

static void bsp_init(void)
{
	struct hv_space_layout layout = {
		.phys_top = physical_top(),
		.text_start = (u64)(uintptr_t)_text,
		.text_end = (u64)(uintptr_t)_etext,
		.trampoline = boot->trampoline,
		.lapic_base = hv_acpi.lapic_address ? hv_acpi.lapic_address : LAPIC_DEFAULT_BASE,
	};
	u64 root;
	int err;

	lapic_choose_mode(layout.lapic_base);
	err = mmu_build_hv_space(&hv_pmm, &layout, &root);
	if (err)
		hv_panic("cannot build the hypervisor's page tables: %s", bh_strerror(err));
	idt_init();
	cpu_enable_features();
	mmu_activate(root);
	lapic_enable();
	cpus_enumerate(lapic_id());
	cpu_load_tables(cpus[0]);
	cpus[0]->state = CPU_ONLINE;
	log_info("cpu 0: APIC ID %u, %s mode, own page tables at 0x%llx", cpus[0]->apic_id,
		 lapic_x2apic() ? "x2APIC" : "xAPIC", (unsigned long long)root);
}

/* ------------------------------------------------------------------ virtualization */

static bool cpu_vendor_is(const char *vendor)
{
	struct cpuid_regs r = cpuid(0, 0);
	char id[13];

	memcpy(id, &r.ebx, 4);
	memcpy(id + 4, &r.edx, 4);
	memcpy(id + 8, &r.ecx, 4);
	id[12] = '\0';
	return !strcmp(id, vendor);
}

/* One backend for the whole machine, chosen from CPUID. */
static void virt_choose(void)
{
	char why[160] = "";

	if (cpu_vendor_is("AuthenticAMD") || cpu_vendor_is("HygonGenuine")) {
		if (svm_ops.probe(why, sizeof(why)) == 0)
			virt = &svm_ops;
	} else if (cpu_vendor_is("GenuineIntel")) {
		if (vmx_ops.probe(why, sizeof(why)) == 0)
			virt = &vmx_ops;
	} else {
		fmt_snprintf(why, sizeof(why), "unknown CPU vendor");
	}
	if (!virt) {
		log_err("virt: no virtualization backend: %s; partitions cannot run", why);
		return;
	}
	log_info("virt: %s", virt->name);
	for (u32 i = 0; i < cpu_count; i++)
		if (i != hv_config.service_cpu)
			virt->cpu_prepare(cpus[i]);
}

/* ------------------------------------------------------------------ partitions */

static s64 boot_file_size(void *ctx, const char *path)
{
	(void)ctx;
	for (u32 i = 0; i < boot->file_count; i++) {
		const struct boot_file *f = &boot->files[i];

		if (!strcmp(f->name, path))
			return f->error ? f->error : (s64)f->size;
	}
	return BH_ENOENT;
}

static void report_plan_errors(u32 first)
{
	u32 shown = MIN(hv_config.error_count, (u32)CFG_MAX_ERRORS);
	const char *cfg_name = boot->config_file >= 0 ? boot->files[boot->config_file].name
						      : "bulkhead.cfg";

	for (u32 i = first; i < shown; i++)
		log_err("%s:%u: %s", cfg_name, hv_config.errors[i].line, hv_config.errors[i].msg);
}

static void partitions_boot(void)
{
	struct plan_machine machine = {
		.cpu_count = cpu_count,
		.free_memory = pmm_total(&hv_pmm, PMM_FREE),
		.file_size = boot_file_size,
	};
	u32 errors_before = hv_config.error_count;
	u32 valid;

	if (!hv_config.partition_count)
		return;
	if (!virt) {
		log_err("partitions: none can start without a virtualization backend");
		for (u32 i = 0; i < hv_config.partition_count; i++)
			log_err("partition %s: refused: no virtualization backend",
				hv_config.partitions[i].name);
		return;
	}
	valid = plan_check(&hv_config, &machine);
	report_plan_errors(errors_before);
	log_info("partitions: %u configured, %u valid", hv_config.partition_count, valid);
	partitions_create();
}

/* ------------------------------------------------------------------ ready */

static void print_summary(u32 online)
{
	u64 kept = pmm_total(&hv_pmm, PMM_FIRMWARE) + pmm_total(&hv_pmm, PMM_ACPI_RECLAIM) +
		   pmm_total(&hv_pmm, PMM_ACPI_NVS);
	u64 ticks = ready_tsc - tsc_origin();
	u64 hz = tsc_hz() ? tsc_hz() : 1;

	log_info("summary: cpus %u/%u online", online, cpu_count);
	log_info("summary: memory hv-used %llu KiB, free %llu KiB, firmware-kept %llu KiB",
		 (unsigned long long)(pmm_total(&hv_pmm, PMM_HV) / KiB),
		 (unsigned long long)(pmm_total(&hv_pmm, PMM_FREE) / KiB),
		 (unsigned long long)(kept / KiB));
	log_info("summary: boot time %llu.%06llu s (entry to ready)",
		 (unsigned long long)(ticks / hz),
		 (unsigned long long)((ticks % hz) * 1000000 / hz));
}

/* CPU 0 after boot: the console (hv/console.c: the shell, partition consoles, their output) and
 * the partitions' timer-driven device interrupts. */
static void tick_devices(void)
{
	for (u32 i = 0; i < partition_count; i++)
		if (partitions[i]->state == PART_RUNNING)
			pdev_tick(partitions[i]);
}

static NORETURN void service_loop(void)
{
	console_start(&console, hv_config.console_hotkey);
	for (;;) {
		console_service(tick_devices);
		partition_lifecycle_poll(tsc_uptime_ns());
		cpu_relax();
	}
}

void hv_main(struct boot_info *info)
{
	u32 online;

	boot = info;
	hv_boot_info = info;
	tsc_set_origin(info->entry_tsc);
	pit_calibration = tsc_calibrate_pit(); /* first, so that log timestamps are right */
	load_config();
	uart_init(&console, hv_config.console_port, hv_config.baud);
	log_init(&console, hv_config.log_level);
	log_info("Bulkhead %s starting (loader: %s)", BULKHEAD_VERSION, info->loader);
	if (info->magic != BOOT_INFO_MAGIC)
		hv_panic("boot_info has a bad magic number 0x%x", info->magic);
	report_boot_files();
	if (hv_config.service_cpu != 0) {
		log_warn("config: service_cpu = %u is not supported yet; CPU 0 serves the console",
			 hv_config.service_cpu);
		hv_config.service_cpu = 0;
	}

	memory_map_init();
	acpi_init();
	clock_init();
	power_init(&hv_acpi);
	bsp_init();
	memory_reclaim_boot_services();
	virt_choose();

	online = cpus_start();
	log_info("bulkhead: %u/%u CPUs online", online, cpu_count);
	cpu_self_test_fault(cpus[0]);
	partitions_boot();
	ready_tsc = rdtsc();
	print_summary(online);
	log_info("bulkhead: ready");
	partitions_start();

	if (hv_config.poweroff_when_ready) {
		log_info("bulkhead: powering off (ACPI S5)");
		power_off();
		power_reset();
		cpu_park();
	}
	service_loop();
}
