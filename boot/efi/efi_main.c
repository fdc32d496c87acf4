/* UEFI entry: reads the configuration and the files it names from the volume this application
 * was loaded from, collects the memory map, the ACPI root and the command line into struct
 * boot_info, reserves a low page for the AP trampoline, exits boot services and enters hv_main on
 * a stack of its own. Nothing after ExitBootServices calls the firmware. */
#include <efi.h>

#include "boot/boot_info.h"
#include "hv/config.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/string.h"

#define DEFAULT_CONFIG_PATH "\\bulkhead.cfg"
#define BOOT_STACK_SIZE (64 * KiB)
#define CONFIG_MAX_SIZE (1 * MiB)

struct loader {
	EFI_HANDLE image;
	EFI_SYSTEM_TABLE *st;
	EFI_BOOT_SERVICES *bs;
	EFI_FILE_HANDLE root;
	struct boot_info *info;
	struct config cfg;
};

static EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID file_system_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
static EFI_GUID file_info_guid = EFI_FILE_INFO_ID;
static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;

/* EFI_MP_SERVICES_PROTOCOL (UEFI PI specification, volume 2); gnu-efi does not define it. Only
 * the two queries are used; the other members are never called. */
#define MP_SERVICES_GUID \
	{ 0x3fdda605, 0xa76e, 0x4f46, { 0xad, 0x29, 0x12, 0xf4, 0x53, 0x1b, 0x3d, 0x08 } }
#define MP_STATUS_BSP     (1u << 0)
#define MP_STATUS_ENABLED (1u << 1)

struct mp_processor_info {
	UINT64 processor_id; /* the APIC ID */
	UINT32 status_flag;
	UINT32 location[3];
	UINT32 location2[6]; /* written only when asked for with bit 24 of the number */
};

struct mp_services {
	EFI_STATUS (EFIAPI *get_number_of_processors)(struct mp_services *self, UINTN *total,
						       UINTN *enabled);
	EFI_STATUS (EFIAPI *get_processor_info)(struct mp_services *self, UINTN number,
						 struct mp_processor_info *info);
	void *startup_all_aps, *startup_this_ap, *switch_bsp, *enable_disable_ap, *who_am_i;
};

static EFI_GUID mp_services_guid = MP_SERVICES_GUID;

/* ------------------------------------------------------------------ console (before EBS) */

static void efi_puts(struct loader *ld, const char *s)
{
	CHAR16 buf[128];
	size_t n = 0;

	while (*s) {
		if (*s == '\n')
			buf[n++] = L'\r';
		buf[n++] = (CHAR16)(u8)*s++;
		if (n >= ARRAY_SIZE(buf) - 3 || !*s) {
			buf[n] = 0;
			ld->st->ConOut->OutputString(ld->st->ConOut, buf);
			n = 0;
		}
	}
}

static void PRINTF_LIKE(2, 3) efi_printf(struct loader *ld, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	efi_puts(ld, line);
}

static const char *efi_status_name(EFI_STATUS s)
{
	switch (s) {
	case EFI_NOT_FOUND: return "not found";
	case EFI_OUT_OF_RESOURCES: return "out of memory";
	case EFI_DEVICE_ERROR: return "device error";
	case EFI_ACCESS_DENIED: return "access denied";
	case EFI_VOLUME_CORRUPTED: return "volume corrupted";
	case EFI_UNSUPPORTED: return "unsupported";
	case EFI_INVALID_PARAMETER: return "invalid parameter";
	case EFI_BUFFER_TOO_SMALL: return "buffer too small";
	default: return "error";
	}
}

static s32 efi_status_to_error(EFI_STATUS s)
{
	switch (s) {
	case EFI_NOT_FOUND: return BH_ENOENT;
	case EFI_OUT_OF_RESOURCES: return BH_ENOMEM;
	default: return BH_EINVAL;
	}
}

/* ------------------------------------------------------------------ files */

/* "/a/b" and "a\b" both become "\a\b" in UCS-2. */
static void path_to_efi(const char *path, CHAR16 *out, size_t max)
{
	size_t n = 0;

	if (path[0] != '/' && path[0] != '\\')
		out[n++] = L'\\';
	for (; *path && n < max - 1; path++)
		out[n++] = *path == '/' ? L'\\' : (CHAR16)(u8)*path;
	out[n] = 0;
}

static EFI_STATUS file_size(struct loader *ld, EFI_FILE_HANDLE fh, u64 *size)
{
	u8 buf[sizeof(EFI_FILE_INFO) + 512];
	UINTN len = sizeof(buf);
	EFI_STATUS s = fh->GetInfo(fh, &file_info_guid, &len, buf);

	(void)ld;
	if (EFI_ERROR(s))
		return s;
	*size = ((EFI_FILE_INFO *)buf)->FileSize;
	return EFI_SUCCESS;
}

