/* AMD-V backend: SVM with nested paging. Extracts what happened at each exit into a struct
 * vcpu_exit; hv/exit.c decides what to do about it. */
#include "vmcb.h"
#include "arch/mmu.h"
#include "arch/paging.h"
#include "arch/x86.h"
#include "hv/hv.h"
#include "hv/partition.h"
#include "hv/percpu.h"
#include "hv/pmm.h"
#include "hv/vcpu.h"
#include "lib/error.h"
#include "lib/format.h"
#include "lib/string.h"

#define MSR_VM_CR 0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117
#define MSR_PAT 0x277
#define VM_CR_SVMDIS (1u << 4)

#define CPUID_SVM_FEATURES 0x8000000a
#define SVM_FEATURE_NPT (1u << 0)
#define SVM_FEATURE_NRIPS (1u << 3)

#define IOPM_SIZE (12 * KiB)
#define MSRPM_SIZE (8 * KiB)
#define DEFAULT_PAT 0x0007040600070406ull
#define TLB_FLUSH_ALL 1

#define SEG_CODE32 0xc9b
#define SEG_CODE64 0xa9b
#define SEG_DATA 0xc93
#define SEG_CODE16 0x09b
#define SEG_DATA16 0x093
#define SEG_TSS_BUSY 0x08b
#define SEG_LDT 0x082

#define CR0_ET (1ull << 4)

struct svm_cpu {
	u64 hsave_pa;     /* VM_HSAVE_PA: the CPU's own save area for host state */
	u64 host_vmcb_pa; /* host FS/GS/TR/... for VMSAVE/VMLOAD around each run */
};

struct svm_partition {
	u64 npt_root;
};

struct svm_vcpu {
	struct vmcb *vmcb;
	u64 vmcb_pa;
	bool first_run;
};

void svm_enter(u64 vmcb_pa, struct vcpu_regs *regs, u64 host_vmcb_pa);

static bool has_nrips;
static u32 asid_count;
static u64 iopm_pa, msrpm_pa;

/* ------------------------------------------------------------------ machine and CPUs */

static int svm_probe(char *why, size_t why_size)
{
	struct cpuid_regs ext = cpuid(0x80000000, 0);
	struct cpuid_regs f;

	if (ext.eax < CPUID_SVM_FEATURES || !(cpuid(0x80000001, 0).ecx & (1u << 2))) {
		fmt_snprintf(why, why_size, "this CPU has no AMD-V (SVM)");
		return BH_ENOTSUP;
	}
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
		fmt_snprintf(why, why_size, "AMD-V is disabled by the firmware (VM_CR.SVMDIS); "
			     "enable SVM in the firmware setup");
		return BH_ENOTSUP;
	}
	f = cpuid(CPUID_SVM_FEATURES, 0);
	if (!(f.edx & SVM_FEATURE_NPT)) {
		fmt_snprintf(why, why_size, "AMD-V without nested paging is not supported");
		return BH_ENOTSUP;
	}
	has_nrips = (f.edx & SVM_FEATURE_NRIPS) != 0;
	asid_count = f.ebx;
	if (asid_count < 2) {
		fmt_snprintf(why, why_size, "AMD-V reports no usable ASIDs");
		return BH_ENOTSUP;
	}

	/* Every port and every MSR is intercepted unless listed below: the partition reaches
	 * only what hv/exit.c emulates for it. */
	u8 *iopm = hv_alloc(IOPM_SIZE, PAGE_SIZE, 0);
	u8 *msrpm = hv_alloc(MSRPM_SIZE, PAGE_SIZE, 0);

	memset(iopm, 0xff, IOPM_SIZE);
	memset(msrpm, 0xff, MSRPM_SIZE);
	iopm_pa = (u64)(uintptr_t)iopm;
	msrpm_pa = (u64)(uintptr_t)msrpm;

	/* Guest-only state VMLOAD/VMSAVE switch anyway: no reason to trap it. */
	static const u32 passthrough[] = {
		0x174, 0x175, 0x176,                    /* SYSENTER_CS/ESP/EIP */
		0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR, LSTAR, CSTAR, SFMASK */
		0xc0000100, 0xc0000101, 0xc0000102,     /* FS, GS, KernelGS base */
		0xc0000103,  /* TSC_AUX: what RDTSCP/RDPID return; the hypervisor never reads it */
	};
	for (size_t i = 0; i < ARRAY_SIZE(passthrough); i++) {
		u32 msr = passthrough[i];
		u32 base = msr < 0x2000 ? 0 : (msr >= 0xc0000000 && msr < 0xc0002000) ? 0x800 : 0x1000;
		u32 bit = (msr & 0x1fff) * 2;

		msrpm[base + bit / 8] &= (u8)~(3u << (bit % 8));
	}
	return 0;
}

