/* The serial console, run by the service CPU: who has the focus (the shell or one partition),
 * what is typed, and every partition's output on the wire.
 *
 * Policy. Guests only ever write into their own rings (hv/partition.c), never to the UART. The
 * service CPU shows each ring from its own position, a little per turn of its loop:
 *  - while the shell has the focus, every partition's output as complete lines prefixed with
 *    its name, "[name] text";
 *  - while a partition is attached (`console NAME`), that partition's bytes as they come (raw:
 *    prompts without a newline appear at once) and nothing of the others, whose output waits in
 *    their rings and is shown when the shell has the focus again.
 * A position the ring has overtaken (more than CONSOLE_RING_SIZE bytes waiting) is reported as
 * "N bytes dropped". The hypervisor log is always shown (hv/log.c). */
#ifndef BH_HV_CONSOLE_H
#define BH_HV_CONSOLE_H

#include "types.h"

struct uart;
struct partition;

#define CONSOLE_HOTKEY_DEFAULT 0x1c /* Ctrl-\: neither QEMU's Ctrl-A nor telnet's Ctrl-] */
#define CONSOLE_LINE_MAX 256        /* a longer guest line is shown in pieces */
#define CONSOLE_REPLAY 4096         /* scrollback replayed on attach, bytes */

/* Once, on the service CPU, before the loop. */
void console_start(struct uart *u, u8 hotkey);
/* One turn of the service CPU: keys, a bounded share of every partition's output, the rates;
 * tick() (the guests' device timers) runs between the pieces, so that showing output never
 * delays a guest's timer interrupt by much. */
void console_service(void (*tick)(void));
/* Shows everything the partition printed so far, if it is shown at all now; from any CPU (a
 * failing partition's own CPU calls it so its output precedes the failure report). */
void console_partition_flush(struct partition *p);
/* The shell's `console NAME`: the partition gets the focus; recent output is replayed. */
void console_attach(struct partition *p);
/* VM exits per second of a partition, over the last second. */
u64 console_exits_per_s(const struct partition *p);
/* "ctrl-\\" etc. */
const char *console_hotkey_name(void);

#endif
