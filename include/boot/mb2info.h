/* The multiboot2 boot path's translation of GRUB's boot information into struct boot_info.
 * Pure functions: they read the information structure from a buffer and never touch the memory
 * it describes, so they are unit-tested on the host with crafted and broken tag lists
 * (tests/unit/test_mb2info.c). boot/multiboot2/mb2_main.c calls them on the real thing.
 *
 * Names. GRUB names nothing by itself: each module's string (the words after the file name in
 * `module2 FILE STRING`) names it. A module's name is the first word of its string, e.g.
 * `module2 /guests/hello.elf guests/hello.elf` is the file `guests/hello.elf`. The configuration
 * is the module named `bulkhead.cfg` (or the name given by `config=NAME` on the multiboot2 command
 * line). Each path the configuration names is then matched to a module the way the UEFI loader
 * finds it on the FAT volume: a leading `/` or `\` does not matter, `/` and `\` are the same, and
 * case does not matter. The file is recorded under the configuration's own spelling, so that
 * the hypervisor finds it; a path no module matches is recorded as not found (BH_ENOENT). */
#ifndef BH_BOOT_MB2INFO_H
#define BH_BOOT_MB2INFO_H

#include "boot/boot_info.h"
#include "hv/config.h"

#define MB2_DEFAULT_CONFIG "bulkhead.cfg"
/* The AP start-up page is taken below this address (clear of the EBDA), as the UEFI loader does. */
#define MB2_TRAMPOLINE_LIMIT 0x9f000ull

#define MB2_MAX_NOTES 8
#define MB2_NOTE_MAX 120

/* What the loader should tell the operator: problems the parser worked around. */
struct mb2_notes {
	u32 count;    /* may exceed MB2_MAX_NOTES; only that many are kept */
	char text[MB2_MAX_NOTES][MB2_NOTE_MAX];
};

/* Where things are: the information structure and the hypervisor's own image in memory. */
struct mb2_where {
	u64 mbi_phys;     /* physical address of the information structure */
	u64 image_start;  /* the hypervisor image, bss included: [start, end) */
	u64 image_end;
};

/* Fills *info (all of it is overwritten) from the information structure at `mbi`, of which
 * `avail` bytes may be read: loader name, command line, ACPI RSDP (the physical address of the
 * copy inside the structure; ACPI 2.0 preferred), modules as files[] named by their strings,
 * the configuration module, and the memory map: GRUB's map with the image, the information
 * structure and every module (whole pages) carved out as BOOT_MEM_LOADER, sorted, overlaps
 * resolved (the more restrictive type wins), usable RAM shrunk to whole pages. Also takes a
 * page below MB2_TRAMPOLINE_LIMIT for the AP trampoline (info->trampoline, 0 if none).
 * Returns 0, or BH_EINVAL when the structure cannot be used at all (bad size or alignment, no
 * memory information); problems it works around go to *notes. */
int mb2_parse(const void *mbi, u64 avail, const struct mb2_where *where, struct boot_info *info,
	      struct mb2_notes *notes);

/* Records every file the parsed configuration names under the configuration's spelling,
 * matching it to a module as described above; unmatched paths get error BH_ENOENT. */
void mb2_name_files(struct boot_info *info, const struct config *cfg, struct mb2_notes *notes);

/* Takes `pages` whole pages of usable RAM ending at or below `limit` (the highest that fit,
 * never page 0), marks them BOOT_MEM_LOADER in info->mem and stores their address in *addr.
 * Returns 0, or BH_ENOMEM when nothing fits or the map has no room to split a region. */
int mb2_take_pages(struct boot_info *info, u64 pages, u64 limit, u64 *addr);

/* True when the two paths name the same file on the boot volume (see above). */
bool mb2_same_path(const char *a, const char *b);

/* Finds the firmware's own RSDP whose first `len` bytes equal `copy` in a memory area (the
 * BIOS areas where ACPI requires it: 16-byte aligned), given as `area` mapped from physical
 * address `phys`. Returns its physical address, or 0. */
u64 mb2_find_rsdp(const void *area, u64 phys, u64 size, const void *copy, u64 len);

#endif
