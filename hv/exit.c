/* VM exits, decided: what the guest sees for CPUID, MSRs, I/O ports and guest-physical addresses
 * it does not own, and when a partition has failed. Vendor code has already turned the exit into
 * a struct vcpu_exit; nothing here knows whether it came from SVM or VMX. */
#include "arch/decode.h"
#include "arch/tsc.h"
#include "arch/x86.h"
#include "hv/gwalk.h"
#include "hv/log.h"
#include "hv/partition.h"
#include "hv/pdev.h"
#include "hv/vcpu.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/string.h"

#define HV_CPUID_BASE 0x40000000
/* 0x40000010 is the timing leaf hypervisors commonly offer (EAX: TSC kHz, EBX: LAPIC timer
 * kHz), so a guest can measure time without a device it cannot have. */
#define HV_CPUID_TIMING 0x40000010
#define HV_CPUID_MAX HV_CPUID_TIMING
/* KVM's interface, no features (see cpuid_filter): what tells Linux it may use x2APIC. */
#define HV_CPUID_KVM_BASE 0x40000100
#define HV_CPUID_KVM_FEATURES 0x40000101
#define CPUID_LEAF_PMU 0xa
#define CPUID1_ECX_MONITOR (1u << 3)
#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_PDCM (1u << 15)
#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_EDX_MCE (1u << 7)
#define CPUID1_EDX_MCA (1u << 14)
#define CPUID1_EDX_ACPI (1u << 22) /* thermal monitor and clock control MSRs */
#define CPUID1_EDX_TM (1u << 29)
#define CPUID6_EAX_ARAT (1u << 2)
#define CPUID7_ECX_LA57 (1u << 16)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_ECX_OSXSAVE (1u << 27)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID81_ECX_SVM (1u << 2)
#define CPUID81_ECX_MONITORX (1u << 29)
#define CPUID_LEAF_MONITOR 5
#define RFLAGS_DF (1ull << 10)
#define VECTOR_UD 6
#define VECTOR_GP 13
#define VIOLATIONS_LOGGED 8

enum exit_action { EXIT_RESUME, EXIT_VCPU_DONE, EXIT_FAILED };

const struct virt_ops *virt;

const char *exit_reason_name(enum exit_reason r)
{
	static const char *const names[EXIT_REASON_COUNT] = {
		[EXIT_CPUID] = "cpuid",          [EXIT_MSR_READ] = "msr-read",
		[EXIT_MSR_WRITE] = "msr-write",  [EXIT_IO] = "io",
		[EXIT_STAGE2_FAULT] = "stage2-fault", [EXIT_HLT] = "hlt",
		[EXIT_SHUTDOWN] = "shutdown",    [EXIT_VIRT_INSN] = "virt-insn",
		[EXIT_INVD] = "invd",            [EXIT_XSETBV] = "xsetbv",
		[EXIT_CR_WRITE] = "cr-write",
		[EXIT_INIT] = "init",            [EXIT_NMI] = "nmi",
		[EXIT_INTR] = "intr",            [EXIT_EXCEPTION] = "exception",
		[EXIT_ENTRY_FAILED] = "entry-failed", [EXIT_OTHER] = "other",
	};

	return (unsigned)r < EXIT_REASON_COUNT && names[r] ? names[r] : "?";
}

/* ------------------------------------------------------------------ guest memory access */

static int read_gpa(void *ctx, u64 gpa, void *buf, u64 len)
{
	const struct partition *p = ctx;

	if (!partition_gpa_valid(p, gpa, len))
		return BH_ERANGE;
	memcpy(buf, partition_gpa_to_hva(p, gpa), len);
	return 0;
}

static void gwalk_setup(struct vcpu *v, const struct vcpu_sregs *s, struct gwalk_ctx *g)
{
	*g = (struct gwalk_ctx){ .cr0 = s->cr0, .cr3 = s->cr3, .cr4 = s->cr4, .efer = s->efer,
				 .read_gpa = read_gpa, .ctx = v->part };
}

static enum cpu_mode_bits code_mode(const struct vcpu_sregs *s)
{
	if ((s->efer & EFER_LMA) && s->cs_long)
		return CPU_MODE_64;
	if (!(s->cr0 & CR0_PE))
		return CPU_MODE_16;
	return s->cs_32 ? CPU_MODE_32 : CPU_MODE_16;
}