static int svm_cpu_prepare(struct percpu *cpu)
{
	struct svm_cpu *s = hv_alloc(PAGE_SIZE, PAGE_SIZE, 0);

	s->hsave_pa = (u64)(uintptr_t)hv_alloc(PAGE_SIZE, PAGE_SIZE, 0);
	s->host_vmcb_pa = (u64)(uintptr_t)hv_alloc(PAGE_SIZE, PAGE_SIZE, 0);
	cpu->virt_cpu = s;
	return 0;
}

static int svm_cpu_enable(struct percpu *cpu)
{
	struct svm_cpu *s = cpu->virt_cpu;

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, s->hsave_pa);
	/* Capture this CPU's FS/GS/TR/... once; restored after every guest run. */
	__asm__ volatile("vmsave %%rax" ::"a"(s->host_vmcb_pa) : "memory");
	cpu->virt_enabled = true;
	return 0;
}

/* ------------------------------------------------------------------ nested page tables */

/* Guest-physical [0, size) to the partition's RAM, and nothing else: every other guest-physical
 * address faults to hv/exit.c. Nested walks are user accesses, hence PTE_U. */
static int svm_partition_init(struct partition *p)
{
	struct svm_partition *sp = hv_alloc(sizeof(*sp), PAGE_SIZE, 0);
	struct pt_ops ops = mmu_table_ops(&hv_pmm);
	int err;

	if (p->id + 1 >= asid_count)
		return BH_ENOMEM;
	err = ops.alloc_table(ops.ctx, &sp->npt_root);
	if (!err)
		err = pt_map(&ops, sp->npt_root, 0, p->ram_hpa, p->ram_size,
			     PTE_P | PTE_W | PTE_U, PAGE_1G);
	if (err)
		return err;
	p->arch = sp;
	return 0;
}

/* ------------------------------------------------------------------ vCPUs */

static int svm_vcpu_init(struct vcpu *v)
{
	struct svm_vcpu *s = v->arch;
	struct svm_partition *sp = v->part->arch;
	struct vmcb_control *c;

	if (!s) {
		s = hv_alloc(sizeof(*s), PAGE_SIZE, 0);
		s->vmcb = hv_alloc(sizeof(struct vmcb), PAGE_SIZE, 0);
		s->vmcb_pa = (u64)(uintptr_t)s->vmcb;
		v->arch = s;
	}
	memset(s->vmcb, 0, sizeof(*s->vmcb));
	c = &s->vmcb->control;
	/* NMI and INIT bring the CPU back to the hypervisor; physical interrupts go to the guest
	 * through its own IDT (no INTR intercept, no V_INTR_MASKING). */
	c->intercept_misc1 = INTERCEPT_NMI | INTERCEPT_SMI | INTERCEPT_INIT | INTERCEPT_CPUID |
			     INTERCEPT_INVD | INTERCEPT_HLT | INTERCEPT_INVLPGA | INTERCEPT_IOIO |
			     INTERCEPT_MSR | INTERCEPT_SHUTDOWN;
	c->intercept_misc2 = INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_VMLOAD |
			     INTERCEPT_VMSAVE | INTERCEPT_STGI | INTERCEPT_CLGI | INTERCEPT_SKINIT |
			     INTERCEPT_MONITOR | INTERCEPT_MWAIT | INTERCEPT_MWAIT_COND;
	/* CR4 writes are checked: a reserved bit must be #GP for the guest, and some SVM
	 * implementations (QEMU's) fail the whole VM entry instead. */
	c->intercept_cr = INTERCEPT_CR4_WRITE;
	c->iopm_base_pa = iopm_pa;
	c->msrpm_base_pa = msrpm_pa;
	c->guest_asid = v->part->id + 1;
	c->tlb_control = TLB_FLUSH_ALL;
	c->nested_control = 1; /* NP_ENABLE */
	c->nested_cr3 = sp->npt_root;
	s->vmcb->save.g_pat = DEFAULT_PAT;
	s->first_run = true;
	return 0;
}

