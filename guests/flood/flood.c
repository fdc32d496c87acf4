/* flood: a guest that prints as fast as it can, to show that a noisy partition neither blocks
 * on the console nor stalls the hypervisor or its neighbours. A Multiboot 1 kernel that prints
 *   FLOOD start bytes=<N>
 * then N bytes of numbered 64-byte lines "flood <line number> ...", then
 *   FLOOD done bytes=<N>
 * and stops the partition with `cli; hlt`. N is the `bytes=` command-line value (default 1 MiB).
 * It writes THR without polling LSR: Bulkhead's vUART takes every byte at once, so each byte
 * costs exactly one VM exit, the fastest a guest can print. */
#include "guest.h"
#include "io.h"

#define MB1_BOOT_MAGIC 0x2BADB002u
#define MB1_INFO_CMDLINE (1u << 2)
#define DEFAULT_BYTES (1024u * 1024u)
#define LINE_BYTES 64

struct mb1_info {
	u32 flags;
	u32 mem_lower, mem_upper;
	u32 boot_device;
	u32 cmdline;
};

void guest_main(u32 magic, u32 info);

static u32 parse_u32(const char *s, u32 fallback)
{
	u32 v = 0;

	if (!*s)
		return fallback;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 400000000u)
			return fallback;
		v = v * 10 + (u32)(*s - '0');
	}
	return v;
}

static void put_fast(const char *s, u32 n)
{
	for (u32 i = 0; i < n; i++)
		outb(COM1_BASE, (u8)s[i]);
}

/* One line of exactly LINE_BYTES bytes, newline included. */
static void flood_line(u32 number)
{
	char line[LINE_BYTES + 1];
	int n = snformat(line, sizeof(line), "flood %08u ", number);

	for (int i = n; i < LINE_BYTES - 1; i++)
		line[i] = (char)('a' + (i + number) % 26);
	line[LINE_BYTES - 1] = '\n';
	put_fast(line, LINE_BYTES);
}

void guest_main(u32 magic, u32 info)
{
	const struct mb1_info *mbi = (const struct mb1_info *)(uptr)info;
	const char *cmdline = NULL;
	char value[16];
	u32 bytes, lines;

	con_init();
	if (magic == MB1_BOOT_MAGIC && mbi && (mbi->flags & MB1_INFO_CMDLINE) && mbi->cmdline)
		cmdline = (const char *)(uptr)mbi->cmdline;
	bytes = cmdline_get(cmdline, "bytes", value, sizeof(value)) ?
		parse_u32(value, DEFAULT_BYTES) : DEFAULT_BYTES;
	lines = (bytes + LINE_BYTES - 1) / LINE_BYTES;
	con_printf("FLOOD start bytes=%u\n", lines * LINE_BYTES);
	for (u32 i = 0; i < lines; i++)
		flood_line(i);
	con_printf("FLOOD done bytes=%u\n", lines * LINE_BYTES);
	halt_forever();
}
