/* The hypervisor shell (docs/console.md). The grammar is in shell_parse.c and the line editor
 * in lib/ledit.c; here are the commands. Each answers in text, or with --json in exactly one
 * line: {"ok":true,"command":NAME,...} or {"ok":false,"command":NAME,"error":TEXT}. Nothing
 * typed reaches a handler unchecked: the name and argument count are validated first, and
 * partition names are looked up, never trusted. */
#include "hv/shell.h"
#include "arch/tsc.h"
#include "boot/boot_info.h"
#include "drivers/power.h"
#include "hv/config.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/log.h"
#include "hv/partition.h"
#include "hv/percpu.h"
#include "hv/pmm.h"
#include "hv/shell_parse.h"
#include "hv/vcpu.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/json.h"
#include "lib/ledit.h"
#include "lib/string.h"

#define ANSWER_MAX (32 * KiB)
#define LOG_LINES_DEFAULT 20
#define LOG_LINES_MAX 500
#define SAY_MAX 512

extern struct percpu *cpus[];
extern u32 cpu_count;
extern struct boot_info *hv_boot_info;

static struct ledit editor;
static char answer[ANSWER_MAX];
static char log_copy[LOG_RING_SIZE];

/* ------------------------------------------------------------------ output */

void shell_prompt(void)
{
	char line[sizeof(SHELL_PROMPT) + LEDIT_LINE_MAX];
	u32 len;
	const char *typed = ledit_current(&editor, &len);
	int n = fmt_snprintf(line, sizeof(line), "%s%.*s", SHELL_PROMPT, (int)len, typed);

	wire_write(WIRE_PROMPT, line, (size_t)MIN((size_t)n, sizeof(line) - 1));
}

