/* The multiboot2 loader's C half: entry.S calls mb2_main() in long mode, on the boot stack, with
 * the first 4 GiB identity-mapped. It turns GRUB's boot information into struct boot_info (the
 * pure parser in mb2info.c does the work), names the files after the configuration, finds the
 * firmware's own RSDP, maps all RAM, leaves the machine as a UEFI hand-over would (legacy PIC
 * masked) and calls hv_main. Messages go to the console UART, as the UEFI loader's go to the
 * firmware console. */
#include "boot/boot_info.h"
#include "boot/mb2info.h"
#include "boot/multiboot2.h"
#include "arch/cpu.h"
#include "arch/x86.h"
#include "drivers/uart.h"
#include "hv/config.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/string.h"

#define COM1_PORT 0x3f8
#define EARLY_BAUD 115200
#define MAP_LIMIT (512 * GiB) /* one page-directory-pointer table */
#define PTE_P_W 0x003ull
#define PTE_PS 0x080ull

/* From entry.S and linker.ld. */
extern u64 mb2_entry_tsc __attribute__((visibility("hidden")));
extern u64 mb2_pdpt[512] __attribute__((visibility("hidden")));
extern char mb2_stack_top[] __attribute__((visibility("hidden")));
extern char __image_start[] __attribute__((visibility("hidden")));
extern char __image_end[] __attribute__((visibility("hidden")));

NORETURN void mb2_main(u32 magic, u32 mbi_addr);

static struct boot_info info;
static struct config cfg;
static struct mb2_notes notes;
static struct uart con;

static void PRINTF_LIKE(1, 2) say(const char *fmt, ...)
{
	char line[192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	for (const char *c = line; *c; c++) {
		if (*c == '\n')
			uart_putc(&con, '\r');
		uart_putc(&con, *c);
	}
}

static void say_notes(void)
{
	u32 shown = MIN(notes.count, (u32)MB2_MAX_NOTES);

	for (u32 i = 0; i < shown; i++)
		say("bulkhead: multiboot2: %s\n", notes.text[i]);
	if (notes.count > shown)
		say("bulkhead: multiboot2: %u more problems not shown\n", notes.count - shown);
	notes.count = 0;
}

static NORETURN void stop(const char *why)
{
	say("bulkhead: %s; stopping\n", why);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* A pointer to a fixed physical address, hidden from the compiler's bounds checks. */
static const void *phys_ptr(u64 addr)
{
	const void *p = (const void *)(uintptr_t)addr;

	__asm__("" : "+r"(p));
	return p;
}

/* GRUB hands over a copy of the RSDP; the firmware's own sits in the EBDA's first KiB or in
 * 0xe0000-0xfffff on a BIOS machine. Using it keeps the address ACPI tools would show. */
static void find_firmware_rsdp(void)
{
	const void *copy = (const void *)(uintptr_t)info.rsdp;
	u64 ebda = (u64)(*(const volatile u16 *)phys_ptr(0x40e)) << 4;
	u64 found = 0;

	if (!info.rsdp)
		return;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		found = mb2_find_rsdp(phys_ptr(ebda), ebda, 1024, copy,
				      MB2_RSDP_V1_SIZE);
	if (!found)
		found = mb2_find_rsdp(phys_ptr(0xe0000), 0xe0000, 0x20000, copy,
				      MB2_RSDP_V1_SIZE);
	if (found)
		info.rsdp = found;
}

/* entry.S mapped 4 GiB; hv_main expects all RAM identity-mapped, as UEFI firmware leaves it.
 * 1 GiB pages where the CPU has them, otherwise page directories taken from free RAM. */
static void map_all_ram(void)
{
	u64 top = 0;

	for (u32 i = 0; i < info.mem_count; i++)
		if (info.mem[i].type != BOOT_MEM_MMIO && info.mem[i].type != BOOT_MEM_RESERVED)
			top = MAX(top, info.mem[i].base + info.mem[i].size);
	if (top > MAP_LIMIT) {
		say("bulkhead: RAM above %llu GiB is not mapped before the hypervisor's own tables\n",
		    MAP_LIMIT / GiB);
		top = MAP_LIMIT;
	}
	for (u64 gib = 4; gib * GiB < top; gib++) {
		if (cpu_has_1g_pages()) {
			mb2_pdpt[gib] = (gib * GiB) | PTE_PS | PTE_P_W;
			continue;
		}
		u64 pd;

		if (mb2_take_pages(&info, 1, 4 * GiB, &pd) != 0) {
			say("bulkhead: no memory for page tables above %llu GiB\n",
			    (unsigned long long)gib);
			break;
		}
		for (u64 j = 0; j < 512; j++)
			((u64 *)(uintptr_t)pd)[j] = (gib * GiB + j * 2 * MiB) | PTE_PS | PTE_P_W;
		mb2_pdpt[gib] = pd | PTE_P_W;
	}
	write_cr3(read_cr3());
}

/* BIOS leaves the 8259 PICs delivering the PIT's IRQ 0 on vector 8; UEFI firmware masks them. */
static void mask_legacy_pic(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void mb2_main(u32 magic, u32 mbi_addr)
{
	const struct mb2_info_header *mbi = (const void *)(uintptr_t)mbi_addr;
	struct mb2_where where = {
		.mbi_phys = mbi_addr,
		.image_start = (u64)(uintptr_t)__image_start,
		.image_end = (u64)(uintptr_t)__image_end,
	};
	u32 modules;

	uart_init(&con, COM1_PORT, EARLY_BAUD);
	say("bulkhead: multiboot2 loader\n");
	if (magic != MB2_BOOTLOADER_MAGIC)
		stop("not started by a multiboot2 boot loader (bad magic in EAX)");
	if (!mbi_addr)
		stop("the boot loader gave no boot information");

	if (mb2_parse(mbi, mbi->total_size, &where, &info, &notes) != 0) {
		say_notes();
		stop("cannot use the boot information");
	}
	modules = info.file_count;
	config_defaults(&cfg);
	if (info.config_file >= 0) {
		const struct boot_file *f = &info.files[info.config_file];

		/* Parsed here to learn the file names; the hypervisor parses it again and reports
		 * its errors. The console it names is where these messages go from now on. */
		config_parse(&cfg, (const char *)(uintptr_t)f->addr, f->size);
		mb2_name_files(&info, &cfg, &notes);
		if (cfg.console_port != COM1_PORT || cfg.baud != EARLY_BAUD)
			uart_init(&con, cfg.console_port, cfg.baud);
	}
	say_notes();
	for (u32 i = 0; i < info.file_count; i++)
		if (info.files[i].error == BH_ENOENT)
			say("bulkhead: no module is named '%s'\n", info.files[i].name);

	find_firmware_rsdp();
	map_all_ram();
	mask_legacy_pic();
	info.entry_tsc = mb2_entry_tsc;
	info.boot_stack_top = (u64)(uintptr_t)mb2_stack_top;
	say("bulkhead: %u module(s), %u file(s) recorded, entering the hypervisor\n", modules,
	    info.file_count);
	hv_main(&info);
}
