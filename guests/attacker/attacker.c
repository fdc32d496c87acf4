/* attacker: a plain ELF64 kernel that tries, one way after another, to reach beyond its
 * partition, and prints one line per attempt:
 *   ATTACK <vector>: blocked (<how>)
 *   ATTACK <vector>: ESCAPED (<what it saw>)
 * then `ATTACK summary blocked=<b> escaped=<e>` and `ATTACK done`, and triple-faults.
 *
 * Every attempt runs under a guard that accepts any exception: an exception the attempt itself
 * does not expect ends it as `ESCAPED (unexpected vector N, ...)` and the next one starts. The
 * attacks that could take the whole machine down (IPIs, reset and power-off ports) come late, so
 * that a hypervisor which lets one through still leaves the earlier verdicts on the console, and
 * cr4-vmxe comes last (see attack_cpu.c).
 * The order, the vectors and what each checks: docs/test-guests.md. */
#include "attacker.h"

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS (1ull << 7)
#define PTE_UC (PTE_PCD | PTE_PWT) /* PAT entry 3: uncached with the power-on PAT */

#define MAP_LIMIT_MAX (64 * GiB)
#define PD_COUNT 64 /* enough 2 MiB-page directories for 64 GiB without 1 GiB pages */

struct target target;

static u64 pml4[512] __attribute__((aligned(4096)));
static u64 pdpt[512] __attribute__((aligned(4096)));
static u64 pds[PD_COUNT][512] __attribute__((aligned(4096)));
static u8 scratch_page[4096] __attribute__((aligned(4096)));
static volatile u32 scratch_word;

extern char __image_start[], __image_end[];

void guest_main(u64 info, u64 magic);

/* --- verdicts ----------------------------------------------------------------------------- */

static const char *current;
static bool verdict_given;
static u32 count_blocked, count_escaped, count_skipped;

static void verdict(const char *what, const char *fmt, va_list ap)
{
	verdict_given = true;
	con_printf("ATTACK %s: %s (", current, what);
	con_vprintf(fmt, ap);
	con_write(")\n");
}

void blocked(const char *fmt, ...)
{
	va_list ap;

	count_blocked++;
	va_start(ap, fmt);
	verdict("blocked", fmt, ap);
	va_end(ap);
}

void escaped(const char *fmt, ...)
{
	va_list ap;

	count_escaped++;
	va_start(ap, fmt);
	verdict("ESCAPED", fmt, ap);
	va_end(ap);
}

/* --- helpers shared by the attacks ---------------------------------------------------------- */

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

void spin_ms(u32 ms)
{
	u64 khz = cpu_tsc_khz();
	/* Without the timing leaf, assume 10 GHz: never too short. */
	u64 start = rdtsc(), cycles = (u64)ms * (khz ? khz : 10000000ull);
	u64 spins = (u64)ms * 2000000ull; /* in case the TSC stands still */

	while (rdtsc() - start < cycles && spins--)
		cpu_relax();
}

struct msr_op {
	u32 msr;
	u64 value;
};

static void do_rdmsr(void *arg)
{
	struct msr_op *op = arg;
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(op->msr));
	op->value = ((u64)hi << 32) | lo;
}

static void do_wrmsr(void *arg)
{
	struct msr_op *op = arg;

	__asm__ volatile("wrmsr"
			 : : "c"(op->msr), "a"((u32)op->value), "d"((u32)(op->value >> 32))
			 : "memory");
}

int try_rdmsr(u32 msr, u64 *value)
{
	struct msr_op op = { msr, 0 };
	int v = guard_call(GUARD_VEC(VEC_GP), do_rdmsr, &op, NULL);

	*value = op.value;
	return v;
}

int try_wrmsr(u32 msr, u64 value)
{
	struct msr_op op = { msr, value };

	return guard_call(GUARD_VEC(VEC_GP), do_wrmsr, &op, NULL);
}

/* --- running the attacks -------------------------------------------------------------------- */

static char skip_list[512];

/* `skip=a,b` on the command line: attacks whose names start with a or b are not run (a way to
 * bisect a hypervisor that dies on one). Each prints `ATTACK <vector>: skipped`. */