/* One line of a text answer. */
static void PRINTF_LIKE(1, 2) say(const char *fmt, ...)
{
	char line[SAY_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	n = MIN(n, (int)sizeof(line) - 2);
	line[n++] = '\n';
	wire_write(WIRE_LINES, line, (size_t)n);
}

static void send_json_line(const char *text)
{
	size_t n = strlen(text);

	/* The answer buffer keeps room for the newline. */
	answer[n] = '\n';
	wire_write(WIRE_LINES, text, n + 1);
	answer[n] = '\0';
}

static void answer_error(const char *command, bool json, const char *why)
{
	struct json j;

	if (!json) {
		say("error: %s", why);
		return;
	}
	json_init(&j, answer, sizeof(answer) - 1);
	json_object_begin(&j);
	json_kv_bool(&j, "ok", false);
	json_kv_string(&j, "command", command);
	json_kv_string(&j, "error", why);
	json_object_end(&j);
	send_json_line(json_finish(&j));
}

/* ------------------------------------------------------------------ helpers */

static struct partition *find_partition(const char *name, char *why, size_t why_len)
{
	struct partition *p = partition_find(name);

	if (!p)
		fmt_snprintf(why, why_len, "no partition named '%.40s' (see 'list')", name);
	return p;
}

static u64 uptime_ms(const struct partition *p)
{
	if (p->state != PART_RUNNING)
		return 0;
	return (tsc_uptime_ns() - p->started_ns) / 1000000;
}

static u64 exits_total(const struct partition *p)
{
	u64 total = 0;

	for (u32 v = 0; v < p->vcpu_count; v++)
		for (int r = 0; r < EXIT_REASON_COUNT; r++)
			total += p->vcpus[v].exits[r];
	return total;
}

static u64 exits_of(const struct partition *p, int reason)
{
	u64 count = 0;

	for (u32 v = 0; v < p->vcpu_count; v++)
		count += p->vcpus[v].exits[reason];
	return count;
}

/* "1-2,4" from the partition's CPU mask. */
static void cpu_list_text(u64 mask, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (u32 c = 0; c < 64 && n < size; c++) {
		u32 last = c;

		if (!(mask & (1ull << c)))
			continue;
		while (last + 1 < 64 && (mask & (1ull << (last + 1))))
			last++;
		n += (size_t)fmt_snprintf(out + n, size - n, last > c ? "%s%u-%u" : "%s%u",
					  n ? "," : "", c, last);
		c = last;
	}
	if (!out[0])
		fmt_snprintf(out, size, "-");
}

static void json_cpu_array(struct json *j, u64 mask)
{
	json_array_begin(j);
	for (u32 c = 0; c < 64; c++)
		if (mask & (1ull << c))
			json_u64(j, c);
	json_array_end(j);
}

static void uptime_text(u64 ms, char *out, size_t size)
{
	u64 s = ms / 1000;

	fmt_snprintf(out, size, "%llu:%02llu:%02llu", (unsigned long long)(s / 3600),
		     (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
}

/* ------------------------------------------------------------------ commands */

static int cmd_help(const struct shell_request *r, struct json *j, char *why, size_t why_len)
{
	(void)r, (void)why, (void)why_len;
	if (j) {
		json_key(j, "commands");
		json_array_begin(j);
		for (int i = 0; i < SHELL_CMD_COUNT; i++) {
			json_object_begin(j);
			json_kv_string(j, "name", shell_commands[i].name);
			json_kv_string(j, "args", shell_commands[i].args);
			json_kv_string(j, "summary", shell_commands[i].summary);
			json_object_end(j);
		}
		json_array_end(j);
		json_kv_string(j, "hotkey", console_hotkey_name());
		return 0;
	}
	for (int i = 0; i < SHELL_CMD_COUNT; i++) {
		char usage[40];

		fmt_snprintf(usage, sizeof(usage), "%s %s", shell_commands[i].name,
			     shell_commands[i].args);
		say("  %-18s %s", usage, shell_commands[i].summary);
	}
	say("Every command takes --json (one line of JSON). %s returns from a console. Keys: "
	    "Backspace, Up/Down for history, Ctrl-C clears the line.", console_hotkey_name());
	return 0;
}

static void list_json_partition(struct json *j, const struct partition *p)
{
	json_object_begin(j);
	json_kv_string(j, "name", p->cfg->name);
	json_kv_u64(j, "id", p->id);
	json_kv_string(j, "state", partition_state_name(p->state));
	json_key(j, "cpus");
	json_cpu_array(j, p->cfg->cpus);
	json_kv_u64(j, "memory_bytes", p->cfg->memory);
	json_kv_u64(j, "uptime_ms", uptime_ms(p));
	json_kv_u64(j, "restarts", p->restarts);
	json_kv_u64(j, "exits_per_s", console_exits_per_s(p));
	json_kv_u64(j, "exits_total", exits_total(p));
	json_object_end(j);
}

static int cmd_list(const struct shell_request *r, struct json *j, char *why, size_t why_len)
{
	(void)r, (void)why, (void)why_len;
	if (j) {
		json_key(j, "partitions");
		json_array_begin(j);
		for (u32 i = 0; i < partition_count; i++)
			list_json_partition(j, partitions[i]);
		json_array_end(j);
		return 0;
	}
	if (!partition_count) {
		say("no partitions are configured");
		return 0;
	}
	say("%-16s %-10s %-8s %8s %10s %8s %9s", "NAME", "STATE", "CPUS", "MEMORY", "UPTIME",
	    "RESTARTS", "EXITS/S");
	for (u32 i = 0; i < partition_count; i++) {
		const struct partition *p = partitions[i];
		char cpus_text[32], up[24];

		cpu_list_text(p->cfg->cpus, cpus_text, sizeof(cpus_text));
		uptime_text(uptime_ms(p), up, sizeof(up));
		say("%-16s %-10s %-8s %7lluM %10s %8u %9llu", p->cfg->name,
		    partition_state_name(p->state), cpus_text,
		    (unsigned long long)(p->cfg->memory / MiB),
		    p->state == PART_RUNNING ? up : "-", p->restarts,
		    (unsigned long long)console_exits_per_s(p));
	}
	return 0;
}

static int cmd_console(const struct shell_request *r, struct json *j, char *why,
		       size_t why_len)
{
	struct partition *p = find_partition(r->argv[0], why, why_len);

	if (!p)
		return BH_ENOENT;
	if (!p->console.buf) {
		fmt_snprintf(why, why_len, "partition %s was refused at boot and has no console",
			     p->cfg->name);
		return BH_EINVAL;
	}
	if (j) {
		json_kv_string(j, "name", p->cfg->name);
		json_kv_string(j, "hotkey", console_hotkey_name());
	}
	return 0; /* the dispatcher attaches once the answer is out */
}

static int cmd_lifecycle(const struct shell_request *r, struct json *j, char *why,
			 size_t why_len)
{
	struct partition *p = find_partition(r->argv[0], why, why_len);
	int err;

	if (!p)
		return BH_ENOENT;
	if (r->cmd == SHELL_START)
		err = partition_request_start(p, why, why_len);
	else if (r->cmd == SHELL_STOP)
		err = partition_request_stop(p, why, why_len);
	else
		err = partition_request_restart(p, why, why_len);
	if (err) {
		if (!why[0])
			fmt_snprintf(why, why_len, "%s", bh_strerror(err));
		return err;
	}
	if (j)
		json_kv_string(j, "name", p->cfg->name);
	else
		say("partition %s: %s requested", p->cfg->name, shell_commands[r->cmd].name);
	return 0;
}

/* ------------------------------------------------------------------ info */

static const char *const gpr_names[GPR_COUNT] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

static void info_json_failure(struct json *j, const struct partition *p)
{
	const struct vcpu_snapshot *s = &p->failure_regs;

	json_key(j, "last_failure");
	if (!p->last_failure[0]) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	json_kv_string(j, "why", p->last_failure);
	if (s->valid) {
		json_kv_u64(j, "vcpu", s->vcpu);
		json_kv_u64(j, "cpu", s->cpu);
		json_kv_u64(j, "time_ms", s->when_ns / 1000000);
		json_key(j, "registers");
		json_object_begin(j);
		json_kv_hex(j, "rip", s->regs.rip);
		json_kv_hex(j, "rflags", s->regs.rflags);
		for (int g = 0; g < GPR_COUNT; g++)
			json_kv_hex(j, gpr_names[g], s->regs.gpr[g]);
		json_kv_hex(j, "cr0", s->sregs.cr0);
		json_kv_hex(j, "cr2", s->sregs.cr2);
		json_kv_hex(j, "cr3", s->sregs.cr3);
		json_kv_hex(j, "cr4", s->sregs.cr4);
		json_kv_hex(j, "efer", s->sregs.efer);
		json_kv_hex(j, "cs", s->sregs.cs_sel);
		json_kv_u64(j, "cpl", s->sregs.cpl);
		json_object_end(j);
	}
	json_object_end(j);
}

static void info_json(struct json *j, const struct partition *p)
{
	const struct cfg_partition *c = p->cfg;

	json_kv_string(j, "name", c->name);
	json_kv_u64(j, "id", p->id);
	json_kv_string(j, "state", partition_state_name(p->state));
	json_key(j, "cpus");
	json_cpu_array(j, c->cpus);
	json_kv_u64(j, "memory_bytes", c->memory);
	json_kv_hex(j, "ram_host_address", p->ram_hpa);
	json_kv_string(j, "kernel", c->kernel.path);
	json_kv_string(j, "cmdline", c->cmdline);
	json_kv_string(j, "initrd", c->initrd.path);
	json_key(j, "modules");
	json_array_begin(j);
	for (u32 m = 0; m < c->module_count; m++)
		json_string(j, c->modules[m].path);
	json_array_end(j);
	json_kv_string(j, "on_crash", c->on_crash == CFG_ON_CRASH_RESTART ? "restart" : "stop");
	json_kv_bool(j, "pc_platform", p->pc_platform);
	json_kv_u64(j, "uptime_ms", uptime_ms(p));
	json_kv_u64(j, "restarts", p->restarts);
	json_kv_u64(j, "blocked_accesses", p->violations);
	json_kv_u64(j, "console_bytes", p->console.written);
	json_kv_u64(j, "exits_per_s", console_exits_per_s(p));
	json_kv_u64(j, "exits_total", exits_total(p));
	json_key(j, "exits");
	json_object_begin(j);
	for (int r = 0; r < EXIT_REASON_COUNT; r++)
		if (exits_of(p, r))
			json_kv_u64(j, exit_reason_name((enum exit_reason)r), exits_of(p, r));
	json_object_end(j);
	info_json_failure(j, p);
}

static void info_text_exits(const struct partition *p)
{
	char line[SAY_MAX];
	int n = 0;

	for (int r = 0; r < EXIT_REASON_COUNT && n < (int)sizeof(line); r++)
		if (exits_of(p, r))
			n += fmt_snprintf(line + n, sizeof(line) - (size_t)n, " %s=%llu",
					  exit_reason_name((enum exit_reason)r),
					  (unsigned long long)exits_of(p, r));
	say("  exits: total %llu, %llu/s;%s", (unsigned long long)exits_total(p),
	    (unsigned long long)console_exits_per_s(p), n ? line : " none");
}

static void info_text_failure(const struct partition *p)
{
	const struct vcpu_snapshot *s = &p->failure_regs;
	const u64 *g = s->regs.gpr;

	if (!p->last_failure[0]) {
		say("  last failure: none");
		return;
	}
	if (!s->valid) {
		say("  last failure: %s", p->last_failure);
		return;
	}
	say("  last failure at %llu.%03llu s on vCPU %u (CPU %u): %s",
	    (unsigned long long)(s->when_ns / 1000000000),
	    (unsigned long long)(s->when_ns / 1000000 % 1000), s->vcpu, s->cpu, p->last_failure);
	say("    RIP %016llx  RSP %016llx  RFLAGS %016llx  CS %04x CPL %u",
	    (unsigned long long)s->regs.rip, (unsigned long long)g[GPR_RSP],
	    (unsigned long long)s->regs.rflags, s->sregs.cs_sel, s->sregs.cpl);
	for (int i = 0; i < GPR_COUNT; i += 4)
		say("    %-3s %016llx  %-3s %016llx  %-3s %016llx  %-3s %016llx", gpr_names[i],
		    (unsigned long long)g[i], gpr_names[i + 1], (unsigned long long)g[i + 1],
		    gpr_names[i + 2], (unsigned long long)g[i + 2], gpr_names[i + 3],
		    (unsigned long long)g[i + 3]);
	say("    CR0 %016llx  CR2 %016llx  CR3 %016llx  CR4 %016llx  EFER %llx",
	    (unsigned long long)s->sregs.cr0, (unsigned long long)s->sregs.cr2,
	    (unsigned long long)s->sregs.cr3, (unsigned long long)s->sregs.cr4,
	    (unsigned long long)s->sregs.efer);
}

static void info_text(const struct partition *p)
{
	const struct cfg_partition *c = p->cfg;
	char cpus_text[32], up[24];

	cpu_list_text(c->cpus, cpus_text, sizeof(cpus_text));
	uptime_text(uptime_ms(p), up, sizeof(up));
	say("partition %s (id %u): %s, up %s, restarts %u", c->name, p->id,
	    partition_state_name(p->state), p->state == PART_RUNNING ? up : "-", p->restarts);
	say("  cpus %s, memory %lluM at host 0x%llx, on_crash %s%s", cpus_text,
	    (unsigned long long)(c->memory / MiB), (unsigned long long)p->ram_hpa,
	    c->on_crash == CFG_ON_CRASH_RESTART ? "restart" : "stop",
	    p->pc_platform ? ", virtual PC platform" : "");
	say("  kernel %s%s%s", c->kernel.path, c->cmdline[0] ? "  cmdline " : "", c->cmdline);
	if (c->initrd.path[0])
		say("  initrd %s", c->initrd.path);
	for (u32 m = 0; m < c->module_count; m++)
		say("  module %s %s", c->modules[m].path, c->modules[m].args);
	say("  blocked accesses %llu, console output %llu bytes",
	    (unsigned long long)p->violations, (unsigned long long)p->console.written);
	info_text_exits(p);
	info_text_failure(p);
}

static int cmd_info(const struct shell_request *r, struct json *j, char *why, size_t why_len)
{
	struct partition *p = find_partition(r->argv[0], why, why_len);

	if (!p)
		return BH_ENOENT;
	if (j)
		info_json(j, p);
	else
		info_text(p);
	return 0;
}

/* ------------------------------------------------------------------ log, cpus, mem, version */

/* The start of the last `lines` lines of text[0..n). */
static size_t last_lines_start(const char *text, size_t n, u32 lines)
{
	size_t i = n;

	if (i && text[i - 1] == '\n')
		i--;
	while (i > 0) {
		if (text[i - 1] == '\n' && --lines == 0)
			break;
		i--;
	}
	return i;
}

static int cmd_log(const struct shell_request *r, struct json *j, char *why, size_t why_len)
{
	u32 lines = LOG_LINES_DEFAULT;
	size_t n, at;

	if (r->argc && !shell_parse_uint(r->argv[0], 1, LOG_LINES_MAX, &lines)) {
		fmt_snprintf(why, why_len, "bad line count '%.20s' (1-%d)", r->argv[0],
			     LOG_LINES_MAX);
		return BH_EINVAL;
	}
	n = log_ring_read(log_copy, sizeof(log_copy));
	at = last_lines_start(log_copy, n, lines);
	if (j) {
		json_key(j, "lines");
		json_array_begin(j);
	}
	while (at < n) {
		const char *nl = memchr(log_copy + at, '\n', n - at);
		size_t len = nl ? (size_t)(nl - (log_copy + at)) : n - at;

		if (j)
			json_string_n(j, log_copy + at, len);
		else
			say("%.*s", (int)len, log_copy + at);
		at += len + 1;
	}
	if (j)
		json_array_end(j);
	return 0;
}

static const char *cpu_state_name(enum cpu_state s)
{
	static const char *const names[] = { "absent", "starting", "online", "parked",
					     "no-answer" };

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

/* The partition a CPU runs, or NULL. */
static const struct partition *cpu_owner(u32 index)
{
	for (u32 i = 0; i < partition_count; i++)
		for (u32 v = 0; v < partitions[i]->vcpu_count; v++)
			if (partitions[i]->vcpus[v].cpu->index == index)
				return partitions[i];
	return NULL;
}

static int cmd_cpus(const struct shell_request *r, struct json *j, char *why, size_t why_len)
{
	(void)r, (void)why, (void)why_len;
	if (j) {
		json_key(j, "cpus");
		json_array_begin(j);
	} else {
		say("%-4s %-8s %-10s %s", "CPU", "APIC ID", "STATE", "OWNER");
	}
	for (u32 i = 0; i < cpu_count; i++) {
		const struct partition *p = cpu_owner(i);
		const char *owner = p ? p->cfg->name : i == hv_config.service_cpu ?
				    "hypervisor (console)" : "unused";

		if (j) {
			json_object_begin(j);
			json_kv_u64(j, "cpu", i);
			json_kv_u64(j, "apic_id", cpus[i]->apic_id);
			json_kv_string(j, "state", cpu_state_name(cpus[i]->state));
			json_kv_string(j, "owner", owner);
			json_kv_bool(j, "partition", p != NULL);
			json_object_end(j);
		} else {
			say("%-4u %-8u %-10s %s", i, cpus[i]->apic_id, cpu_state_name(cpus[i]->state),
			    owner);
		}
	}
	if (j)
		json_array_end(j);
	return 0;
}

static int cmd_mem(const struct shell_request *r, struct json *j, char *why, size_t why_len)
{
	(void)r, (void)why, (void)why_len;
	if (j) {
		json_key(j, "kib");
		json_object_begin(j);
	}
	for (int k = 0; k < PMM_KIND_COUNT; k++) {
		u64 kib = pmm_total(&hv_pmm, (enum pmm_kind)k) / KiB;

		if (j)
			json_kv_u64(j, pmm_kind_name((enum pmm_kind)k), kib);
		else
			say("%-14s %10llu KiB", pmm_kind_name((enum pmm_kind)k),
			    (unsigned long long)kib);
	}
	if (j) {
		json_object_end(j);
		json_key(j, "partitions");
		json_array_begin(j);
	}
	for (u32 i = 0; i < partition_count; i++) {
		const struct partition *p = partitions[i];

		if (!p->ram_size)
			continue;
		if (j) {
			json_object_begin(j);
			json_kv_string(j, "name", p->cfg->name);
			json_kv_hex(j, "host_address", p->ram_hpa);
			json_kv_u64(j, "bytes", p->ram_size);
			json_object_end(j);
		} else {
			say("  %-16s %6lluM at host 0x%llx", p->cfg->name,
			    (unsigned long long)(p->ram_size / MiB), (unsigned long long)p->ram_hpa);
		}
	}
	if (j)
		json_array_end(j);
	return 0;
}

static int cmd_version(const struct shell_request *r, struct json *j, char *why,
		       size_t why_len)
{
	const char *backend = virt ? virt->name : "none";
	u64 up_ms = tsc_uptime_ns() / 1000000;

	(void)r, (void)why, (void)why_len;
	if (j) {
		json_kv_string(j, "version", BULKHEAD_VERSION);
		json_kv_string(j, "backend", backend);
		json_kv_string(j, "loader", hv_boot_info->loader);
		json_kv_u64(j, "uptime_ms", up_ms);
		json_kv_u64(j, "cpus", cpu_count);
		json_kv_u64(j, "partitions", partition_count);
		return 0;
	}
	say("Bulkhead %s, %s, loaded by %s, up %llu.%03llu s, %u CPUs, %u partitions",
	    BULKHEAD_VERSION, backend, hv_boot_info->loader, (unsigned long long)(up_ms / 1000),
	    (unsigned long long)(up_ms % 1000), cpu_count, partition_count);
	return 0;
}

static int cmd_power(const struct shell_request *r, struct json *j, char *why, size_t why_len)
{
	(void)r, (void)j, (void)why, (void)why_len;
	return 0; /* the dispatcher acts once the answer is out */
}

/* ------------------------------------------------------------------ dispatch */

typedef int (*command_fn)(const struct shell_request *r, struct json *j, char *why,
			  size_t why_len);

static const command_fn handlers[SHELL_CMD_COUNT] = {
	[SHELL_HELP] = cmd_help, [SHELL_LIST] = cmd_list, [SHELL_CONSOLE] = cmd_console,
	[SHELL_START] = cmd_lifecycle, [SHELL_STOP] = cmd_lifecycle,
	[SHELL_RESTART] = cmd_lifecycle, [SHELL_INFO] = cmd_info, [SHELL_LOG] = cmd_log,
	[SHELL_CPUS] = cmd_cpus, [SHELL_MEM] = cmd_mem, [SHELL_VERSION] = cmd_version,
	[SHELL_REBOOT] = cmd_power, [SHELL_POWEROFF] = cmd_power,
};

/* What a command does after its answer is on the wire; true if it gave the focus away. */
static bool after_answer(const struct shell_request *r)
{
	if (r->cmd == SHELL_CONSOLE) {
		console_attach(partition_find(r->argv[0]));
		return true;
	}
	if (r->cmd == SHELL_POWEROFF) {
		log_info("bulkhead: powering off (ACPI S5)");
		power_off();
		log_err("bulkhead: power-off did not work");
	} else if (r->cmd == SHELL_REBOOT) {
		log_info("bulkhead: resetting the machine");
		power_reset();
		log_err("bulkhead: reset did not work");
	}
	return false;
}

static bool run_json(const struct shell_request *r, const char *name)
{
	char why[160] = "";
	struct json j;
	const char *text;
	int err;

	json_init(&j, answer, sizeof(answer) - 1);
	json_object_begin(&j);
	json_kv_bool(&j, "ok", true);
	json_kv_string(&j, "command", name);
	err = handlers[r->cmd](r, &j, why, sizeof(why));
	json_object_end(&j);
	text = json_finish(&j);
	if (err) {
		answer_error(name, true, why);
		return false;
	}
	if (!text) {
		answer_error(name, true, "the answer does not fit in one line of the console; "
			     "ask for less (e.g. fewer log lines)");
		return false;
	}
	send_json_line(text);
	return after_answer(r);
}

static bool run_text(const struct shell_request *r, const char *name)
{
	char why[160] = "";
	int err = handlers[r->cmd](r, NULL, why, sizeof(why));

	if (err) {
		answer_error(name, false, why);
		return false;
	}
	return after_answer(r);
}

/* Runs one entered line; false when the shell gave the focus away (console NAME). */
static bool run_line(char *line)
{
	struct shell_request r;
	char why[160] = "";
	int err = shell_parse(line, &r, why, sizeof(why));

	if (err == BH_ENOENT)
		return true;
	if (err) {
		answer_error("?", r.json, why);
		return true;
	}
	if (r.json)
		return !run_json(&r, shell_commands[r.cmd].name);
	return !run_text(&r, shell_commands[r.cmd].name);
}

void shell_key(u8 c)
{
	static char line[LEDIT_LINE_MAX];
	struct ledit_echo echo;
	enum ledit_event ev;

	if (wire_prompt_lost(0))
		shell_prompt(); /* the echo continues a visible prompt */
	echo.len = 0;
	ev = ledit_feed(&editor, c, &echo);
	if (echo.len)
		wire_write(WIRE_ECHO, echo.buf, echo.len);
	if (ev == LEDIT_NONE)
		return;
	if (ev == LEDIT_LINE) {
		strlcpy(line, ledit_line(&editor), sizeof(line));
		if (!run_line(line))
			return;
	} else if (ev == LEDIT_OVERLONG) {
		say("error: the line is too long (at most %d characters); it was not run",
		    LEDIT_LINE_MAX - 1);
	}
	shell_prompt();
}
