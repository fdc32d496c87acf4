/* The configuration file: global settings and one section per partition. Pure parser, shared by
 * the hypervisor, the UEFI loader (to learn which files to read) and tools/bulkhead-check.
 * Format: docs/config.md. Every problem is recorded as `line: message`; parsing goes on so that
 * one run reports every mistake, and a partition with an error is marked invalid. */
#ifndef BH_HV_CONFIG_H
#define BH_HV_CONFIG_H

#include "types.h"

#define CFG_MAX_PARTITIONS 16
#define CFG_MAX_MODULES 8
#define CFG_MAX_ERRORS 32
#define CFG_NAME_MAX 32
#define CFG_PATH_MAX 128
#define CFG_CMDLINE_MAX 512
#define CFG_MSG_MAX 128
#define CFG_WATCHDOG_MAX_S 86400

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };
enum cfg_on_crash { CFG_ON_CRASH_STOP = 0, CFG_ON_CRASH_RESTART };

struct cfg_file {
	char path[CFG_PATH_MAX];    /* on the boot volume; empty when not given */
	char args[CFG_CMDLINE_MAX]; /* module arguments (the rest of the line) */
	u32 line;
};

struct cfg_partition {
	char name[CFG_NAME_MAX];
	u32 line;                   /* of its [partition NAME] header */
	bool valid;                 /* false once any of its lines had an error */
	u64 cpus;                   /* bit n: logical CPU n (MADT order, 0 = boot CPU) */
	u32 cpus_line;
	u64 memory;                 /* bytes */
	u32 memory_line;
	struct cfg_file kernel;
	char cmdline[CFG_CMDLINE_MAX];
	struct cfg_file initrd;
	u32 module_count;
	struct cfg_file modules[CFG_MAX_MODULES];
	enum cfg_on_crash on_crash;
	u32 watchdog_s;             /* silent this long on its console: it failed (0: never) */
};

struct cfg_error {
	u32 line;                   /* 0: not tied to a line */
	char msg[CFG_MSG_MAX];
};

struct config {
	/* global settings */
	u16 console_port;
	u32 baud;
	enum log_level log_level;
	bool poweroff_when_ready;
	u32 service_cpu;
	u8 console_hotkey;      /* the control code that returns from a partition's console */
	/* Test hooks (docs/config.md): -1 when unset. */
	s32 debug_fault_cpu;    /* this CPU raises #UD once online */
	s32 debug_phantom_cpu;  /* also try to start this APIC ID, which the MADT lacks */

	u32 partition_count;
	struct cfg_partition partitions[CFG_MAX_PARTITIONS];

	u32 error_count;            /* may exceed CFG_MAX_ERRORS; only the first are kept */
	struct cfg_error errors[CFG_MAX_ERRORS];
};

/* Fills *cfg with defaults, then applies `text` (not necessarily NUL-terminated). Returns the
 * number of errors found (0 = clean). */
u32 config_parse(struct config *cfg, const char *text, size_t len);

/* Appends an error `line: message` to cfg->errors (counted even when the table is full). Shared
 * with the partition plan; the caller marks the partition concerned invalid. */
void config_error(struct config *cfg, u32 line, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* Defaults only: COM1, 115200 baud, log level info, no power-off, service CPU 0, Ctrl-\. */
void config_defaults(struct config *cfg);

/* Calls fn for every file the configuration names (kernels, initrds, modules). */
void config_for_each_file(const struct config *cfg,
			  void (*fn)(const struct cfg_file *file, void *ctx), void *ctx);

const char *log_level_name(enum log_level level);

#endif
