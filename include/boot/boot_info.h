/* What a boot path hands to hv_main. Filled by boot/efi (UEFI) or boot/multiboot2 (GRUB); nothing
 * in it is UEFI-specific, and after hv_main starts no firmware service is ever called. */
#ifndef BH_BOOT_BOOT_INFO_H
#define BH_BOOT_BOOT_INFO_H

#include "types.h"

#define BOOT_INFO_MAGIC 0x424b4849u /* "IHKB" */
#define BOOT_MAX_MEM 512
#define BOOT_MAX_FILES 32
#define BOOT_NAME_MAX 128
#define BOOT_CMDLINE_MAX 256
#define BOOT_MAX_CPUS 64

enum boot_mem_type {
	BOOT_MEM_USABLE = 1,   /* free RAM */
	BOOT_MEM_LOADER,       /* RAM holding the hypervisor image, boot_info and loaded files */
	BOOT_MEM_RESERVED,     /* firmware reserved RAM, runtime services */
	BOOT_MEM_MMIO,         /* device registers listed by firmware: not RAM */
	BOOT_MEM_ACPI_RECLAIM, /* ACPI tables */
	BOOT_MEM_ACPI_NVS,
	BOOT_MEM_UNUSABLE,     /* defective RAM */
	BOOT_MEM_BOOT_RECLAIM, /* firmware boot-time memory: free once the hypervisor runs on its
				* own page tables, descriptor tables and stack */
};

struct boot_mem_region {
	u64 base;
	u64 size;
	u32 type; /* enum boot_mem_type */
};

/* A file the loader read from the boot medium (UEFI) or a module GRUB loaded (multiboot2). */
struct boot_file {
	char name[BOOT_NAME_MAX]; /* path as named in the config, or the module string */
	u64 addr;                 /* physical address, 4 KiB aligned */
	u64 size;                 /* bytes; 0 with error set when it could not be read */
	s32 error;                /* 0, or a BH_E* code: the hypervisor reports it by name */
};

struct boot_info {
	u32 magic;
	char loader[16];           /* "uefi" or "multiboot2" */
	char cmdline[BOOT_CMDLINE_MAX];
	u64 entry_tsc;             /* TSC when firmware handed over, for the boot-time summary */
	u64 rsdp;                  /* physical address of the ACPI RSDP, 0 if none */
	u64 image_base;            /* where the hypervisor image is loaded */
	u64 image_size;
	u64 trampoline;            /* a free page below 1 MiB reserved for AP start-up, 0 if none */
	u64 boot_stack_top;        /* the stack hv_main runs on (in BOOT_MEM_LOADER memory) */

	/* APIC IDs of the enabled CPUs as the firmware found them (UEFI MP services), boot CPU
	 * first. Used only when ACPI has no MADT (OVMF under Bochs publishes no ACPI tables);
	 * cpu_count 0 when the loader could not tell. */
	u32 cpu_count;
	u32 cpu_apic_ids[BOOT_MAX_CPUS];

	u32 mem_count;
	struct boot_mem_region mem[BOOT_MAX_MEM];

	s32 config_file;           /* index into files[] of the configuration, -1 if none */
	u32 file_count;
	struct boot_file files[BOOT_MAX_FILES];
};

/* The hypervisor's entry: called once, on the boot CPU, with interrupts disabled, the firmware's
 * identity-mapped page tables still loaded, and no firmware service usable anymore. */
NORETURN void hv_main(struct boot_info *info);

#endif