static bool skipped(const char *name)
{
	const char *p = skip_list;

	while (*p) {
		size_t n = 0;

		while (p[n] && p[n] != ',')
			n++;
		if (n && !memcmp(name, p, n))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

static void call_attack(void *arg)
{
	((const struct attack *)arg)->run();
}

static void run_attacks(const struct attack *list)
{
	for (; list->name; list++) {
		struct trap_info f;
		int v;

		current = list->name;
		if (skipped(list->name)) {
			count_skipped++;
			con_printf("ATTACK %s: skipped\n", list->name);
			continue;
		}
		verdict_given = false;
		v = guard_call(GUARD_ANY, call_attack, (void *)list, &f);
		if (v >= 0)
			escaped("unexpected vector %d, rip 0x%llx, error 0x%llx, cr2 0x%llx", v,
				(unsigned long long)f.rip, (unsigned long long)f.error,
				(unsigned long long)f.cr2);
		else if (!verdict_given)
			escaped("no verdict: attacker bug");
	}
}

/* --- boot information and page tables -------------------------------------------------------- */

struct boot {
	u64 info, magic;
	bool ok;
	u64 ram_end;
	char name[64];
};

/* Under a guard: a bad pointer from the loader must not kill the attacker before it starts. */
static void read_boot_info(void *arg)
{
	struct boot *b = arg;
	struct mb2_mmap_entry e;
	bool grew = true;

	if (b->magic != MB2_BOOT_MAGIC || !mb2_check(b->info))
		return;
	b->ok = true;
	cmdline_name(mb2_cmdline(b->info), b->name, sizeof(b->name));
	cmdline_get(mb2_cmdline(b->info), "skip", skip_list, sizeof(skip_list));
	/* The end of RAM: the highest end of an entry that is RAM (available, ACPI, NVS, bad), and
	 * of a reserved entry that starts inside or right at the end of that (memory the loader
	 * kept for itself); a reserved entry further up would be a device window. */
	for (u32 i = 0; mb2_mmap_entry(b->info, i, &e); i++)
		if (e.type != MB2_MEMORY_RESERVED && e.length && e.length <= ~0ull - e.base &&
		    e.base + e.length > b->ram_end)
			b->ram_end = e.base + e.length;
	while (grew) {
		grew = false;
		for (u32 i = 0; mb2_mmap_entry(b->info, i, &e); i++) {
			if (e.type == MB2_MEMORY_RESERVED && e.length && e.length <= ~0ull - e.base &&
			    e.base <= b->ram_end &&
			    e.base + e.length > b->ram_end) {
				b->ram_end = e.base + e.length;
				grew = true;
			}
		}
	}
}

static u32 physical_address_bits(void)
{
	if (cpuid(0x80000000, 0).eax >= 0x80000008)
		return cpuid(0x80000008, 0).eax & 0xff;
	return 36;
}

static bool gib_pages_supported(void)
{
	return cpuid(0x80000000, 0).eax >= 0x80000001 && (cpuid(0x80000001, 0).edx & (1u << 26));
}

/* Identity map [0, limit): write-back where a page lies wholly inside RAM, uncached elsewhere
 * (MMIO probes); 1 GiB pages where the CPU has them, 2 MiB pages where RAM ends inside one. */
static void setup_paging(u64 cached_end, u64 limit, bool gib_pages)
{
	u32 next_pd = 0;

	for (u64 g = 0; g < limit / GiB; g++) {
		u64 base = g * GiB;

		if (gib_pages && (base + GiB <= cached_end || base >= cached_end)) {
			pdpt[g] = base | PTE_P | PTE_W | PTE_PS | (base >= cached_end ? PTE_UC : 0);
			continue;
		}
		for (u64 j = 0; j < 512; j++) {
			u64 a = base + j * 2 * MiB;

			pds[next_pd][j] = a | PTE_P | PTE_W | PTE_PS |
					  (a + 2 * MiB <= cached_end ? 0 : PTE_UC);
		}
		pdpt[g] = (u64)(uptr)pds[next_pd++] | PTE_P | PTE_W;
	}
	pml4[0] = (u64)(uptr)pdpt | PTE_P | PTE_W;
	__asm__ volatile("mov %0, %%cr3" : : "r"((u64)(uptr)pml4) : "memory");
}

void guest_main(u64 info, u64 magic)
{
	struct boot b = { .info = info, .magic = magic };
	u64 limit, cached_end;
	u32 phys_bits;
	char sig[13];
	int v;

	con_init();
	trap_init();

	v = guard_call(GUARD_ANY, read_boot_info, &b, NULL);
	if (!b.ok || !b.name[0])
		snformat(b.name, sizeof(b.name), "unknown");
	if (magic != MB2_BOOT_MAGIC)
		con_printf("ATTACK warning: boot magic 0x%llx, expected 0x%x\n",
			   (unsigned long long)magic, MB2_BOOT_MAGIC);
	else if (!b.ok || v >= 0)
		con_printf("ATTACK warning: boot information at 0x%llx is unusable%s\n",
			   (unsigned long long)info, v >= 0 ? " (it faulted)" : "");

	phys_bits = physical_address_bits();
	limit = phys_bits >= 36 ? MAP_LIMIT_MAX : 1ull << phys_bits;
	if (limit < 4 * GiB)
		limit = 4 * GiB;
	/* Without a memory map, cache only what is surely ours: the image, 2 MiB aligned. */
	cached_end = b.ram_end ? b.ram_end : (((u64)(uptr)__image_end + 2 * MiB - 1) & ~(2 * MiB - 1));
	setup_paging(cached_end, limit, gib_pages_supported());

	target.ram_end = b.ram_end;
	target.map_limit = limit;
	target.scratch = (u64)(uptr)scratch_page;
	target.scratch_word = (u64)(uptr)&scratch_word;

	cpu_hypervisor_signature(sig);
	con_printf("ATTACK start name=%s ram=0x%llx cpuid-hv=%s phys-bits=%u mapped=0x%llx\n",
		   b.name, (unsigned long long)b.ram_end, sig, phys_bits,
		   (unsigned long long)limit);

	run_attacks(cpu_attacks);
	run_attacks(msr_attacks);
	run_attacks(io_probe_attacks);
	run_attacks(mmio_probe_attacks);
	run_attacks(mem_sweep_attacks);
	run_attacks(ipi_attacks);
	run_attacks(power_attacks);
	run_attacks(cr4_attacks); /* last: on QEMU's TCG it can end the partition (attack_cpu.c) */

	con_printf("ATTACK summary blocked=%u escaped=%u skipped=%u\n", count_blocked,
		   count_escaped, count_skipped);
	con_printf("ATTACK done\n");
	triple_fault();
}