/* Reads a whole file into page-aligned loader memory and records it in boot_info. A failure is
 * recorded too (size 0, error set), so the hypervisor can report the file by name. */
static struct boot_file *load_file(struct loader *ld, const char *path, u64 max_size)
{
	struct boot_info *info = ld->info;
	CHAR16 wpath[BOOT_NAME_MAX + 2];
	EFI_FILE_HANDLE fh = NULL;
	EFI_PHYSICAL_ADDRESS addr = 0;
	struct boot_file *bf;
	u64 size = 0;
	EFI_STATUS s;

	for (u32 i = 0; i < info->file_count; i++)
		if (!strcmp(info->files[i].name, path))
			return &info->files[i]; /* named twice: read once */
	if (info->file_count == BOOT_MAX_FILES) {
		efi_printf(ld, "bulkhead: too many files, '%s' not loaded\n", path);
		return NULL;
	}
	bf = &info->files[info->file_count++];
	strlcpy(bf->name, path, sizeof(bf->name));

	path_to_efi(path, wpath, ARRAY_SIZE(wpath));
	s = ld->root->Open(ld->root, &fh, wpath, EFI_FILE_MODE_READ, 0);
	if (!EFI_ERROR(s))
		s = file_size(ld, fh, &size);
	if (!EFI_ERROR(s) && size > max_size)
		s = EFI_BUFFER_TOO_SMALL;
	if (!EFI_ERROR(s) && size)
		s = ld->bs->AllocatePages(AllocateAnyPages, EfiLoaderData,
					  EFI_SIZE_TO_PAGES(size), &addr);
	if (!EFI_ERROR(s) && size) {
		UINTN got = size;

		s = fh->Read(fh, &got, (void *)(uintptr_t)addr);
		if (!EFI_ERROR(s) && got != size)
			s = EFI_DEVICE_ERROR;
	}
	if (fh)
		fh->Close(fh);
	if (EFI_ERROR(s)) {
		efi_printf(ld, "bulkhead: cannot read '%s': %s\n", path, efi_status_name(s));
		if (addr)
			ld->bs->FreePages(addr, EFI_SIZE_TO_PAGES(size));
		bf->error = efi_status_to_error(s);
		return bf;
	}
	bf->addr = addr;
	bf->size = size;
	return bf;
}

static void load_named_file(const struct cfg_file *f, void *ctx)
{
	load_file(ctx, f->path, ~0ULL);
}

static EFI_STATUS open_boot_volume(struct loader *ld, EFI_LOADED_IMAGE **li)
{
	EFI_FILE_IO_INTERFACE *fs;
	EFI_STATUS s;

	s = ld->bs->HandleProtocol(ld->image, &loaded_image_guid, (void **)li);
	if (EFI_ERROR(s))
		return s;
	s = ld->bs->HandleProtocol((*li)->DeviceHandle, &file_system_guid, (void **)&fs);
	if (EFI_ERROR(s))
		return s;
	return fs->OpenVolume(fs, &ld->root);
}

/* ------------------------------------------------------------------ boot_info pieces */

/* Load options are UCS-2; keep the ASCII subset. "config=PATH" picks another config file. */
static void copy_cmdline(struct loader *ld, EFI_LOADED_IMAGE *li)
{
	const CHAR16 *opt = li->LoadOptions;
	size_t n = li->LoadOptionsSize / sizeof(CHAR16), o = 0;
	char *out = ld->info->cmdline;

	for (size_t i = 0; opt && i < n && opt[i] && o < BOOT_CMDLINE_MAX - 1; i++)
		out[o++] = opt[i] < 0x80 ? (char)opt[i] : '?';
	out[o] = '\0';
}

static void config_path_from_cmdline(const char *cmdline, char *path, size_t size)
{
	const char *p = cmdline;

	strlcpy(path, DEFAULT_CONFIG_PATH, size);
	for (; *p; p++) {
		if ((p == cmdline || p[-1] == ' ') && !strncmp(p, "config=", 7)) {
			size_t n = 0;

			p += 7;
			while (p[n] && p[n] != ' ' && n < size - 1)
				n++;
			memcpy(path, p, n);
			path[n] = '\0';
			return;
		}
	}
}

