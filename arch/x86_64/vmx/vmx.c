/* Intel VT-x backend: VMX with EPT, VPID and unrestricted guest. Extracts what happened at each
 * exit into a struct vcpu_exit (vmx_caps.c decodes); hv/exit.c decides what to do about it.
 *
 * A VMCS can only be written on the CPU that has it current, and a vCPU is created on the boot
 * CPU but runs on its own CPU: vcpu_init/vcpu_set_entry only record what the vCPU should start
 * with, and the first vcpu_run on the vCPU's CPU (again after a restart) clears, loads and fills
 * the VMCS. From then on every other operation is called on that CPU with the VMCS current. */
#include "vmcs.h"
#include "vmx_caps.h"
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "arch/paging.h"
#include "arch/x86.h"
#include "hv/hv.h"
#include "hv/log.h"
#include "hv/partition.h"
#include "hv/percpu.h"
#include "hv/pmm.h"
#include "hv/vcpu.h"
#include "hv/vlapic.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/string.h"

#define MSR_PAT 0x277
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103

#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_XSAVE (1u << 26)

#define CR0_ET (1ull << 4)
#define CR4_VMXE (1ull << 13)

#define DEFAULT_PAT 0x0007040600070406ull
#define IO_BITMAP_SIZE (4 * KiB)
#define MSR_BITMAP_SIZE (4 * KiB)

/* Guest segment access rights (descriptor bits 40-55): type, S, DPL, P, AVL, L, D/B, G. */
#define AR_CODE32 0xc09bu /* execute/read, accessed, 32-bit, 4 KiB granularity */
#define AR_CODE64 0xa09bu /* execute/read, accessed, 64-bit */
#define AR_DATA 0xc093u   /* read/write, accessed */
#define AR_CODE16 0x009bu /* real mode: 16-bit, byte granularity */
#define AR_DATA16 0x0093u
#define AR_TSS_BUSY 0x008bu
#define AR_L (1u << 13)
#define AR_DB (1u << 14)
#define AR_DPL(ar) (((ar) >> 5) & 3)

/* vmx_enter results (vmx_entry.S) and the status of the other VMX instructions. */
#define VMX_OK 0
#define VMX_FAIL_INVALID 1
#define VMX_FAIL_VALID 2

struct vmx_cpu {
	u64 vmxon_pa;     /* VMXON region */
	u64 current_vmcs; /* physical address of the VMCS current on this CPU, 0 if none */
};

struct vmx_partition {
	u64 eptp;
	u16 vpid;
};

struct vmx_vcpu {
	u8 *vmcs;
	u64 vmcs_pa;
	bool setup_pending;      /* fill the VMCS (first run, restart) before the next entry */
	bool launched;           /* VMRESUME, not VMLAUNCH */
	bool has_entry;
	struct guest_entry entry;
	u64 exit_rip;            /* RIP at the last exit: shared code moved it if it differs */
	bool x2apic;             /* the guest is in x2APIC mode: msr_bitmap_x2apic_pa */
};

int vmx_enter(struct vcpu_regs *regs, u64 launched);
void vmx_exit_entry(void);

static struct vmx_config cfg;
static u64 io_bitmap_a_pa, io_bitmap_b_pa, msr_bitmap_pa;
/* The same, plus the x2APIC MSRs a guest in x2APIC mode reaches directly (shared by every
 * vCPU in that mode: what passes is the policy's, not the partition's). */
static u64 msr_bitmap_x2apic_pa;

/* ------------------------------------------------------------------ VMX instructions */

static inline int vmx_status(u8 cf, u8 zf)
{
	return cf ? VMX_FAIL_INVALID : zf ? VMX_FAIL_VALID : VMX_OK;
}

#define VMX_MEM_INSN(name, insn)                                                           \
	static int name(u64 pa)                                                            \
	{                                                                                  \
		u8 cf, zf;                                                                 \
		__asm__ volatile(insn " %2; setc %0; setz %1"                              \
				 : "=qm"(cf), "=qm"(zf)                                    \
				 : "m"(pa)                                                 \
				 : "cc", "memory");                                        \
		return vmx_status(cf, zf);                                                 \
	}
VMX_MEM_INSN(vmxon, "vmxon")
VMX_MEM_INSN(vmclear, "vmclear")
VMX_MEM_INSN(vmptrld, "vmptrld")
#undef VMX_MEM_INSN

/* Unchecked forms for the exit path: the fields are fixed and known to exist. */
static inline u64 vmread(u64 field)
{
	u64 value;

	__asm__ volatile("vmread %1, %0" : "=r"(value) : "r"(field) : "cc");
	return value;
}

static inline void vmwrite(u64 field, u64 value)
{
	__asm__ volatile("vmwrite %1, %0" ::"r"(field), "r"(value) : "cc", "memory");
}

static int vmwrite_checked(u64 field, u64 value)
{
	u8 cf, zf;

	__asm__ volatile("vmwrite %2, %3; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "r"(value), "r"(field)
			 : "cc", "memory");
	return vmx_status(cf, zf);
}

struct inv_descriptor {
	u64 a, b;
};

static int invept(u32 type, u64 eptp)
{
	struct inv_descriptor d = { eptp, 0 };
	u8 cf, zf;

	__asm__ volatile("invept %2, %3; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "m"(d), "r"((u64)type)
			 : "cc", "memory");
	return vmx_status(cf, zf);
}