/* Up to INSN_MAX_LENGTH bytes at CS:RIP; fewer near the end of mapped memory. */
static int fetch_insn(struct vcpu *v, const struct vcpu_sregs *s, u8 *buf, size_t *n)
{
	struct gwalk_ctx g;
	/* Long mode ignores the CS base; elsewhere the linear address wraps at 4 GiB. */
	u64 addr = code_mode(s) == CPU_MODE_64 ? v->regs.rip
					       : (u32)(s->cs_base + v->regs.rip);

	gwalk_setup(v, s, &g);
	for (*n = INSN_MAX_LENGTH; *n > 0; (*n)--)
		if (gwalk_read(&g, addr, buf, *n) == 0)
			return 0;
	return BH_ERANGE;
}

/* ------------------------------------------------------------------ helpers */

static void set_reg32(struct vcpu *v, enum gpr r, u32 value)
{
	v->regs.gpr[r] = value; /* 32-bit results zero-extend, as the CPU does */
}

static bool is_legacy_prefix(u8 b)
{
	return b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e ||
	       b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65;
}

/* Bytes of legacy prefixes and a REX prefix (64-bit mode) in front of the opcode. */
static size_t prefix_length(const u8 *b, size_t n, enum cpu_mode_bits mode)
{
	size_t i = 0;

	while (i < n && (is_legacy_prefix(b[i]) || (mode == CPU_MODE_64 && (b[i] & 0xf0) == 0x40)))
		i++;
	return i;
}

/* Moves RIP past an instruction of known encoding: from the CPU's next-RIP when it gave one,
 * else by skipping legacy/REX prefixes in front of the expected opcode. */
static enum exit_action skip_insn(struct vcpu *v, const struct vcpu_exit *e, const u8 *opcode,
				  size_t opcode_len)
{
	struct vcpu_sregs s;
	u8 bytes[INSN_MAX_LENGTH];
	size_t n, i;

	if (e->next_rip) {
		v->regs.rip = e->next_rip;
		return EXIT_RESUME;
	}
	virt->vcpu_get_sregs(v, &s);
	if (fetch_insn(v, &s, bytes, &n))
		goto undecodable;
	i = prefix_length(bytes, n, code_mode(&s));
	if (i + opcode_len > n || memcmp(bytes + i, opcode, opcode_len) != 0)
		goto undecodable;
	v->regs.rip += i + opcode_len;
	if (code_mode(&s) != CPU_MODE_64)
		v->regs.rip &= 0xffffffffull;
	return EXIT_RESUME;
undecodable:
	partition_fail(v, "the instruction at RIP could not be read back after an exit");
	return EXIT_FAILED;
}

