/* hello: the smallest useful guest. A Multiboot 1 kernel that prints one line on COM1,
 *   HELLO <name> cpuid-hv=<signature of CPUID leaf 0x40000000, or "none">
 * and stops the partition with `cli; hlt`; with `idle=1` on its command line it waits instead,
 * halted with interrupts on: silent and still running (what a partition watchdog catches). */
#include "guest.h"
#include "io.h"

#define MB1_BOOT_MAGIC 0x2BADB002u
#define MB1_INFO_CMDLINE (1u << 2)

struct mb1_info {
	u32 flags;
	u32 mem_lower, mem_upper;
	u32 boot_device;
	u32 cmdline;
};

void guest_main(u32 magic, u32 info);

void guest_main(u32 magic, u32 info)
{
	const struct mb1_info *mbi = (const struct mb1_info *)(uptr)info;
	const char *cmdline = NULL;
	char name[64], sig[13], idle[4];

	con_init();
	if (magic != MB1_BOOT_MAGIC)
		con_printf("HELLO warning: boot magic 0x%x, expected 0x%x\n", magic, MB1_BOOT_MAGIC);
	if (magic == MB1_BOOT_MAGIC && mbi && (mbi->flags & MB1_INFO_CMDLINE) && mbi->cmdline)
		cmdline = (const char *)(uptr)mbi->cmdline;
	cmdline_name(cmdline, name, sizeof(name));
	cpu_hypervisor_signature(sig);
	con_printf("HELLO %s cpuid-hv=%s\n", name, sig);
	if (cmdline_get(cmdline, "idle", idle, sizeof(idle)) && idle[0] == '1' && !idle[1])
		for (;;)
			__asm__ volatile("sti; hlt"); /* no interrupt ever comes: silent */
	halt_forever();
}
