/* The hypervisor shell on the serial console (docs/console.md): commands typed while the shell
 * has the focus, answered in text or, with --json, in exactly one line of JSON. */
#ifndef BH_HV_SHELL_H
#define BH_HV_SHELL_H

#include "types.h"

#define SHELL_PROMPT "bulkhead> "

/* Shows the prompt (at start and whenever the shell gets the focus back). */
void shell_prompt(void);
/* One byte typed while the shell has the focus. */
void shell_key(u8 c);

#endif