static void set_segment(struct vmcb_segment *seg, u16 sel, u16 attrib, u32 limit, u64 base)
{
	*seg = (struct vmcb_segment){ .selector = sel, .attrib = attrib, .limit = limit,
				      .base = base };
}

static void svm_vcpu_set_entry(struct vcpu *v, const struct guest_entry *e)
{
	struct vmcb_save *st = &((struct svm_vcpu *)v->arch)->vmcb->save;
	bool long64 = e->mode == GUEST_MODE_LONG64;
	u16 code = long64 ? SEG_CODE64 : SEG_CODE32;

	if (e->mode == GUEST_MODE_REAL16) {
		set_segment(&st->cs, e->cs, SEG_CODE16, 0xffff, (u64)e->cs << 4);
		set_segment(&st->ds, 0, SEG_DATA16, 0xffff, 0);
	} else {
		set_segment(&st->cs, e->cs, code, 0xffffffff, 0);
		set_segment(&st->ds, e->ds, SEG_DATA, 0xffffffff, 0);
	}
	st->es = st->ss = st->fs = st->gs = st->ds;
	set_segment(&st->gdtr, 0, 0, e->mode == GUEST_MODE_REAL16 ? 0xffff : e->gdt_limit,
		    e->gdt_base);
	set_segment(&st->idtr, 0, 0, e->mode == GUEST_MODE_REAL16 ? 0xffff : 0, 0);
	set_segment(&st->ldtr, 0, SEG_LDT, 0xffff, 0);
	set_segment(&st->tr, 0, SEG_TSS_BUSY, 0x67, 0);
	st->cpl = 0;
	st->cr0 = (e->mode == GUEST_MODE_REAL16 ? 0 : CR0_PE) | CR0_ET |
		  (long64 ? CR0_PG | CR0_WP : 0);
	st->cr4 = long64 ? CR4_PAE : 0;
	st->cr3 = long64 ? e->cr3 : 0;
	st->efer = EFER_SVME | (long64 ? EFER_LME | EFER_LMA : 0);
	st->dr6 = 0xffff0ff0;
	st->dr7 = 0x400;
	st->g_pat = DEFAULT_PAT;

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
}

static void svm_vcpu_set_hlt_exit(struct vcpu *v, bool exit)
{
	struct vmcb_control *c = &((struct svm_vcpu *)v->arch)->vmcb->control;

	if (exit)
		c->intercept_misc1 |= INTERCEPT_HLT;
	else
		c->intercept_misc1 &= ~INTERCEPT_HLT;
}

static void extract_io(const struct vmcb_control *c, struct vcpu_exit *e)
{
	u64 info = c->exit_info1;

	e->reason = EXIT_IO;
	e->io.in = info & 1;
	e->io.string = (info >> 2) & 1;
	e->io.rep = (info >> 3) & 1;
	e->io.size = (info & (1u << 4)) ? 1 : (info & (1u << 5)) ? 2 : 4;
	e->io.port = (u16)(info >> 16);
	e->next_rip = c->exit_info2; /* always provided for IOIO, with or without NRIPS */
}