static int invvpid(u32 type, u16 vpid)
{
	struct inv_descriptor d = { vpid, 0 };
	u8 cf, zf;

	__asm__ volatile("invvpid %2, %3; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "m"(d), "r"((u64)type)
			 : "cc", "memory");
	return vmx_status(cf, zf);
}

/* "VMfailInvalid" or "VMfailValid, error N (text)" for a failed VMX instruction. */
static void describe_failure(int status, char *buf, size_t size)
{
	u32 error;

	if (status == VMX_FAIL_INVALID) {
		fmt_snprintf(buf, size, "VMfailInvalid (no valid current VMCS)");
		return;
	}
	error = (u32)vmread(VMCS_VM_INSTRUCTION_ERROR);
	fmt_snprintf(buf, size, "VMfailValid, VM-instruction error %u (%s)", error,
		     vmx_insn_error_name(error));
}

static int report_failure(const char *insn, u64 operand, int status)
{
	char what[96];

	describe_failure(status, what, sizeof(what));
	log_err("vmx: cpu %u: %s 0x%llx failed: %s", this_cpu()->index, insn,
		(unsigned long long)operand, what);
	return BH_EINVAL;
}

/* ------------------------------------------------------------------ machine and CPUs */

static void read_capabilities(struct vmx_msrs *m)
{
	m->basic = rdmsr(MSR_IA32_VMX_BASIC);
	m->pinbased = rdmsr(MSR_IA32_VMX_PINBASED_CTLS);
	m->procbased = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
	m->exit = rdmsr(MSR_IA32_VMX_EXIT_CTLS);
	m->entry = rdmsr(MSR_IA32_VMX_ENTRY_CTLS);
	m->misc = rdmsr(MSR_IA32_VMX_MISC);
	m->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	m->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	m->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	m->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	/* Each of the others exists only where an earlier one says so (reading a missing MSR
	 * is #GP). */
	if (m->basic & VMX_BASIC_TRUE_CTLS) {
		m->true_pinbased = rdmsr(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
		m->true_procbased = rdmsr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
		m->true_exit = rdmsr(MSR_IA32_VMX_TRUE_EXIT_CTLS);
		m->true_entry = rdmsr(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	}
	if ((m->procbased >> 32) & PROC_SECONDARY_CONTROLS) {
		m->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
		if ((m->procbased2 >> 32) & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID))
			m->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	}
}

static int vmx_probe(char *why, size_t why_size)
{
	struct vmx_msrs m = { 0 };
	bool write;
	u64 value;
	int err;

	if (!(cpuid(1, 0).ecx & CPUID1_ECX_VMX)) {
		fmt_snprintf(why, why_size, "this CPU has no VT-x (VMX)");
		return BH_ENOTSUP;
	}
	err = vmx_feature_control(rdmsr(MSR_FEATURE_CONTROL), &write, &value, why, why_size);
	if (err)
		return err;
	read_capabilities(&m);
	err = vmx_config_compute(&m, &cfg, why, why_size);
	if (err)
		return err;
	log_debug("vmx: VMCS revision %u, EPT pages up to %s, controls pin 0x%x proc 0x%x proc2 "
		  "0x%x exit 0x%x entry 0x%x%s", cfg.revision,
		  cfg.ept_max_page == PAGE_1G ? "1 GiB" : cfg.ept_max_page == PAGE_2M ? "2 MiB"
										: "4 KiB",
		  cfg.pin, cfg.proc, cfg.proc2, cfg.exit_ctls, cfg.entry,
		  (m.basic & VMX_BASIC_TRUE_CTLS) ? " (TRUE capability MSRs)" : "");

	/* Every port and every MSR exits unless listed below: the partition reaches only what
	 * hv/exit.c emulates for it. */
	u8 *io_a = hv_alloc(IO_BITMAP_SIZE, PAGE_SIZE, 0);
	u8 *io_b = hv_alloc(IO_BITMAP_SIZE, PAGE_SIZE, 0);
	u8 *msrs = hv_alloc(MSR_BITMAP_SIZE, PAGE_SIZE, 0);

	memset(io_a, 0xff, IO_BITMAP_SIZE);
	memset(io_b, 0xff, IO_BITMAP_SIZE);
	memset(msrs, 0xff, MSR_BITMAP_SIZE);
	io_bitmap_a_pa = (u64)(uintptr_t)io_a;
	io_bitmap_b_pa = (u64)(uintptr_t)io_b;
	msr_bitmap_pa = (u64)(uintptr_t)msrs;

	/* Guest state the VMCS switches (SYSENTER, FS/GS base), and the SYSCALL/SWAPGS MSRs,
	 * which only the guest uses: the hypervisor runs no SYSCALL or SWAPGS, and a CPU serves
	 * one partition, whose values vmcs_setup clears at each start. */
	static const u32 passthrough[] = {
		MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
		MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
		MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
		MSR_TSC_AUX, /* what RDTSCP/RDPID return; the hypervisor never reads it */
	};
	for (size_t i = 0; i < ARRAY_SIZE(passthrough); i++)
		vmx_msr_bitmap_pass(msrs, passthrough[i]);

	u8 *x2 = hv_alloc(MSR_BITMAP_SIZE, PAGE_SIZE, 0);

	memcpy(x2, msrs, MSR_BITMAP_SIZE);
	for (u32 msr = VLAPIC_X2APIC_MSR_FIRST; msr <= VLAPIC_X2APIC_MSR_LAST; msr++)
		vmx_msr_bitmap_pass_rw(x2, msr, vlapic_x2apic_msr_passthrough(msr, false),
				       vlapic_x2apic_msr_passthrough(msr, true));
	msr_bitmap_x2apic_pa = (u64)(uintptr_t)x2;
	return 0;
}

static int vmx_cpu_prepare(struct percpu *cpu)
{
	struct vmx_cpu *c = hv_alloc(sizeof(*c), PAGE_SIZE, 0);

	c->vmxon_pa = (u64)(uintptr_t)hv_alloc(PAGE_SIZE, PAGE_SIZE, 0);
	cpu->virt_cpu = c;
	return 0;
}

/* On the CPU itself: firmware's lock, the fixed CR0/CR4 bits, VMXON. */
static int vmx_cpu_enable(struct percpu *cpu)
{
	struct vmx_cpu *c = cpu->virt_cpu;
	char why[160];
	bool write;
	u64 value, cr0, cr4;
	int status;

	if (vmx_feature_control(rdmsr(MSR_FEATURE_CONTROL), &write, &value, why, sizeof(why))) {
		log_err("vmx: cpu %u: %s", cpu->index, why);
		return BH_ENOTSUP;
	}
	if (write)
		wrmsr(MSR_FEATURE_CONTROL, value);
	/* Caching on: VM entries and exits keep CR0.CD/NW as they are, so the host's setting is
	 * also the one every guest on this CPU runs with (a firmware may leave the reset value,
	 * CD and NW set, as OVMF does under Bochs). */
	cr0 = read_cr0();
	if (cr0 & (CR0_CD | CR0_NW))
		log_debug("vmx: cpu %u: caching was off (CR0 0x%llx); turned on", cpu->index,
			  (unsigned long long)cr0);
	write_cr0(((cr0 | cfg.cr0_fixed0) & cfg.cr0_fixed1) & ~(u64)(CR0_CD | CR0_NW));
	cr4 = read_cr4() | cfg.cr4_fixed0 | CR4_VMXE;
	/* A guest's XSETBV exits and is carried out by the hypervisor (hv/exit.c), which needs
	 * CR4.OSXSAVE itself. */
	if (cpuid(1, 0).ecx & CPUID1_ECX_XSAVE)
		cr4 |= CR4_OSXSAVE;
	write_cr4(cr4 & cfg.cr4_fixed1);

	*(u32 *)(uintptr_t)c->vmxon_pa = cfg.revision;
	status = vmxon(c->vmxon_pa);
	if (status != VMX_OK)
		return report_failure("VMXON", c->vmxon_pa, status);
	c->current_vmcs = 0;
	cpu->virt_enabled = true;
	return 0;
}

/* ------------------------------------------------------------------ EPT */

/* Guest-physical [0, size) to the partition's RAM, and nothing else: every other guest-physical
 * address is an EPT violation for hv/exit.c. The VPID tags the partition's TLB entries. */
static int vmx_partition_init(struct partition *p)
{
	struct vmx_partition *vp = hv_alloc(sizeof(*vp), PAGE_SIZE, 0);
	struct pt_ops ops = mmu_table_ops(&hv_pmm);
	u64 root;
	int err;

	if (p->id + 1 > 0xffff)
		return BH_ENOMEM;
	err = ops.alloc_table(ops.ctx, &root);
	if (!err)
		err = pt_map(&ops, root, 0, p->ram_hpa, p->ram_size, EPT_RAM, cfg.ept_max_page);
	if (err)
		return err;
	vp->eptp = vmx_eptp(root);
	vp->vpid = (u16)(p->id + 1);
	p->arch = vp;
	return 0;
}

/* ------------------------------------------------------------------ vCPUs */

static int vmx_vcpu_init(struct vcpu *v)
{
	struct vmx_vcpu *s = v->arch;

	if (!s) {
		s = hv_alloc(sizeof(*s), PAGE_SIZE, 0);
		s->vmcs = hv_alloc(PAGE_SIZE, PAGE_SIZE, 0);
		s->vmcs_pa = (u64)(uintptr_t)s->vmcs;
		v->arch = s;
	}
	s->setup_pending = true;
	s->launched = false;
	s->has_entry = false;
	s->x2apic = false; /* a (re)started partition's LAPICs are in xAPIC mode */
	return 0;
}

static void vmx_vcpu_set_entry(struct vcpu *v, const struct guest_entry *e)
{
	struct vmx_vcpu *s = v->arch;

	s->entry = *e;
	s->has_entry = true;
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rip = e->rip;
	v->regs.rflags = 0x2;
	v->regs.gpr[GPR_RAX] = e->rax;
	v->regs.gpr[GPR_RBX] = e->rbx;
	v->regs.gpr[GPR_RCX] = e->rcx;
	v->regs.gpr[GPR_RDX] = e->rdx;
	v->regs.gpr[GPR_RSI] = e->rsi;
	v->regs.gpr[GPR_RDI] = e->rdi;
	v->regs.gpr[GPR_RSP] = e->rsp;
	s->exit_rip = e->rip;
}

/* VMWRITEs of the setup, stopping at the first failure (which names the field). */
struct vmcs_writer {
	int status;
	u32 field;
};

static void vw(struct vmcs_writer *w, u32 field, u64 value)
{
	if (w->status != VMX_OK)
		return;
	w->status = vmwrite_checked(field, value);
	if (w->status != VMX_OK)
		w->field = field;
}

static void write_segment(struct vmcs_writer *w, enum vmx_seg seg, u16 sel, u64 base, u32 limit,
			  u32 ar)
{
	vw(w, VMCS_GUEST_ES_SELECTOR + 2 * seg, sel);
	vw(w, VMCS_GUEST_ES_BASE + 2 * seg, base);
	vw(w, VMCS_GUEST_ES_LIMIT + 2 * seg, limit);
	vw(w, VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * seg, ar);
}

static u64 msr_bitmap_of(const struct vmx_vcpu *s)
{
	return s->x2apic ? msr_bitmap_x2apic_pa : msr_bitmap_pa;
}

static void write_controls(struct vmcs_writer *w, const struct vcpu *v, bool long64)
{
	const struct vmx_partition *vp = v->part->arch;
	const struct vmx_vcpu *s = v->arch;

	vw(w, VMCS_PIN_BASED_CONTROLS, cfg.pin);
	vw(w, VMCS_PROC_BASED_CONTROLS, cfg.proc);
	vw(w, VMCS_SECONDARY_PROC_CONTROLS, cfg.proc2);
	vw(w, VMCS_EXIT_CONTROLS, cfg.exit_ctls);
	vw(w, VMCS_ENTRY_CONTROLS, cfg.entry | (long64 ? ENTRYCTL_IA32E_MODE_GUEST : 0));
	vw(w, VMCS_EXCEPTION_BITMAP, 0);
	vw(w, VMCS_PAGE_FAULT_ERROR_MASK, 0);
	vw(w, VMCS_PAGE_FAULT_ERROR_MATCH, 0);
	vw(w, VMCS_CR3_TARGET_COUNT, 0);
	vw(w, VMCS_EXIT_MSR_STORE_COUNT, 0);
	vw(w, VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vw(w, VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vw(w, VMCS_ENTRY_INTR_INFO, 0);
	vw(w, VMCS_TSC_OFFSET, 0);
	vw(w, VMCS_IO_BITMAP_A, io_bitmap_a_pa);
	vw(w, VMCS_IO_BITMAP_B, io_bitmap_b_pa);
	vw(w, VMCS_MSR_BITMAP, msr_bitmap_of(s));
	vw(w, VMCS_EPT_POINTER, vp->eptp);
	vw(w, VMCS_VPID, vp->vpid);
	vw(w, VMCS_CR0_GUEST_HOST_MASK, cfg.cr0_mask);
	vw(w, VMCS_CR4_GUEST_HOST_MASK, cfg.cr4_mask);
}

struct table_pointer {
	u16 limit;
	u64 base;
} PACKED;

/* This CPU's state, loaded by every VM exit. The host TR must be a real TSS (non-zero). */
static void write_host_state(struct vmcs_writer *w)
{
	struct percpu *cpu = this_cpu();
	struct table_pointer idtr;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	vw(w, VMCS_HOST_CR0, read_cr0());
	vw(w, VMCS_HOST_CR3, read_cr3());
	vw(w, VMCS_HOST_CR4, read_cr4());
	vw(w, VMCS_HOST_CS_SELECTOR, GDT_CODE64);
	vw(w, VMCS_HOST_SS_SELECTOR, GDT_DATA);
	vw(w, VMCS_HOST_DS_SELECTOR, GDT_DATA);
	vw(w, VMCS_HOST_ES_SELECTOR, GDT_DATA);
	vw(w, VMCS_HOST_FS_SELECTOR, 0);
	vw(w, VMCS_HOST_GS_SELECTOR, 0);
	vw(w, VMCS_HOST_TR_SELECTOR, GDT_TSS);
	vw(w, VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vw(w, VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vw(w, VMCS_HOST_TR_BASE, (u64)(uintptr_t)&cpu->arch.tss);
	vw(w, VMCS_HOST_GDTR_BASE, (u64)(uintptr_t)cpu->arch.gdt);
	vw(w, VMCS_HOST_IDTR_BASE, idtr.base);
	vw(w, VMCS_HOST_SYSENTER_CS, 0);
	vw(w, VMCS_HOST_SYSENTER_ESP, 0);
	vw(w, VMCS_HOST_SYSENTER_EIP, 0);
	vw(w, VMCS_HOST_IA32_EFER, rdmsr(MSR_EFER));
	vw(w, VMCS_HOST_IA32_PAT, rdmsr(MSR_PAT));
	vw(w, VMCS_HOST_RIP, (u64)(uintptr_t)vmx_exit_entry);
	/* HOST_RSP: vmx_enter writes it at each entry. */
}

/* CR0 a vCPU starts with: paging off in 32-bit protected mode, long mode on the loader's
 * tables, or real mode (unrestricted guest) for a SIPI start. */
static u64 entry_cr0(const struct guest_entry *e)
{
	switch (e->mode) {
	case GUEST_MODE_LONG64: return CR0_PE | CR0_ET | CR0_PG | CR0_WP;
	case GUEST_MODE_REAL16: return CR0_ET;
	default: return CR0_PE | CR0_ET;
	}
}

/* The state the boot protocol defines (as svm_vcpu_set_entry): flat segments, or 64 KiB ones
 * with CS base cs * 16 in real mode. */
static void write_guest_state(struct vmcs_writer *w, const struct guest_entry *e)
{
	bool long64 = e->mode == GUEST_MODE_LONG64;
	bool real16 = e->mode == GUEST_MODE_REAL16;
	u64 cr0 = entry_cr0(e);
	u64 cr4 = long64 ? CR4_PAE : 0;
	u16 data_sel = real16 ? 0 : e->ds;
	u32 limit = real16 ? 0xffff : 0xffffffff;
	u32 data_ar = real16 ? AR_DATA16 : AR_DATA;

	if (real16)
		write_segment(w, VMX_CS, e->cs, (u64)e->cs << 4, 0xffff, AR_CODE16);
	else
		write_segment(w, VMX_CS, e->cs, 0, 0xffffffff, long64 ? AR_CODE64 : AR_CODE32);
	write_segment(w, VMX_DS, data_sel, 0, limit, data_ar);
	write_segment(w, VMX_ES, data_sel, 0, limit, data_ar);
	write_segment(w, VMX_SS, data_sel, 0, limit, data_ar);
	write_segment(w, VMX_FS, data_sel, 0, limit, data_ar);
	write_segment(w, VMX_GS, data_sel, 0, limit, data_ar);
	write_segment(w, VMX_LDTR, 0, 0, 0, VMX_AR_UNUSABLE);
	write_segment(w, VMX_TR, 0, 0, 0x67, AR_TSS_BUSY);
	vw(w, VMCS_GUEST_GDTR_BASE, e->gdt_base);
	vw(w, VMCS_GUEST_GDTR_LIMIT, real16 ? 0xffff : e->gdt_limit);
	vw(w, VMCS_GUEST_IDTR_BASE, 0);
	vw(w, VMCS_GUEST_IDTR_LIMIT, real16 ? 0xffff : 0);
	vw(w, VMCS_GUEST_CR0, vmx_cr0_real(&cfg, cr0));
	vw(w, VMCS_CR0_READ_SHADOW, cr0);
	vw(w, VMCS_GUEST_CR4, vmx_cr4_real(&cfg, cr4));
	vw(w, VMCS_CR4_READ_SHADOW, cr4);
	vw(w, VMCS_GUEST_CR3, long64 ? e->cr3 : 0);
	vw(w, VMCS_GUEST_IA32_EFER, long64 ? EFER_LME | EFER_LMA : 0);
	vw(w, VMCS_GUEST_IA32_PAT, DEFAULT_PAT);
	vw(w, VMCS_GUEST_IA32_DEBUGCTL, 0);
	vw(w, VMCS_GUEST_DR7, 0x400);
	vw(w, VMCS_GUEST_SYSENTER_CS, 0);
	vw(w, VMCS_GUEST_SYSENTER_ESP, 0);
	vw(w, VMCS_GUEST_SYSENTER_EIP, 0);
	vw(w, VMCS_GUEST_INTERRUPTIBILITY, 0);
	vw(w, VMCS_GUEST_ACTIVITY_STATE, 0);
	vw(w, VMCS_GUEST_PENDING_DEBUG, 0);
	vw(w, VMCS_LINK_POINTER, ~0ull);
	for (int i = 0; i < 4; i++)
		vw(w, VMCS_GUEST_PDPTE0 + 2 * i, 0);
}

/* Clears, loads and fills this vCPU's VMCS on the CPU it runs on, and forgets whatever the TLBs
 * hold for its EPT tables and VPID (a previous life's translations). */
static int vmcs_setup(struct vcpu *v)
{
	struct vmx_vcpu *s = v->arch;
	struct vmx_cpu *c = this_cpu()->virt_cpu;
	const struct vmx_partition *vp = v->part->arch;
	struct vmcs_writer w = { VMX_OK, 0 };
	int status;

	if (!this_cpu()->virt_enabled || !c) {
		log_err("vmx: cpu %u: VMX is not on (VMXON failed at boot)", this_cpu()->index);
		return BH_ENOTSUP;
	}
	if (!s->has_entry) {
		log_err("vmx: vCPU %u of partition %s has no start state", v->index,
			v->part->cfg->name);
		return BH_EINVAL;
	}
	status = vmclear(s->vmcs_pa);
	if (status != VMX_OK)
		return report_failure("VMCLEAR", s->vmcs_pa, status);
	*(u32 *)s->vmcs = cfg.revision;
	status = vmptrld(s->vmcs_pa);
	if (status != VMX_OK) {
		c->current_vmcs = 0;
		return report_failure("VMPTRLD", s->vmcs_pa, status);
	}
	c->current_vmcs = s->vmcs_pa;

	write_controls(&w, v, s->entry.mode == GUEST_MODE_LONG64);
	write_host_state(&w);
	write_guest_state(&w, &s->entry);
	if (w.status != VMX_OK) {
		char what[96];

		describe_failure(w.status, what, sizeof(what));
		log_err("vmx: cpu %u: VMWRITE of VMCS field 0x%04x failed: %s", this_cpu()->index,
			w.field, what);
		return BH_EINVAL;
	}
	status = invept(cfg.invept_type, vp->eptp);
	if (status != VMX_OK)
		return report_failure("INVEPT of EPTP", vp->eptp, status);
	status = invvpid(cfg.invvpid_type, vp->vpid);
	if (status != VMX_OK)
		return report_failure("INVVPID of VPID", vp->vpid, status);

	/* MSRs the guest reaches directly and the VMCS does not switch: a fresh start. */
	wrmsr(MSR_STAR, 0);
	wrmsr(MSR_LSTAR, 0);
	wrmsr(MSR_CSTAR, 0);
	wrmsr(MSR_SFMASK, 0);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	if (read_cr4() & CR4_OSXSAVE)
		xsetbv(0, 1); /* XCR0: x87 only, as at reset */

	s->setup_pending = false;
	s->launched = false;
	s->exit_rip = v->regs.rip;
	return 0;
}

static void entry_failed(struct vcpu_exit *e, u64 raw)
{
	memset(e, 0, sizeof(*e));
	e->reason = EXIT_ENTRY_FAILED;
	e->raw = raw;
}

/* An event the exit interrupted while the guest delivered it (IDT-vectoring information) is
 * delivered again at the next entry, unless shared code injects something else. */
static void reinject(u32 vectoring, const struct vmx_exit_info *x)
{
	u32 type = (vectoring & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;

	if (vectoring & INTR_INFO_ERROR_CODE)
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, vmread(VMCS_IDT_VECTORING_ERROR_CODE));
	if (type == INTR_TYPE_SW_INTERRUPT || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
	    type == INTR_TYPE_SW_EXCEPTION)
		vmwrite(VMCS_ENTRY_INSTRUCTION_LENGTH, x->insn_length ? x->insn_length
			: vmread(VMCS_EXIT_INSTRUCTION_LENGTH));
	vmwrite(VMCS_ENTRY_INTR_INFO, vectoring & (INTR_INFO_VALID | INTR_INFO_ERROR_CODE |
						   INTR_INFO_TYPE_MASK | INTR_INFO_VECTOR_MASK));
}

static void log_entry_failure(const struct vcpu *v, const struct vmx_exit_info *x)
{
	static const char *const why[] = { [VMX_EXIT_INVALID_GUEST_STATE] = "invalid guest state",
					   [VMX_EXIT_MSR_LOADING] = "MSR loading",
					   [VMX_EXIT_MACHINE_CHECK] = "machine check" };
	u32 basic = x->reason & 0xffff;

	log_err("vmx: partition %s vCPU %u: VM entry failed: exit reason %u (%s), "
		"qualification 0x%llx", v->part->cfg->name, v->index, basic,
		basic < ARRAY_SIZE(why) && why[basic] ? why[basic] : "?",
		(unsigned long long)x->qualification);
}

static void vmx_vcpu_run(struct vcpu *v, struct vcpu_exit *e)
{
	struct vmx_vcpu *s = v->arch;
	struct vmx_cpu *c = this_cpu()->virt_cpu;
	struct vmx_exit_info x = { 0 };
	unsigned needs;
	int status;

	if (s->setup_pending) {
		if (vmcs_setup(v) != 0) {
			entry_failed(e, 0);
			return;
		}
	} else if (c->current_vmcs != s->vmcs_pa) {
		status = vmptrld(s->vmcs_pa);
		if (status != VMX_OK) {
			report_failure("VMPTRLD", s->vmcs_pa, status);
			entry_failed(e, 0);
			return;
		}
		c->current_vmcs = s->vmcs_pa;
	}
	if (v->regs.rip != s->exit_rip) {
		/* Shared code completed the instruction: a blocking by STI or MOV SS it was under
		 * ends with it. */
		u64 intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);

		if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
			vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
				intr & ~(u64)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
	}
	vmwrite(VMCS_GUEST_RIP, v->regs.rip);
	vmwrite(VMCS_GUEST_RSP, v->regs.gpr[GPR_RSP]);
	vmwrite(VMCS_GUEST_RFLAGS, v->regs.rflags);

	status = vmx_enter(&v->regs, s->launched);
	if (status != VMX_OK) {
		char what[96];

		describe_failure(status, what, sizeof(what));
		log_err("vmx: partition %s vCPU %u: %s failed: %s", v->part->cfg->name, v->index,
			s->launched ? "VMRESUME" : "VMLAUNCH", what);
		entry_failed(e, status == VMX_FAIL_VALID ? vmread(VMCS_VM_INSTRUCTION_ERROR) : 0);
		return;
	}

	x.reason = (u32)vmread(VMCS_EXIT_REASON);
	x.rip = vmread(VMCS_GUEST_RIP);
	v->regs.rip = x.rip;
	v->regs.gpr[GPR_RSP] = vmread(VMCS_GUEST_RSP);
	v->regs.rflags = vmread(VMCS_GUEST_RFLAGS);
	s->exit_rip = x.rip;
	if (!(x.reason & VMX_EXIT_REASON_ENTRY_FAILURE))
		s->launched = true;

	needs = vmx_exit_needs(x.reason);
	if (needs & VMX_NEED_INSN_LENGTH)
		x.insn_length = (u32)vmread(VMCS_EXIT_INSTRUCTION_LENGTH);
	if (needs & VMX_NEED_QUALIFICATION)
		x.qualification = vmread(VMCS_EXIT_QUALIFICATION);
	if (needs & VMX_NEED_GPA)
		x.gpa = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
	if (needs & VMX_NEED_INTR_INFO) {
		x.intr_info = (u32)vmread(VMCS_EXIT_INTR_INFO);
		x.intr_error = (u32)vmread(VMCS_EXIT_INTR_ERROR_CODE);
	}
	if (needs & VMX_NEED_VECTORING) {
		x.vectoring_info = (u32)vmread(VMCS_IDT_VECTORING_INFO);
		if (x.vectoring_info & INTR_INFO_VALID)
			reinject(x.vectoring_info, &x);
	}
	vmx_decode_exit(&x, e);

	if (e->reason == EXIT_ENTRY_FAILED)
		log_entry_failure(v, &x);
	else if (e->reason == EXIT_OTHER)
		log_warn("vmx: partition %s vCPU %u: exit reason %u, qualification 0x%llx, "
			 "guest-physical 0x%llx, IDT-vectoring 0x%x", v->part->cfg->name, v->index,
			 x.reason & 0xffff, (unsigned long long)x.qualification,
			 (unsigned long long)x.gpa, x.vectoring_info);
}

static void vmx_vcpu_get_sregs(struct vcpu *v, struct vcpu_sregs *r)
{
	struct vmx_vcpu *s = v->arch;
	struct vmx_cpu *c = this_cpu()->virt_cpu;
	u32 cs_ar, ss_ar;

	memset(r, 0, sizeof(*r));
	if (s->setup_pending || !c || c->current_vmcs != s->vmcs_pa) {
		/* Not running here (yet): what it will start with. */
		bool long64 = s->entry.mode == GUEST_MODE_LONG64;
		bool real16 = s->entry.mode == GUEST_MODE_REAL16;

		r->cr0 = entry_cr0(&s->entry);
		r->cr4 = long64 ? CR4_PAE : 0;
		r->cr3 = long64 ? s->entry.cr3 : 0;
		r->efer = long64 ? EFER_LME | EFER_LMA : 0;
		r->cs_sel = s->entry.cs;
		r->cs_base = real16 ? (u64)s->entry.cs << 4 : 0;
		r->cs_long = long64;
		r->cs_32 = !long64 && !real16;
		return;
	}
	r->cr0 = vmx_cr_visible(vmread(VMCS_GUEST_CR0), vmread(VMCS_CR0_READ_SHADOW), cfg.cr0_mask);
	r->cr2 = read_cr2(); /* VMX leaves CR2 to the guest: the hypervisor takes no page faults */
	r->cr3 = vmread(VMCS_GUEST_CR3);
	r->cr4 = vmx_cr_visible(vmread(VMCS_GUEST_CR4), vmread(VMCS_CR4_READ_SHADOW), cfg.cr4_mask);
	r->efer = vmread(VMCS_GUEST_IA32_EFER);
	r->cs_base = vmread(VMCS_GUEST_CS_BASE);
	r->ss_base = vmread(VMCS_GUEST_SS_BASE);
	r->ds_base = vmread(VMCS_GUEST_DS_BASE);
	r->es_base = vmread(VMCS_GUEST_ES_BASE);
	r->cs_sel = (u16)vmread(VMCS_GUEST_CS_SELECTOR);
	cs_ar = (u32)vmread(VMCS_GUEST_CS_ACCESS_RIGHTS);
	ss_ar = (u32)vmread(VMCS_GUEST_SS_ACCESS_RIGHTS);
	r->cs_long = (cs_ar & AR_L) != 0;
	r->cs_32 = (cs_ar & AR_DB) != 0;
	r->cpl = (u8)AR_DPL(ss_ar); /* SS.DPL is the CPL */
}

/* HLT exiting off: the guest's HLT waits in the CPU for an interrupt it takes directly. Set
 * again whenever the vCPU (re)starts (vmcs_setup writes the controls afresh). */
static void vmx_vcpu_set_hlt_exit(struct vcpu *v, bool exit)
{
	u64 proc = vmread(VMCS_PROC_BASED_CONTROLS);

	(void)v;
	if (exit)
		proc |= PROC_HLT_EXITING;
	else if (!(cfg.proc_must_be_one & PROC_HLT_EXITING))
		proc &= ~(u64)PROC_HLT_EXITING;
	vmwrite(VMCS_PROC_BASED_CONTROLS, proc);
}

static void vmx_vcpu_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	u32 info = vector | (INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID;

	(void)v;
	/* Real mode (unrestricted guest) delivers no error code. */
	if (has_error && (vmread(VMCS_GUEST_CR0) & CR0_PE)) {
		info |= INTR_INFO_ERROR_CODE;
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, error);
	}
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
}

/* With EPT, PAE paging outside long mode takes its four PDPTEs from the VMCS; a CR0/CR4 write
 * the hypervisor carried out must load them, as the instruction would have. */
static void load_pdptes(struct vcpu *v, u64 cr0, u64 cr4, u64 efer)
{
	u64 pdpte[4] = { 0, 0, 0, 0 };
	u64 cr3 = vmread(VMCS_GUEST_CR3) & 0xffffffe0ull;

	if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (efer & EFER_LMA))
		return;
	if (partition_gpa_valid(v->part, cr3, sizeof(pdpte)))
		memcpy(pdpte, partition_gpa_to_hva(v->part, cr3), sizeof(pdpte));
	for (int i = 0; i < 4; i++)
		vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
}

/* Called after hv/exit.c checked the value. CR0: the guest set a bit it does not own (NE), so
 * the hypervisor carries out the whole write, paging-mode switch included. */
static void vmx_vcpu_write_cr(struct vcpu *v, u8 cr, u64 value)
{
	const struct vmx_partition *vp = v->part->arch;
	u64 cr0 = vmx_cr_visible(vmread(VMCS_GUEST_CR0), vmread(VMCS_CR0_READ_SHADOW),
				 cfg.cr0_mask);
	u64 cr4 = vmread(VMCS_CR4_READ_SHADOW);
	u64 efer = vmread(VMCS_GUEST_IA32_EFER);

	if (cr == 4) {
		cr4 = value;
		vmwrite(VMCS_CR4_READ_SHADOW, value);
		vmwrite(VMCS_GUEST_CR4, vmx_cr4_real(&cfg, value));
	} else if (cr == 0) {
		u64 entry = vmread(VMCS_ENTRY_CONTROLS);

		if ((cr0 ^ value) & CR0_PG) {
			if ((value & CR0_PG) && (efer & EFER_LME)) {
				efer |= EFER_LMA;
				entry |= ENTRYCTL_IA32E_MODE_GUEST;
			} else if (!(value & CR0_PG)) {
				efer &= ~(u64)EFER_LMA;
				entry &= ~(u64)ENTRYCTL_IA32E_MODE_GUEST;
			}
			vmwrite(VMCS_GUEST_IA32_EFER, efer);
			vmwrite(VMCS_ENTRY_CONTROLS, entry);
		}
		cr0 = value;
		vmwrite(VMCS_CR0_READ_SHADOW, value);
		vmwrite(VMCS_GUEST_CR0, vmx_cr0_real(&cfg, value));
	} else {
		return;
	}
	load_pdptes(v, cr0, cr4, efer);
	/* Paging-mode bits may have changed: drop this guest's cached translations. */
	invvpid(cfg.invvpid_type, vp->vpid);
}

static bool vmx_vcpu_msr_read(struct vcpu *v, u32 msr, u64 *value)
{
	(void)v;
	switch (msr) {
	case MSR_EFER:
		*value = vmread(VMCS_GUEST_IA32_EFER);
		return true;
	case MSR_PAT:
		*value = vmread(VMCS_GUEST_IA32_PAT);
		return true;
	default:
		return false;
	}
}

static bool vmx_vcpu_msr_write(struct vcpu *v, u32 msr, u64 value, bool *ok)
{
	u64 efer;

	(void)v;
	switch (msr) {
	case MSR_EFER:
		/* LMA is the CPU's to set; LME cannot change while paging is on (#GP, as on the
		 * CPU: VM entry would refuse LME != LMA). */
		efer = vmread(VMCS_GUEST_IA32_EFER);
		*ok = !(value & ~(u64)EFER_GUEST_WRITABLE) &&
		      !((vmread(VMCS_GUEST_CR0) & CR0_PG) && ((value ^ efer) & EFER_LME));
		if (*ok)
			vmwrite(VMCS_GUEST_IA32_EFER, (value & ~(u64)EFER_LMA) | (efer & EFER_LMA));
		return true;
	case MSR_PAT:
		*ok = pat_value_valid(value);
		if (*ok)
			vmwrite(VMCS_GUEST_IA32_PAT, value);
		return true;
	default:
		return false;
	}
}

static void vmx_vcpu_set_x2apic_passthrough(struct vcpu *v, bool on)
{
	struct vmx_vcpu *s = v->arch;

	s->x2apic = on;
	if (!s->setup_pending) /* else vmcs_setup writes it */
		vmwrite(VMCS_MSR_BITMAP, msr_bitmap_of(s));
}

const struct virt_ops vmx_ops = {
	.name = "Intel VT-x (EPT, VPID, unrestricted guest)",
	.probe = vmx_probe,
	.cpu_prepare = vmx_cpu_prepare,
	.cpu_enable = vmx_cpu_enable,
	.partition_init = vmx_partition_init,
	.vcpu_init = vmx_vcpu_init,
	.vcpu_set_entry = vmx_vcpu_set_entry,
	.vcpu_set_hlt_exit = vmx_vcpu_set_hlt_exit,
	.vcpu_run = vmx_vcpu_run,
	.vcpu_get_sregs = vmx_vcpu_get_sregs,
	.vcpu_write_cr = vmx_vcpu_write_cr,
	.vcpu_inject_exception = vmx_vcpu_inject_exception,
	.vcpu_msr_read = vmx_vcpu_msr_read,
	.vcpu_msr_write = vmx_vcpu_msr_write,
	.vcpu_set_x2apic_passthrough = vmx_vcpu_set_x2apic_passthrough,
};
