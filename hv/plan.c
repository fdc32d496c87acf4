/* The partition plan: a parsed configuration checked against the machine and the boot files.
 * Partitions are taken in file order. Each one that parsed cleanly is checked for its required
 * keys, its CPUs (service CPU, existence, conflicts with earlier partitions) and its files; one
 * that passes all of that gets its memory if enough is left. */
#include "hv/plan.h"
#include "lib/error.h"
#include "lib/format.h"

#define MAX_CPUS 64
#define NO_OWNER 0xff

/* "3", "2-5", "1,4-6": the CPUs of mask, into buf. */
static const char *cpu_list(char *buf, size_t size, u64 mask)
{
	size_t len = 0;

	buf[0] = '\0';
	for (u32 c = 0; c < MAX_CPUS; c++) {
		u32 last = c;

		if (!(mask & (1ULL << c)))
			continue;
		while (last + 1 < MAX_CPUS && (mask & (1ULL << (last + 1))))
			last++;
		if (len < size) {
			const char *sep = len ? "," : "";

			if (last == c)
				len += (size_t)fmt_snprintf(buf + len, size - len, "%s%u", sep, c);
			else
				len += (size_t)fmt_snprintf(buf + len, size - len, "%s%u-%u", sep, c,
							    last);
		}
		c = last;
	}
	return buf;
}

static u32 popcount64(u64 v)
{
	u32 n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

/* "(this machine has 4 CPUs: 0-3)" */
static const char *machine_cpus(char *buf, size_t size, u32 count)
{
	if (count == 1)
		fmt_snprintf(buf, size, "this machine has 1 CPU: 0");
	else
		fmt_snprintf(buf, size, "this machine has %u CPUs: 0-%u", count, count - 1);
	return buf;
}

static void check_cpus(struct config *cfg, u32 index, const struct plan_machine *m,
		       u8 owner[MAX_CPUS])
{
	struct cfg_partition *part = &cfg->partitions[index];
	u64 cpus = part->cpus;
	char list[96], have[48];

	if (cfg->service_cpu < MAX_CPUS && (cpus & (1ULL << cfg->service_cpu))) {
		part->valid = false;
		config_error(cfg, part->cpus_line,
			     "CPU %u is the service CPU and cannot be given to a partition",
			     cfg->service_cpu);
		cpus &= ~(1ULL << cfg->service_cpu);
	}
	if (m->cpu_count && m->cpu_count < MAX_CPUS) {
		u64 missing = cpus & ~((1ULL << m->cpu_count) - 1);

		if (missing) {
			bool one = popcount64(missing) == 1;

			part->valid = false;
			config_error(cfg, part->cpus_line, "CPU%s %s %s (%s)", one ? "" : "s",
				     cpu_list(list, sizeof(list), missing),
				     one ? "does not exist" : "do not exist",
				     machine_cpus(have, sizeof(have), m->cpu_count));
			cpus &= ~missing;
		}
	}
	/* Conflicts, one error per earlier partition concerned. */
	for (u32 other = 0; other < index; other++) {
		u64 taken = 0;

		for (u32 c = 0; c < MAX_CPUS; c++)
			if ((cpus & (1ULL << c)) && owner[c] == other)
				taken |= 1ULL << c;
		if (taken) {
			const struct cfg_partition *o = &cfg->partitions[other];
			bool one = popcount64(taken) == 1;

			part->valid = false;
			config_error(cfg, part->cpus_line,
				     "CPU%s %s %s already given to partition '%s' (line %u)",
				     one ? "" : "s", cpu_list(list, sizeof(list), taken),
				     one ? "is" : "are", o->name, o->cpus_line);
			cpus &= ~taken;
		}
	}
	for (u32 c = 0; c < MAX_CPUS; c++)
		if (cpus & (1ULL << c))
			owner[c] = (u8)index;
}

static void check_file(struct config *cfg, struct cfg_partition *part,
		       const struct plan_machine *m, const struct cfg_file *f, const char *what,
		       bool must_have_bytes)
{
	s64 size;

	if (!f->path[0])
		return;
	size = m->file_size(m->ctx, f->path);
	if (size == BH_ENOENT)
		config_error(cfg, f->line, "%s '%s' not found", what, f->path);
	else if (size < 0)
		config_error(cfg, f->line, "%s '%s' cannot be read (%s)", what, f->path,
			     bh_strerror((int)size));
	else if (size == 0 && must_have_bytes)
		config_error(cfg, f->line, "%s '%s' is empty", what, f->path);
	else
		return;
	part->valid = false;
}

u32 plan_check(struct config *cfg, const struct plan_machine *machine)
{
	u8 owner[MAX_CPUS];
	u64 left = machine->free_memory;
	u32 valid = 0;
	char have[48];

	for (u32 c = 0; c < MAX_CPUS; c++)
		owner[c] = NO_OWNER;
	if (machine->cpu_count && cfg->service_cpu >= machine->cpu_count)
		config_error(cfg, 0, "service CPU %u does not exist (%s)", cfg->service_cpu,
			     machine_cpus(have, sizeof(have), machine->cpu_count));

	for (u32 i = 0; i < cfg->partition_count; i++) {
		struct cfg_partition *part = &cfg->partitions[i];

		if (!part->valid)
			continue; /* its parse errors are reported already */
		if (!part->cpus)
			config_error(cfg, part->line, "no 'cpus' for partition '%s'", part->name);
		if (!part->memory)
			config_error(cfg, part->line, "no 'memory' for partition '%s'", part->name);
		if (!part->kernel.path[0])
			config_error(cfg, part->line, "partition '%s' has no kernel", part->name);
		if (!part->cpus || !part->memory || !part->kernel.path[0])
			part->valid = false;
		if (part->cpus)
			check_cpus(cfg, i, machine, owner);
		if (machine->file_size) {
			check_file(cfg, part, machine, &part->kernel, "kernel", true);
			check_file(cfg, part, machine, &part->initrd, "initrd", false);
			for (u32 m = 0; m < part->module_count; m++)
				check_file(cfg, part, machine, &part->modules[m], "module", false);
		}
		if (!part->valid || !machine->free_memory)
			continue;
		if (part->memory > left) {
			part->valid = false;
			config_error(cfg, part->memory_line,
				     "memory over-committed: partition '%s' needs %llu MiB, only "
				     "%llu MiB left of %llu MiB free", part->name,
				     (unsigned long long)(part->memory / MiB),
				     (unsigned long long)(left / MiB),
				     (unsigned long long)(machine->free_memory / MiB));
			continue;
		}
		left -= part->memory;
	}
	for (u32 i = 0; i < cfg->partition_count; i++)
		valid += cfg->partitions[i].valid;
	return valid;
}