static enum exit_reason classify(u64 code)
{
	switch (code) {
	case SVM_EXIT_CPUID: return EXIT_CPUID;
	case SVM_EXIT_HLT: return EXIT_HLT;
	case SVM_EXIT_SHUTDOWN: return EXIT_SHUTDOWN;
	case SVM_EXIT_INVD: return EXIT_INVD;
	case SVM_EXIT_XSETBV: return EXIT_XSETBV;
	case SVM_EXIT_INIT: return EXIT_INIT;
	case SVM_EXIT_NMI: return EXIT_NMI;
	case SVM_EXIT_SMI:
	case SVM_EXIT_INTR: return EXIT_INTR;
	case SVM_EXIT_INVLPGA: return EXIT_VIRT_INSN;
	case SVM_EXIT_NPF: return EXIT_STAGE2_FAULT;
	case SVM_EXIT_INVALID:
	case 0xffffffffull: /* QEMU writes -1 as a 32-bit value */
		return EXIT_ENTRY_FAILED;
	case SVM_EXIT_CR4_WRITE: return EXIT_CR_WRITE;
	default:
		break;
	}
	if (code >= SVM_EXIT_VMRUN && code <= SVM_EXIT_SKINIT)
		return EXIT_VIRT_INSN;
	if (code >= SVM_EXIT_MONITOR && code <= SVM_EXIT_MWAIT_COND)
		return EXIT_VIRT_INSN;
	if (code >= SVM_EXIT_EXCEPTION_BASE && code < SVM_EXIT_EXCEPTION_BASE + 32)
		return EXIT_EXCEPTION;
	return EXIT_OTHER;
}

static void svm_vcpu_run(struct vcpu *v, struct vcpu_exit *e)
{
	struct svm_vcpu *s = v->arch;
	struct vmcb *vmcb = s->vmcb;
	struct vmcb_control *c = &vmcb->control;
	struct svm_cpu *cpu = this_cpu()->virt_cpu;

	vmcb->save.rax = v->regs.gpr[GPR_RAX];
	vmcb->save.rsp = v->regs.gpr[GPR_RSP];
	vmcb->save.rip = v->regs.rip;
	vmcb->save.rflags = v->regs.rflags;
	/* ASIDs are per partition and a partition's vCPU never moves, but flush on the first
	 * run and after a restart: the TLB may hold a previous life's translations. */
	c->tlb_control = s->first_run ? TLB_FLUSH_ALL : 0;
	s->first_run = false;

	svm_enter(s->vmcb_pa, &v->regs, cpu->host_vmcb_pa);

	v->regs.gpr[GPR_RAX] = vmcb->save.rax;
	v->regs.gpr[GPR_RSP] = vmcb->save.rsp;
	v->regs.rip = vmcb->save.rip;
	v->regs.rflags = vmcb->save.rflags;

	memset(e, 0, sizeof(*e));
	e->raw = c->exit_code;
	e->reason = classify(c->exit_code);
	if (has_nrips)
		e->next_rip = c->next_rip;
	switch (c->exit_code) {
	case SVM_EXIT_MSR:
		e->reason = c->exit_info1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		break;
	case SVM_EXIT_IOIO:
		extract_io(c, e);
		break;
	case SVM_EXIT_CR4_WRITE:
		e->cr.cr = 4;
		/* With decode assists, bit 63 says bits 3:0 name the source register. */
		e->cr.gpr = (c->exit_info1 >> 63) ? (s8)(c->exit_info1 & 0xf) : -1;
		break;
	case SVM_EXIT_NPF:
		e->stage2.gpa = c->exit_info2;
		e->stage2.write = (c->exit_info1 >> 1) & 1;
		e->stage2.fetch = (c->exit_info1 >> 4) & 1;
		break;
	default:
		if (e->reason == EXIT_EXCEPTION) {
			e->exception.vector = (u8)(c->exit_code - SVM_EXIT_EXCEPTION_BASE);
			e->exception.error_code = (u32)c->exit_info1;
		}
		break;
	}
}