static bool guid_equal(const EFI_GUID *a, const EFI_GUID *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static u64 find_rsdp(struct loader *ld)
{
	u64 v1 = 0;

	for (UINTN i = 0; i < ld->st->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ld->st->ConfigurationTable[i];

		if (guid_equal(&t->VendorGuid, &acpi20_guid))
			return (u64)(uintptr_t)t->VendorTable;
		if (guid_equal(&t->VendorGuid, &acpi10_guid))
			v1 = (u64)(uintptr_t)t->VendorTable;
	}
	return v1;
}

/* The APIC IDs of the CPUs the firmware started, boot CPU first. A machine whose firmware
 * publishes a MADT does not need this; one without (OVMF under Bochs) would otherwise run on
 * its boot CPU alone. */
static void find_cpus(struct loader *ld)
{
	struct boot_info *info = ld->info;
	struct mp_services *mp;
	struct mp_processor_info pi;
	UINTN total, enabled;

	if (EFI_ERROR(ld->bs->LocateProtocol(&mp_services_guid, NULL, (void **)&mp)))
		return;
	if (EFI_ERROR(mp->get_number_of_processors(mp, &total, &enabled)))
		return;
	for (UINTN i = 0; i < total && info->cpu_count < BOOT_MAX_CPUS; i++) {
		if (EFI_ERROR(mp->get_processor_info(mp, i, &pi)) ||
		    !(pi.status_flag & MP_STATUS_ENABLED))
			continue;
		if (pi.status_flag & MP_STATUS_BSP && info->cpu_count) {
			info->cpu_apic_ids[info->cpu_count++] = info->cpu_apic_ids[0];
			info->cpu_apic_ids[0] = (u32)pi.processor_id;
		} else {
			info->cpu_apic_ids[info->cpu_count++] = (u32)pi.processor_id;
		}
	}
}

static u64 alloc_low_page(struct loader *ld)
{
	/* SIPI vectors address pages below 1 MiB; keep clear of the EBDA/VGA area. */
	EFI_PHYSICAL_ADDRESS addr = 0x9f000;

	if (EFI_ERROR(ld->bs->AllocatePages(AllocateMaxAddress, EfiLoaderData, 1, &addr)))
		return 0;
	return addr;
}

static enum boot_mem_type efi_mem_type(UINT32 type)
{
	switch (type) {
	case EfiConventionalMemory: return BOOT_MEM_USABLE;
	case EfiBootServicesCode:
	case EfiBootServicesData: return BOOT_MEM_BOOT_RECLAIM;
	case EfiLoaderCode:
	case EfiLoaderData: return BOOT_MEM_LOADER;
	case EfiACPIReclaimMemory: return BOOT_MEM_ACPI_RECLAIM;
	case EfiACPIMemoryNVS: return BOOT_MEM_ACPI_NVS;
	case EfiUnusableMemory: return BOOT_MEM_UNUSABLE;
	case EfiMemoryMappedIO:
	case EfiMemoryMappedIOPortSpace: return BOOT_MEM_MMIO;
	default: return BOOT_MEM_RESERVED; /* runtime services, MMIO, persistent, reserved */
	}
}

/* Runs after ExitBootServices: pure data conversion, adjacent regions of a type merged. */
static void convert_memory_map(struct boot_info *info, const u8 *map, UINTN map_size,
			       UINTN desc_size)
{
	info->mem_count = 0;
	for (UINTN off = 0; off + desc_size <= map_size; off += desc_size) {
		const EFI_MEMORY_DESCRIPTOR *d = (const EFI_MEMORY_DESCRIPTOR *)(map + off);
		u32 type = efi_mem_type(d->Type);
		u64 base = d->PhysicalStart, size = d->NumberOfPages * PAGE_SIZE;
		struct boot_mem_region *last =
			info->mem_count ? &info->mem[info->mem_count - 1] : NULL;

		if (!size)
			continue;
		if (last && last->type == type && last->base + last->size == base) {
			last->size += size;
			continue;
		}
		if (info->mem_count == BOOT_MAX_MEM)
			break; /* the hypervisor sees a shorter map; the rest stays unused */
		info->mem[info->mem_count++] = (struct boot_mem_region){ base, size, type };
	}
}

/* ------------------------------------------------------------------ hand-over */

/* Switches to the hypervisor's boot stack and calls hv_main(info); never returns. */
NORETURN void efi_enter_hv(u64 stack_top, struct boot_info *info);
__asm__(".text\n"
	".globl efi_enter_hv\n"
	".type efi_enter_hv, @function\n"
	"efi_enter_hv:\n"
	"	cli\n"
	"	mov %rdi, %rsp\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsi, %rdi\n"
	"	call hv_main\n"
	"1:	hlt\n"
	"	jmp 1b\n");

static inline u64 rdtsc_now(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static EFI_STATUS exit_boot_services(struct loader *ld)
{
	UINTN map_size = 0, key, desc_size;
	UINT32 desc_version;
	EFI_PHYSICAL_ADDRESS buf;
	UINTN buf_size;
	EFI_STATUS s;

	/* Size the map, then leave room for the entries our own allocation adds. */
	ld->bs->GetMemoryMap(&map_size, NULL, &key, &desc_size, &desc_version);
	buf_size = map_size + 16 * desc_size + PAGE_SIZE;
	s = ld->bs->AllocatePages(AllocateAnyPages, EfiLoaderData, EFI_SIZE_TO_PAGES(buf_size),
				  &buf);
	if (EFI_ERROR(s))
		return s;
	for (int tries = 0; tries < 8; tries++) {
		map_size = buf_size;
		s = ld->bs->GetMemoryMap(&map_size, (EFI_MEMORY_DESCRIPTOR *)(uintptr_t)buf, &key,
					 &desc_size, &desc_version);
		if (EFI_ERROR(s))
			return s;
		s = ld->bs->ExitBootServices(ld->image, key);
		if (!EFI_ERROR(s)) {
			convert_memory_map(ld->info, (const u8 *)(uintptr_t)buf, map_size,
					   desc_size);
			return EFI_SUCCESS;
		}
		/* EFI_INVALID_PARAMETER: the map changed under us; fetch it again. */
	}
	return s;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	static struct loader ld;
	EFI_LOADED_IMAGE *li;
	EFI_PHYSICAL_ADDRESS addr;
	char config_path[BOOT_NAME_MAX];
	struct boot_file *cf;
	EFI_STATUS s;
	u64 entry_tsc = rdtsc_now();

	ld.image = image;
	ld.st = st;
	ld.bs = st->BootServices;
	efi_puts(&ld, "bulkhead: UEFI loader\n");

	s = ld.bs->AllocatePages(AllocateAnyPages, EfiLoaderData,
				 EFI_SIZE_TO_PAGES(sizeof(struct boot_info)), &addr);
	if (EFI_ERROR(s)) {
		efi_printf(&ld, "bulkhead: cannot allocate boot_info: %s\n", efi_status_name(s));
		return s;
	}
	ld.info = (struct boot_info *)(uintptr_t)addr;
	memset(ld.info, 0, sizeof(*ld.info));
	ld.info->magic = BOOT_INFO_MAGIC;
	ld.info->entry_tsc = entry_tsc;
	ld.info->config_file = -1;
	strlcpy(ld.info->loader, "uefi", sizeof(ld.info->loader));

	s = open_boot_volume(&ld, &li);
	if (EFI_ERROR(s)) {
		efi_printf(&ld, "bulkhead: cannot open the boot volume: %s\n", efi_status_name(s));
		return s;
	}
	ld.info->image_base = (u64)(uintptr_t)li->ImageBase;
	ld.info->image_size = li->ImageSize;
	copy_cmdline(&ld, li);

	config_path_from_cmdline(ld.info->cmdline, config_path, sizeof(config_path));
	cf = load_file(&ld, config_path, CONFIG_MAX_SIZE);
	if (cf && !cf->error) {
		ld.info->config_file = (s32)(cf - ld.info->files);
		/* Parsed here only to learn which files to read; the hypervisor parses it again
		 * and reports its errors. */
		config_parse(&ld.cfg, (const char *)(uintptr_t)cf->addr, cf->size);
		config_for_each_file(&ld.cfg, load_named_file, &ld);
	}

	ld.info->rsdp = find_rsdp(&ld);
	find_cpus(&ld);
	ld.info->trampoline = alloc_low_page(&ld);
	s = ld.bs->AllocatePages(AllocateAnyPages, EfiLoaderData,
				 EFI_SIZE_TO_PAGES(BOOT_STACK_SIZE), &addr);
	if (EFI_ERROR(s)) {
		efi_printf(&ld, "bulkhead: cannot allocate a stack: %s\n", efi_status_name(s));
		return s;
	}
	ld.info->boot_stack_top = addr + BOOT_STACK_SIZE;

	efi_printf(&ld, "bulkhead: %u file(s) loaded, exiting boot services\n",
		   ld.info->file_count);
	s = exit_boot_services(&ld);
	if (EFI_ERROR(s)) {
		efi_printf(&ld, "bulkhead: ExitBootServices failed: %s\n", efi_status_name(s));
		return s;
	}
	efi_enter_hv(ld.info->boot_stack_top, ld.info);
}
