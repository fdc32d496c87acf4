/* CPUID helpers: is a hypervisor present, and what does it call itself. */
#include "guest.h"
#include "io.h"

#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID_HV_LEAF 0x40000000u
#define CPUID_HV_TIMING_LEAF 0x40000010u

bool cpu_hypervisor_present(void)
{
	return (cpuid(1, 0).ecx & CPUID1_ECX_HYPERVISOR) != 0;
}

void cpu_hypervisor_signature(char *out)
{
	struct cpuid_regs r;
	u32 words[3];
	size_t n = 0;

	if (!cpu_hypervisor_present()) {
		snformat(out, 13, "none");
		return;
	}
	r = cpuid(CPUID_HV_LEAF, 0);
	words[0] = r.ebx;
	words[1] = r.ecx;
	words[2] = r.edx;
	for (int i = 0; i < 12; i++) {
		char c = (char)(words[i / 4] >> (8 * (i % 4)));

		if (!c)
			break;
		out[n++] = (c >= 0x21 && c <= 0x7e) ? c : '?';
	}
	out[n] = '\0';
}

u64 cpu_tsc_khz(void)
{
	if (!cpu_hypervisor_present() || cpuid(CPUID_HV_LEAF, 0).eax < CPUID_HV_TIMING_LEAF)
		return 0;
	return cpuid(CPUID_HV_TIMING_LEAF, 0).eax;
}