static void svm_vcpu_get_sregs(struct vcpu *v, struct vcpu_sregs *r)
{
	const struct vmcb_save *st = &((struct svm_vcpu *)v->arch)->vmcb->save;

	r->cr0 = st->cr0;
	r->cr2 = st->cr2;
	r->cr3 = st->cr3;
	r->cr4 = st->cr4;
	r->efer = st->efer & ~(u64)EFER_SVME;
	r->cs_base = st->cs.base;
	r->ss_base = st->ss.base;
	r->ds_base = st->ds.base;
	r->es_base = st->es.base;
	r->cs_sel = st->cs.selector;
	r->cs_long = (st->cs.attrib >> 9) & 1;
	r->cs_32 = (st->cs.attrib >> 10) & 1;
	r->cpl = st->cpl;
}

static void svm_vcpu_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	struct vmcb_control *c = &((struct svm_vcpu *)v->arch)->vmcb->control;

	c->event_inject = vector | EVENT_TYPE_EXCEPTION | EVENT_VALID |
			  (has_error ? EVENT_ERROR_VALID | ((u64)error << 32) : 0);
}

static void svm_vcpu_write_cr(struct vcpu *v, u8 cr, u64 value)
{
	struct svm_vcpu *s = v->arch;

	if (cr == 4) {
		s->vmcb->save.cr4 = value;
		s->first_run = true; /* paging-mode bits changed: flush this guest's TLB */
	}
}

static bool svm_vcpu_msr_read(struct vcpu *v, u32 msr, u64 *value)
{
	const struct vmcb_save *st = &((struct svm_vcpu *)v->arch)->vmcb->save;

	switch (msr) {
	case MSR_EFER:
		*value = st->efer & ~(u64)EFER_SVME; /* the guest has no SVM */
		return true;
	case MSR_PAT:
		*value = st->g_pat;
		return true;
	default:
		return false;
	}
}

static bool svm_vcpu_msr_write(struct vcpu *v, u32 msr, u64 value, bool *ok)
{
	struct vmcb_save *st = &((struct svm_vcpu *)v->arch)->vmcb->save;

	switch (msr) {
	case MSR_EFER:
		/* SVME would hand the guest the virtualization extensions: #GP, as on a CPU
		 * without them. LMA is the CPU's to set; keep the current value. */
		*ok = !(value & ~(u64)EFER_GUEST_WRITABLE);
		if (*ok)
			st->efer = (value & ~(u64)EFER_LMA) | (st->efer & EFER_LMA) | EFER_SVME;
		return true;
	case MSR_PAT:
		*ok = pat_value_valid(value);
		if (*ok)
			st->g_pat = value;
		return true;
	default:
		return false;
	}
}

const struct virt_ops svm_ops = {
	.name = "AMD-V (SVM, nested paging)",
	.probe = svm_probe,
	.cpu_prepare = svm_cpu_prepare,
	.cpu_enable = svm_cpu_enable,
	.partition_init = svm_partition_init,
	.vcpu_init = svm_vcpu_init,
	.vcpu_set_entry = svm_vcpu_set_entry,
	.vcpu_set_hlt_exit = svm_vcpu_set_hlt_exit,
	.vcpu_run = svm_vcpu_run,
	.vcpu_get_sregs = svm_vcpu_get_sregs,
	.vcpu_write_cr = svm_vcpu_write_cr,
	.vcpu_inject_exception = svm_vcpu_inject_exception,
	.vcpu_msr_read = svm_vcpu_msr_read,
	.vcpu_msr_write = svm_vcpu_msr_write,
};