static void count_violation(struct vcpu *v, const char *fmt, ...) PRINTF_LIKE(2, 3);
static enum exit_action fail_with(struct vcpu *v, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Blocked accesses are normal for a hostile guest: log the first few, count all. */
static void count_violation(struct vcpu *v, const char *fmt, ...)
{
	struct partition *p = v->part;
	char msg[128];
	va_list ap;
	u64 n = __atomic_add_fetch(&p->violations, 1, __ATOMIC_RELAXED);

	if (n > VIOLATIONS_LOGGED)
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("partition %s: blocked %s at RIP 0x%llx%s", p->cfg->name, msg,
		 (unsigned long long)v->regs.rip,
		 n == VIOLATIONS_LOGGED ? " (further blocked accesses are only counted)" : "");
}

/* ------------------------------------------------------------------ CPUID */

#define CPUID_LEAF_TSC 0x15  /* TSC/crystal ratio, crystal Hz */
#define CPUID_LEAF_FREQ 0x16 /* base MHz */
#define TSC_TOLERANCE 50     /* 1/50: 2 % */

/* The TSC rate in kHz that leaves 0x15/0x16 promise, computed the way Linux does (without a
 * crystal frequency the ratio is taken to give the base frequency); 0 if they promise none. */
static u64 cpuid_tsc_khz(void)
{
	struct cpuid_regs max = cpuid(0, 0), t;

	if (max.eax < CPUID_LEAF_TSC)
		return 0;
	t = cpuid(CPUID_LEAF_TSC, 0);
	if (!t.eax || !t.ebx)
		return 0;
	if (t.ecx)
		return (u64)t.ecx / 1000 * t.ebx / t.eax;
	if (max.eax < CPUID_LEAF_FREQ)
		return 0;
	return (u64)(cpuid(CPUID_LEAF_FREQ, 0).eax & 0xffff) * 1000;
}

/* Linux takes the TSC rate of leaves 0x15/0x16 as exact and never measures it, and derives its
 * LAPIC timer rate from the same crystal. Where they contradict the rate the hypervisor measured
 * at boot (Bochs promises 3.5 GHz of a TSC that counts its instructions), the guest's clock runs
 * at the wrong speed and its timer fires ~40 times per tick: the leaves are hidden instead, and
 * the guest measures both rates itself against its PM timer or vPIT. */
static bool cpuid_tsc_leaves_wrong(void)
{
	u64 claimed = cpuid_tsc_khz(), measured = tsc_hz() / 1000;

	return claimed && (claimed > measured + measured / TSC_TOLERANCE ||
			   claimed + measured / TSC_TOLERANCE < measured);
}

static void cpuid_filter(struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *r)
{
	struct vcpu_sregs s;

	switch (leaf) {
	case 1:
		/* x2APIC where the guest's x2APIC MSRs can be handled (pdev_x2apic_offered);
		 * elsewhere the guest keeps its LAPIC in xAPIC mode, whose page is decoded. The
		 * TSC-deadline timer stays hidden: its MSR is not handled. */
		r->ecx &= ~(CPUID1_ECX_VMX | CPUID1_ECX_OSXSAVE | CPUID1_ECX_TSC_DEADLINE |
			    CPUID1_ECX_MONITOR | CPUID1_ECX_PDCM);
		if (!pdev_x2apic_offered(v->part))
			r->ecx &= ~CPUID1_ECX_X2APIC;
		r->ecx |= CPUID1_ECX_HYPERVISOR;
		/* Machine checks are the machine's: their MSR banks stay with the hypervisor. */
		r->edx &= ~(CPUID1_EDX_MCE | CPUID1_EDX_MCA);
		/* So are its thermal sensors and throttling controls. */
		r->edx &= ~(CPUID1_EDX_ACPI | CPUID1_EDX_TM);
		/* OSXSAVE mirrors CR4.OSXSAVE: the guest's, not the hypervisor's. */
		virt->vcpu_get_sregs(v, &s);
		if (s.cr4 & CR4_OSXSAVE)
			r->ecx |= CPUID1_ECX_OSXSAVE;
		break;
	case CPUID_LEAF_MONITOR:
		/* MONITOR/MWAIT (and AMD's MONITORX/MWAITX) exit on both backends and are #UD:
		 * the guest idles with HLT, so it must not see them (Linux would MWAIT in its
		 * idle loop on Intel). */
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
		break;
	case 7:
		/* 5-level paging: the guest page walker (hv/gwalk.c) has 4 levels, so CR4.LA57 is
		 * refused; a guest must not see the feature. */
		if (sub == 0)
			r->ecx &= ~CPUID7_ECX_LA57;
		break;
	case CPUID_LEAF_PMU:
		/* The performance counters and their capability MSR (PDCM above) are the
		 * machine's, like its machine checks: no architectural PMU for the guest (Linux
		 * would program the counter MSRs unchecked). */
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
		break;
	case 6:
		/* Power and thermal management is the machine's: no digital thermal sensor, HWP,
		 * energy-performance bias (MSR 0x1b0) or APERF/MPERF (Linux would read those at
		 * every timer tick, each a #GP). Only ARAT stays: it says the LAPIC timer keeps
		 * running in deep C-states, which is true of the guest's (physical) LAPIC too. */
		*r = (struct cpuid_regs){ r->eax & CPUID6_EAX_ARAT, 0, 0, 0 };
		break;
	case CPUID_LEAF_TSC:
	case CPUID_LEAF_FREQ:
		if (cpuid_tsc_leaves_wrong())
			*r = (struct cpuid_regs){ 0, 0, 0, 0 };
		break;
	case 0x80000001:
		r->ecx &= ~(CPUID81_ECX_SVM | CPUID81_ECX_MONITORX);
		break;
	case 0x8000000a: /* SVM features: there are none for the guest */
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
		break;
	case HV_CPUID_BASE:
		r->eax = HV_CPUID_MAX;
		memcpy(&r->ebx, "Bulk", 4);
		memcpy(&r->ecx, "head", 4);
		memcpy(&r->edx, "Bulk", 4);
		break;
	case HV_CPUID_TIMING:
		*r = (struct cpuid_regs){ (u32)(tsc_hz() / 1000), 0, 0, 0 };
		break;
	case HV_CPUID_KVM_BASE:
		/* Stock Linux uses x2APIC without interrupt remapping only under a hypervisor
		 * it recognises; Bulkhead's own signature it does not know. KVM's signature,
		 * one range above Bulkhead's and with no paravirtual feature at all (leaf
		 * 0x40000101 is 0), says exactly that x2APIC is safe; only where it is offered. */
		if (!pdev_x2apic_offered(v->part)) {
			*r = (struct cpuid_regs){ 0, 0, 0, 0 };
			break;
		}
		r->eax = HV_CPUID_KVM_FEATURES;
		memcpy(&r->ebx, "KVMK", 4);
		memcpy(&r->ecx, "VMKV", 4);
		memcpy(&r->edx, "M\0\0\0", 4);
		break;
	default:
		if (leaf > HV_CPUID_BASE && leaf <= 0x4fffffff)
			*r = (struct cpuid_regs){ 0, 0, 0, 0 };
		break;
	}
}

static enum exit_action handle_cpuid(struct vcpu *v, const struct vcpu_exit *e)
{
	static const u8 opcode[] = { 0x0f, 0xa2 };
	u32 leaf = (u32)v->regs.gpr[GPR_RAX], sub = (u32)v->regs.gpr[GPR_RCX];
	struct cpuid_regs r = cpuid(leaf, sub);

	cpuid_filter(v, leaf, sub, &r);
	set_reg32(v, GPR_RAX, r.eax);
	set_reg32(v, GPR_RBX, r.ebx);
	set_reg32(v, GPR_RCX, r.ecx);
	set_reg32(v, GPR_RDX, r.edx);
	return skip_insn(v, e, opcode, sizeof(opcode));
}

/* ------------------------------------------------------------------ MSRs */

#define MSR_TSC 0x10
#define MSR_APIC_BASE_ADDR 0x1b
#define MSR_TSC_ADJUST 0x3b
#define MSR_MICROCODE_REV 0x8b /* Intel IA32_BIOS_SIGN_ID, AMD PATCH_LEVEL */
#define MSR_MTRR_CAP 0xfe
#define MSR_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRING (1ull << 0)
#define MISC_ENABLE_BTS_UNAVAILABLE (1ull << 11)
#define MISC_ENABLE_PEBS_UNAVAILABLE (1ull << 12)
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_XSS 0xda0
#define MSR_KVM_SYSTEM_TIME 0x12
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

/* MSRs a guest may read without learning or changing anything of the machine. */
static bool msr_emulated_read(struct vcpu *v, u32 msr, u64 *value)
{
	switch (msr) {
	case MSR_TSC:
		*value = rdtsc();
		return true;
	case MSR_APIC_BASE_ADDR:
		*value = 0xfee00000ull | (1ull << 11) | (v->index == 0 ? 1ull << 8 : 0);
		return true;
	case MSR_TSC_ADJUST:
		/* The guest's TSC is the CPU's, unadjusted (TSC offset 0); only 0 may be
		 * written. Linux checks it when it takes the TSC as its clock. */
		*value = 0;
		return true;
	case MSR_XSS:
		/* No supervisor state components: XSAVES saves what XCR0 names. Linux writes
		 * 0 at boot when the CPU has XSAVES. */
		*value = 0;
		return true;
	case MSR_MICROCODE_REV:
		/* Intel's early CPU setup writes 0 and reads the revision back (unchecked: a #GP
		 * there prints a trace). The machine's microcode is not the guest's business: 0,
		 * as on a CPU without an update, and the write of 0 is allowed. */
		*value = 0;
		return true;
	case MSR_MTRR_CAP:
		*value = 0; /* no MTRRs to program: memory types are the hypervisor's */
		return true;
	case MSR_MISC_ENABLE:
		/* Intel: Linux's early CPU check reads it (to clear XD-disable) before it has an
		 * IDT, so a #GP there is a triple fault. Fast strings on, no BTS/PEBS, nothing
		 * else: the machine's own settings stay the hypervisor's. */
		*value = MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAILABLE |
			 MISC_ENABLE_PEBS_UNAVAILABLE;
		return true;
	case MSR_MTRR_DEF_TYPE:
		*value = (1ull << 11) | 6; /* enabled, write-back */
		return true;
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		/* Where KVM's signature is shown (cpuid_filter), some Linux versions write 0 to
		 * switch off a kvmclock they never switched on, at reboot: reads 0, so that write
		 * is allowed and changes nothing. */
		*value = 0;
		return pdev_x2apic_offered(v->part);
	default:
		return false;
	}
}

/* An MSR access that is not the platform's: the backend's guest state, or an emulated read.
 * False: #GP. */
static bool msr_access(struct vcpu *v, u32 msr, bool write, u64 *value)
{
	bool ok = false;
	u64 current;

	if (!write)
		return virt->vcpu_msr_read(v, msr, value) || msr_emulated_read(v, msr, value);
	if (virt->vcpu_msr_write(v, msr, *value, &ok))
		return ok;
	/* A write of the value a read returns changes nothing: allowed. */
	return msr_emulated_read(v, msr, &current) && current == *value;
}

static enum exit_action handle_msr(struct vcpu *v, const struct vcpu_exit *e)
{
	static const u8 rdmsr_op[] = { 0x0f, 0x32 }, wrmsr_op[] = { 0x0f, 0x30 };
	u32 msr = (u32)v->regs.gpr[GPR_RCX];
	bool write = e->reason == EXIT_MSR_WRITE;
	u64 value = (v->regs.gpr[GPR_RDX] << 32) | (u32)v->regs.gpr[GPR_RAX];
	enum pdev_result r = pdev_msr(v, msr, write, &value);

	if (r == PDEV_NOT_MINE)
		r = msr_access(v, msr, write, &value) ? PDEV_DONE : PDEV_GP;
	if (r == PDEV_GP) {
		count_violation(v, "%s of MSR 0x%x", write ? "write" : "read", msr);
		virt->vcpu_inject_exception(v, VECTOR_GP, true, 0);
		return EXIT_RESUME;
	}
	if (r == PDEV_BLOCKED) {
		/* Refused by the LAPIC policy without an exception: the write had no effect. */
		count_violation(v, "%s of MSR 0x%x", write ? "write" : "read", msr);
		value = 0;
	}
	if (!write) {
		set_reg32(v, GPR_RAX, (u32)value);
		set_reg32(v, GPR_RDX, (u32)(value >> 32));
	}
	return skip_insn(v, e, write ? wrmsr_op : rdmsr_op, 2);
}

/* ------------------------------------------------------------------ I/O ports */

static bool port_in_vuart(u16 port)
{
	return port >= VUART_COM1_BASE && port < VUART_COM1_BASE + VUART_PORTS;
}

/* One access of `size` bytes; ports the partition does not own read as all ones. */
static u32 port_read(struct vcpu *v, u16 port, u8 size)
{
	struct partition *p = v->part;
	u32 value = 0;

	if (pdev_port(v, port, size, true, &value) == PDEV_DONE)
		return value;
	value = 0;
	for (u8 i = 0; i < size; i++) {
		u16 pt = (u16)(port + i);
		u8 b = 0xff;

		if (port_in_vuart(pt)) {
			spin_lock(&p->lock);
			b = vuart_read(&p->uart, (u16)(pt - VUART_COM1_BASE));
			spin_unlock(&p->lock);
		}
		value |= (u32)b << (8 * i);
	}
	if (!port_in_vuart(port))
		count_violation(v, "read of I/O port 0x%x", port);
	return value;
}

static void port_write(struct vcpu *v, u16 port, u8 size, u32 value)
{
	struct partition *p = v->part;

	if (pdev_port(v, port, size, false, &value) == PDEV_DONE)
		return;
	if (!port_in_vuart(port)) {
		count_violation(v, "write of I/O port 0x%x", port);
		return;
	}
	for (u8 i = 0; i < size; i++) {
		u16 pt = (u16)(port + i);

		if (!port_in_vuart(pt))
			break;
		spin_lock(&p->lock);
		vuart_write(&p->uart, (u16)(pt - VUART_COM1_BASE), (u8)(value >> (8 * i)));
		spin_unlock(&p->lock);
	}
}

static enum exit_action handle_io(struct vcpu *v, const struct vcpu_exit *e)
{
	u32 mask = e->io.size == 4 ? 0xffffffffu : (1u << (8 * e->io.size)) - 1;

	if (e->io.string) {
		/* INS/OUTS: no test guest or Linux console driver uses them on these ports. */
		partition_fail(v, "string I/O (INS/OUTS) is not emulated");
		return EXIT_FAILED;
	}
	if (e->io.in) {
		u32 value = port_read(v, e->io.port, e->io.size);
		u64 *rax = &v->regs.gpr[GPR_RAX];

		if (e->io.size == 4)
			*rax = value; /* 32-bit result: zero-extended */
		else
			*rax = (*rax & ~(u64)mask) | (value & mask);
	} else {
		port_write(v, e->io.port, e->io.size, (u32)v->regs.gpr[GPR_RAX] & mask);
	}
	v->regs.rip = e->next_rip;
	return EXIT_RESUME;
}

/* ------------------------------------------------------------------ guest-physical faults */

/* Nothing is mapped outside the partition's RAM: loads read all ones, stores vanish, like an
 * empty bus. The instruction is decoded to learn its register and length. */
static enum exit_action handle_stage2(struct vcpu *v, const struct vcpu_exit *e)
{
	struct vcpu_sregs s;
	struct mmio_insn insn;
	u8 bytes[INSN_MAX_LENGTH];
	size_t n;
	char why[128];

	if (partition_gpa_valid(v->part, e->stage2.gpa, 1)) {
		fmt_snprintf(why, sizeof(why), "unexpected fault on its own RAM at 0x%llx",
			     (unsigned long long)e->stage2.gpa);
		partition_fail(v, why);
		return EXIT_FAILED;
	}
	if (e->stage2.fetch) {
		fmt_snprintf(why, sizeof(why), "executes outside its RAM at 0x%llx",
			     (unsigned long long)e->stage2.gpa);
		partition_fail(v, why);
		return EXIT_FAILED;
	}
	virt->vcpu_get_sregs(v, &s);
	if (fetch_insn(v, &s, bytes, &n) ||
	    decode_mmio_insn(bytes, n, code_mode(&s), &insn) != 0) {
		fmt_snprintf(why, sizeof(why),
			     "access to 0x%llx outside its RAM by an instruction the hypervisor "
			     "cannot emulate", (unsigned long long)e->stage2.gpa);
		partition_fail(v, why);
		return EXIT_FAILED;
	}
	u64 value = insn.op == MMIO_LOAD ? 0 :
		    mmio_store_value(&insn, v->regs.gpr[insn.reg]);
	enum pdev_result r = pdev_mmio(v, e->stage2.gpa, insn.size, insn.op != MMIO_LOAD, &value);

	if (r != PDEV_DONE) {
		/* No device there, or refused: an empty bus (loads read all ones). */
		count_violation(v, "%s of guest-physical 0x%llx",
				insn.op == MMIO_LOAD ? "read" : "write",
				(unsigned long long)e->stage2.gpa);
		value = r == PDEV_BLOCKED ? 0 : ~0ull;
	}
	if (insn.op == MMIO_LOAD)
		v->regs.gpr[insn.reg] = mmio_load_result(&insn, v->regs.gpr[insn.reg], value,
							 code_mode(&s));
	v->regs.rip += insn.length;
	if (code_mode(&s) != CPU_MODE_64)
		v->regs.rip &= 0xffffffffull;
	return EXIT_RESUME;
}

/* ------------------------------------------------------------------ control registers */

#define CR4_VME_TO_OSXMMEXCPT 0x7ffull /* bits 0-10: every x86-64 CPU has them */
#define CR4_UMIP (1ull << 11)
#define CR4_FSGSBASE (1ull << 16)
#define CR4_PCIDE (1ull << 17)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_PKE (1ull << 22)

/* CR4 bits a guest may set: what this CPU implements, minus VMXE/SMXE (virtualization and
 * trusted execution belong to the hypervisor) and LA57 (the page walker has no 5-level mode). */
static u64 cr4_allowed(void)
{
	struct cpuid_regs l1 = cpuid(1, 0), l7 = cpuid(7, 0);
	u64 allowed = CR4_VME_TO_OSXMMEXCPT;

	if (l7.ecx & (1u << 2))
		allowed |= CR4_UMIP;
	if (l7.ebx & (1u << 0))
		allowed |= CR4_FSGSBASE;
	if (l1.ecx & (1u << 17))
		allowed |= CR4_PCIDE;
	if (l1.ecx & (1u << 26))
		allowed |= CR4_OSXSAVE;
	if (l7.ebx & (1u << 7))
		allowed |= CR4_SMEP;
	if (l7.ebx & (1u << 20))
		allowed |= CR4_SMAP;
	if (l7.ecx & (1u << 3))
		allowed |= CR4_PKE;
	return allowed;
}

/* MOV CRn, reg is 0F 22 /r with a register operand: the source is ModRM.rm (+ REX.B). */
static int decode_mov_to_cr(struct vcpu *v, const struct vcpu_sregs *s, u8 *cr, enum gpr *src,
			    u8 *len)
{
	u8 b[INSN_MAX_LENGTH];
	size_t n, i;
	u8 rex;

	if (fetch_insn(v, s, b, &n))
		return BH_ERANGE;
	i = prefix_length(b, n, code_mode(s));
	/* Only a REX right before the opcode counts. */
	rex = (i > 0 && code_mode(s) == CPU_MODE_64 && (b[i - 1] & 0xf0) == 0x40) ? b[i - 1] : 0;
	if (i + 3 > n || b[i] != 0x0f || b[i + 1] != 0x22 || (b[i + 2] >> 6) != 3)
		return BH_ENOTSUP;
	*cr = (u8)(((b[i + 2] >> 3) & 7) | ((rex & 4) ? 8 : 0));
	*src = (enum gpr)((b[i + 2] & 7) | ((rex & 1) ? 8 : 0));
	*len = (u8)(i + 3);
	return 0;
}

/* What makes MOV to CR0 raise #GP: reserved bits, PG without PE, NW without CD, paging on with
 * EFER.LME but without CR4.PAE, paging off in 64-bit code. */
static bool cr0_write_ok(u64 value, const struct vcpu_sregs *s)
{
	if (value >> 32)
		return false;
	if ((value & CR0_PG) && !(value & CR0_PE))
		return false;
	if ((value & CR0_NW) && !(value & CR0_CD))
		return false;
	if ((value & CR0_PG) && !(s->cr0 & CR0_PG) && (s->efer & EFER_LME) && !(s->cr4 & CR4_PAE))
		return false;
	if (!(value & CR0_PG) && code_mode(s) == CPU_MODE_64)
		return false;
	return true;
}

/* MOV to CR4: bits this CPU lacks or the guest may not have, PAE off in long mode, PCIDE on
 * outside long mode or with CR3[11:0] set. */
static bool cr4_write_ok(u64 value, const struct vcpu_sregs *s)
{
	if (value & ~cr4_allowed())
		return false;
	if ((s->efer & EFER_LMA) && !(value & CR4_PAE))
		return false;
	if ((value & CR4_PCIDE) && !(s->cr4 & CR4_PCIDE) &&
	    (!(s->efer & EFER_LMA) || (s->cr3 & 0xfff)))
		return false;
	return true;
}

static enum exit_action handle_cr_write(struct vcpu *v, const struct vcpu_exit *e)
{
	struct vcpu_sregs s;
	enum gpr src;
	u8 cr = e->cr.cr, len = 0;
	u64 value;
	bool ok;

	virt->vcpu_get_sregs(v, &s);
	if (e->cr.gpr >= 0 && e->next_rip) {
		/* The CPU named the register and the next instruction (VT-x): nothing to decode. */
		src = (enum gpr)e->cr.gpr;
	} else {
		if (decode_mov_to_cr(v, &s, &cr, &src, &len) != 0 || cr != e->cr.cr)
			return fail_with(v, "a write to CR%u the hypervisor cannot decode",
					 e->cr.cr);
		if (e->cr.gpr >= 0)
			src = (enum gpr)e->cr.gpr;
	}
	value = v->regs.gpr[src];
	if (code_mode(&s) != CPU_MODE_64)
		value = (u32)value;
	if (cr == 0)
		ok = cr0_write_ok(value, &s);
	else if (cr == 4)
		ok = cr4_write_ok(value, &s);
	else
		return fail_with(v, "a write to CR%u, which the hypervisor does not watch", cr);
	if (!ok) {
		count_violation(v, "CR%u value 0x%llx", cr, (unsigned long long)value);
		virt->vcpu_inject_exception(v, VECTOR_GP, true, 0);
		return EXIT_RESUME;
	}
	virt->vcpu_write_cr(v, cr, value);
	v->regs.rip = e->next_rip ? e->next_rip : v->regs.rip + len;
	return EXIT_RESUME;
}

/* ------------------------------------------------------------------ XSETBV */

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_BNDREGS (1ull << 3)
#define XCR0_BNDCSR (1ull << 4)
#define XCR0_AVX512 (7ull << 5)
#define XCR0_TILE (3ull << 17)

/* What makes XSETBV of XCR0 raise #GP: components this CPU lacks, x87 off, AVX without SSE,
 * MPX/AVX-512/AMX state components not set together. */
static bool xcr0_valid(u64 value)
{
	struct cpuid_regs d = cpuid(0xd, 0);
	u64 supported = d.eax | ((u64)d.edx << 32);

	if ((value & ~supported) || !(value & XCR0_X87))
		return false;
	if ((value & XCR0_AVX) && !(value & XCR0_SSE))
		return false;
	if (!(value & XCR0_BNDREGS) != !(value & XCR0_BNDCSR))
		return false;
	if ((value & XCR0_AVX512) &&
	    ((value & XCR0_AVX512) != XCR0_AVX512 || !(value & XCR0_AVX)))
		return false;
	if ((value & XCR0_TILE) && (value & XCR0_TILE) != XCR0_TILE)
		return false;
	return true;
}

/* XSETBV always exits on VT-x. XCR0 belongs to the physical CPU, and a CPU serves one
 * partition: a valid value is simply loaded (the hypervisor itself uses no FPU/SSE state). */
static enum exit_action handle_xsetbv(struct vcpu *v, const struct vcpu_exit *e)
{
	static const u8 opcode[] = { 0x0f, 0x01, 0xd1 };
	u32 index = (u32)v->regs.gpr[GPR_RCX];
	u64 value = (v->regs.gpr[GPR_RDX] << 32) | (u32)v->regs.gpr[GPR_RAX];

	if (!(read_cr4() & CR4_OSXSAVE))
		return fail_with(v, "XSETBV on a CPU where the hypervisor has no CR4.OSXSAVE");
	if (index != 0 || !xcr0_valid(value)) {
		count_violation(v, "XSETBV of XCR%u = 0x%llx", index, (unsigned long long)value);
		virt->vcpu_inject_exception(v, VECTOR_GP, true, 0);
		return EXIT_RESUME;
	}
	xsetbv(0, value);
	return skip_insn(v, e, opcode, sizeof(opcode));
}

/* ------------------------------------------------------------------ the rest */

static enum exit_action handle_hlt(struct vcpu *v, const struct vcpu_exit *e)
{
	static const u8 opcode[] = { 0xf4 };

	if (v->regs.rflags & RFLAGS_IF) {
		/* An idle guest waiting for an interrupt. Interrupts reach it directly, so the wait
		 * is the CPU's own: from now on its HLT runs natively (re-executed right away). The
		 * hypervisor keeps control of the CPU through NMIs. */
		virt->vcpu_set_hlt_exit(v, false);
		return EXIT_RESUME;
	}
	enum exit_action a = skip_insn(v, e, opcode, 1);

	/* Halted with interrupts off: nothing but an NMI can wake it. The guest is done. */
	return a == EXIT_RESUME ? EXIT_VCPU_DONE : a;
}

static enum exit_action fail_with(struct vcpu *v, const char *fmt, ...)
{
	char why[128];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	partition_fail(v, why);
	return EXIT_FAILED;
}

static enum exit_action exit_dispatch(struct vcpu *v, const struct vcpu_exit *e)
{
	switch (e->reason) {
	case EXIT_CPUID:
		return handle_cpuid(v, e);
	case EXIT_MSR_READ:
	case EXIT_MSR_WRITE:
		return handle_msr(v, e);
	case EXIT_IO:
		return handle_io(v, e);
	case EXIT_STAGE2_FAULT:
		return handle_stage2(v, e);
	case EXIT_HLT:
		return handle_hlt(v, e);
	case EXIT_CR_WRITE:
		return handle_cr_write(v, e);
	case EXIT_VIRT_INSN:
		/* Virtualization instructions do not exist for a guest: #UD, as on a CPU without
		 * them. RIP stays on the instruction, as for any fault. */
		count_violation(v, "virtualization instruction (exit 0x%llx)",
				(unsigned long long)e->raw);
		virt->vcpu_inject_exception(v, VECTOR_UD, false, 0);
		return EXIT_RESUME;
	case EXIT_INVD: {
		/* INVD would throw away dirty cache lines of other partitions: do nothing. */
		static const u8 opcode[] = { 0x0f, 0x08 };

		return skip_insn(v, e, opcode, 2);
	}
	case EXIT_NMI:
	case EXIT_INTR:
	case EXIT_INIT:
		return EXIT_RESUME;
	case EXIT_SHUTDOWN:
		return fail_with(v, "triple fault (shutdown)");
	case EXIT_EXCEPTION:
		return fail_with(v, "unexpected exception %u intercepted", e->exception.vector);
	case EXIT_ENTRY_FAILED:
		return fail_with(v, "the CPU refused the guest state (VM entry failed)");
	case EXIT_XSETBV:
		return handle_xsetbv(v, e);
	case EXIT_OTHER:
	default:
		return fail_with(v, "unhandled exit %s (raw 0x%llx)", exit_reason_name(e->reason),
				 (unsigned long long)e->raw);
	}
}

void vcpu_loop(struct vcpu *v)
{
	struct vcpu_exit e;

	v->state = VCPU_RUNNING;
	while (v->state == VCPU_RUNNING && v->part->state == PART_RUNNING) {
		virt->vcpu_run(v, &e);
		v->exits[e.reason]++;
		enum exit_action a = exit_dispatch(v, &e);

		if (v->part->state == PART_RUNNING)
			pdev_flush(v);
		switch (a) {
		case EXIT_RESUME:
			break;
		case EXIT_VCPU_DONE:
			partition_vcpu_halted(v);
			break;
		case EXIT_FAILED:
			/* partition_fail stopped the vCPU; the service CPU applies the policy. */
			break;
		}
	}
	partition_vcpu_left(v);
}
