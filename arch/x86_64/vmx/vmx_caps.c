/* VT-x capabilities, controls, fixed bits and exit decoding: pure functions of raw MSR and VMCS
 * values (see vmx_caps.h). */
#include "vmx_caps.h"
#include "vmcs.h"
#include "arch/paging.h"
#include "arch/x86.h"
#include "lib/error.h"
#include "lib/format.h"

#define EPT_WALK_LENGTH_4 (3ull << 3) /* EPTP bits 5:3: walk length minus one */

/* ------------------------------------------------------------------ controls */

int vmx_ctl_compute(u64 cap, u32 required, u32 optional, u32 forbidden, u32 *out, u32 *bad)
{
	u32 must_be_one = (u32)cap;
	u32 may_be_one = (u32)(cap >> 32);

	*bad = (required & ~may_be_one) | (forbidden & must_be_one);
	if (*bad) {
		*out = 0;
		return BH_ENOTSUP;
	}
	*out = must_be_one | required | (optional & may_be_one);
	return 0;
}

/* Exits nothing in Bulkhead handles, or controls that would change what the guest runs on:
 * they must be clearable (the TRUE_* MSRs make the "default1" ones clearable). */
#define PIN_FORBIDDEN (PIN_EXTERNAL_INTERRUPT_EXITING | PIN_PREEMPTION_TIMER |                    \
		       PIN_POSTED_INTERRUPTS)
#define PROC_REQUIRED (PROC_HLT_EXITING | PROC_MWAIT_EXITING | PROC_MONITOR_EXITING |        \
		       PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_SECONDARY_CONTROLS)
#define PROC_FORBIDDEN (PROC_INTERRUPT_WINDOW_EXITING | PROC_TSC_OFFSETTING |                 \
			PROC_INVLPG_EXITING | PROC_RDPMC_EXITING | PROC_RDTSC_EXITING |          \
			PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING | PROC_CR8_LOAD_EXITING | \
			PROC_CR8_STORE_EXITING | PROC_TPR_SHADOW | PROC_NMI_WINDOW_EXITING |     \
			PROC_MOV_DR_EXITING | PROC_UNCONDITIONAL_IO_EXITING |                     \
			PROC_MONITOR_TRAP_FLAG | PROC_PAUSE_EXITING)
#define PROC2_REQUIRED (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST)
/* Without these the instructions raise #UD in the guest although CPUID lists them. */
#define PROC2_OPTIONAL (PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID | PROC2_ENABLE_XSAVES)
#define EXITCTL_REQUIRED (EXITCTL_HOST_ADDRESS_SPACE_SIZE | EXITCTL_SAVE_IA32_PAT |                \
			  EXITCTL_LOAD_IA32_PAT | EXITCTL_SAVE_IA32_EFER | EXITCTL_LOAD_IA32_EFER)
#define EXITCTL_FORBIDDEN (EXITCTL_ACK_INTERRUPT_ON_EXIT | EXITCTL_SAVE_PREEMPTION_TIMER)
#define ENTRYCTL_REQUIRED (ENTRYCTL_LOAD_IA32_PAT | ENTRYCTL_LOAD_IA32_EFER)
#define ENTRYCTL_FORBIDDEN (ENTRYCTL_IA32E_MODE_GUEST | ENTRYCTL_TO_SMM |                          \
			    ENTRYCTL_DEACTIVATE_DUAL_MONITOR)

static int refuse(char *why, size_t why_size, const char *fmt, ...) PRINTF_LIKE(3, 4);

static int refuse(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
	return BH_ENOTSUP;
}

static int one_control(const char *name, u64 cap, u32 required, u32 optional, u32 forbidden,
		       u32 *out, char *why, size_t why_size)
{
	u32 bad;

	if (vmx_ctl_compute(cap, required, optional, forbidden, out, &bad) == 0)
		return 0;
	return refuse(why, why_size, "VT-x %s controls 0x%x cannot be set the way Bulkhead needs "
		      "(capability MSR 0x%016llx)", name, bad, (unsigned long long)cap);
}

static int check_basic(const struct vmx_msrs *m, char *why, size_t why_size)
{
	u64 size = VMX_BASIC_VMCS_SIZE(m->basic);

	if (size == 0 || size > PAGE_SIZE)
		return refuse(why, why_size, "VT-x reports a VMCS of %llu bytes, not within a page",
			      (unsigned long long)size);
	if (m->basic & VMX_BASIC_PHYS_32BIT)
		return refuse(why, why_size, "VT-x limited to 32-bit physical addresses is not "
			      "supported");
	if (VMX_BASIC_MEMTYPE(m->basic) != VMX_MEMTYPE_WB)
		return refuse(why, why_size, "VT-x wants VMCS memory type %llu, only write-back is "
			      "supported", (unsigned long long)VMX_BASIC_MEMTYPE(m->basic));
	if (!(m->misc & VMX_MISC_EXIT_SAVES_LMA))
		return refuse(why, why_size, "VT-x does not save EFER.LMA on VM exits");
	return 0;
}

/* EPT, VPID and unrestricted guest are what Bulkhead builds on: named one by one. */
static int check_ept_vpid(const struct vmx_msrs *m, u64 proc_cap, struct vmx_config *c,
			  char *why, size_t why_size)
{
	u32 may2 = (u32)(m->procbased2 >> 32);
	u64 ev = m->ept_vpid;

	if (!((proc_cap >> 32) & PROC_SECONDARY_CONTROLS))
		return refuse(why, why_size, "VT-x without secondary controls (no EPT, VPID or "
			      "unrestricted guest) is not supported");
	if (!(may2 & PROC2_ENABLE_EPT))
		return refuse(why, why_size, "VT-x without EPT (extended page tables) is not "
			      "supported");
	if (!(may2 & PROC2_UNRESTRICTED_GUEST))
		return refuse(why, why_size, "VT-x without unrestricted guest is not supported "
			      "(guests start in real mode or protected mode without paging)");
	if (!(may2 & PROC2_ENABLE_VPID))
		return refuse(why, why_size, "VT-x without VPID is not supported");
	if (!(ev & EPT_CAP_WALK_4) || !(ev & EPT_CAP_MEMTYPE_WB))
		return refuse(why, why_size, "EPT without 4-level walks or write-back tables is "
			      "not supported (EPT/VPID capabilities 0x%llx)",
			      (unsigned long long)ev);
	if (!(ev & EPT_CAP_INVEPT) || !(ev & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)))
		return refuse(why, why_size, "EPT without INVEPT is not supported");
	if (!(ev & VPID_CAP_INVVPID) || !(ev & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL)))
		return refuse(why, why_size, "VPID without INVVPID is not supported");
	c->invept_type = (ev & EPT_CAP_INVEPT_SINGLE) ? INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXT;
	c->invvpid_type = (ev & VPID_CAP_INVVPID_SINGLE) ? INVVPID_SINGLE_CONTEXT
							  : INVVPID_ALL_CONTEXT;
	c->ept_max_page = (ev & EPT_CAP_PAGE_1G) ? PAGE_1G : (ev & EPT_CAP_PAGE_2M) ? PAGE_2M
										  : PAGE_4K;
	return 0;
}

int vmx_config_compute(const struct vmx_msrs *m, struct vmx_config *c, char *why,
		       size_t why_size)
{
	bool true_ctls = (m->basic & VMX_BASIC_TRUE_CTLS) != 0;
	u64 pin_cap = true_ctls ? m->true_pinbased : m->pinbased;
	u64 proc_cap = true_ctls ? m->true_procbased : m->procbased;
	u64 exit_cap = true_ctls ? m->true_exit : m->exit;
	u64 entry_cap = true_ctls ? m->true_entry : m->entry;
	int err;

	*c = (struct vmx_config){ 0 };
	err = check_basic(m, why, why_size);
	if (!err)
		err = check_ept_vpid(m, proc_cap, c, why, why_size);
	if (!err)
		err = one_control("pin-based", pin_cap, PIN_NMI_EXITING, 0, PIN_FORBIDDEN, &c->pin,
				  why, why_size);
	if (!err)
		err = one_control("processor-based", proc_cap, PROC_REQUIRED, 0, PROC_FORBIDDEN,
				  &c->proc, why, why_size);
	if (!err)
		err = one_control("secondary processor-based", m->procbased2, PROC2_REQUIRED,
				  PROC2_OPTIONAL, ~(u32)(PROC2_REQUIRED | PROC2_OPTIONAL),
				  &c->proc2, why, why_size);
	if (!err)
		err = one_control("VM-exit", exit_cap, EXITCTL_REQUIRED, 0, EXITCTL_FORBIDDEN,
				  &c->exit_ctls, why, why_size);
	if (!err)
		err = one_control("VM-entry", entry_cap, ENTRYCTL_REQUIRED, 0, ENTRYCTL_FORBIDDEN,
				  &c->entry, why, why_size);
	if (!err && !((entry_cap >> 32) & ENTRYCTL_IA32E_MODE_GUEST))
		err = refuse(why, why_size, "VT-x cannot enter 64-bit guests");
	if (err)
		return err;

	c->revision = (u32)(m->basic & VMX_BASIC_REVISION_MASK);
	c->proc_must_be_one = (u32)proc_cap;
	c->cr0_fixed0 = m->cr0_fixed0;
	c->cr0_fixed1 = m->cr0_fixed1;
	c->cr4_fixed0 = m->cr4_fixed0;
	c->cr4_fixed1 = m->cr4_fixed1;
	/* CD and NW are the guest's to set but never reach the CPU: VM entry and exit leave
	 * them as they are (SDM 27.3.2.1, 28.5.1), so a guest's write would disable caching
	 * for the hypervisor too. The shadow holds the guest's view; memory types are EPT's. */
	c->cr0_mask = ((m->cr0_fixed0 & ~(u64)(CR0_PE | CR0_PG)) | ~m->cr0_fixed1 | CR0_CD |
		       CR0_NW) & 0xffffffffull;
	c->cr4_mask = ~0ull;
	return 0;
}

int vmx_feature_control(u64 current, bool *write, u64 *value, char *why, size_t why_size)
{
	*write = false;
	*value = current;
	if (current & FEATURE_CONTROL_LOCKED) {
		if (current & FEATURE_CONTROL_VMX_OUTSIDE_SMX)
			return 0;
		return refuse(why, why_size, "VT-x is disabled by the firmware "
			      "(IA32_FEATURE_CONTROL is locked with VMX off); enable it in the "
			      "firmware setup");
	}
	*write = true;
	*value = current | FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
	return 0;
}

u64 vmx_cr0_real(const struct vmx_config *c, u64 guest_cr0)
{
	return (guest_cr0 | (c->cr0_fixed0 & ~(u64)(CR0_PE | CR0_PG))) & c->cr0_fixed1 &
	       ~(u64)(CR0_CD | CR0_NW);
}

u64 vmx_cr4_real(const struct vmx_config *c, u64 guest_cr4)
{
	return (guest_cr4 | c->cr4_fixed0) & c->cr4_fixed1;
}

u64 vmx_cr_visible(u64 real, u64 shadow, u64 mask)
{
	return (real & ~mask) | (shadow & mask);
}

u64 vmx_eptp(u64 root)
{
	return (root & PTE_ADDR_MASK) | EPT_WALK_LENGTH_4 | VMX_MEMTYPE_WB;
}

#define MSR_BITMAP_READ_LOW 0x000
#define MSR_BITMAP_READ_HIGH 0x400
#define MSR_BITMAP_WRITE_OFFSET 0x800

bool vmx_msr_bitmap_pass_rw(u8 *bitmap, u32 msr, bool read, bool write)
{
	u32 base, bit = msr & 0x1fff;
	u8 mask = (u8)(1u << (bit % 8));

	if (msr <= 0x1fff)
		base = MSR_BITMAP_READ_LOW;
	else if (msr >= 0xc0000000 && msr <= 0xc0001fff)
		base = MSR_BITMAP_READ_HIGH;
	else
		return false;
	if (read)
		bitmap[base + bit / 8] &= (u8)~mask;
	if (write)
		bitmap[MSR_BITMAP_WRITE_OFFSET + base + bit / 8] &= (u8)~mask;
	return true;
}

bool vmx_msr_bitmap_pass(u8 *bitmap, u32 msr)
{
	return vmx_msr_bitmap_pass_rw(bitmap, msr, true, true);
}

/* ------------------------------------------------------------------ exits */

unsigned vmx_exit_needs(u32 exit_reason)
{
	switch (exit_reason & 0xffff) {
	case VMX_EXIT_EXCEPTION_NMI:
		return VMX_NEED_INTR_INFO | VMX_NEED_VECTORING;
	case VMX_EXIT_EXTERNAL_INTERRUPT:
	case VMX_EXIT_TRIPLE_FAULT:
	case VMX_EXIT_TASK_SWITCH:
		return VMX_NEED_VECTORING;
	case VMX_EXIT_CPUID:
	case VMX_EXIT_HLT:
	case VMX_EXIT_INVD:
	case VMX_EXIT_RDMSR:
	case VMX_EXIT_WRMSR:
	case VMX_EXIT_XSETBV:
		return VMX_NEED_INSN_LENGTH;
	case VMX_EXIT_IO:
	case VMX_EXIT_CR_ACCESS:
		return VMX_NEED_QUALIFICATION | VMX_NEED_INSN_LENGTH;
	case VMX_EXIT_EPT_VIOLATION:
		return VMX_NEED_QUALIFICATION | VMX_NEED_GPA | VMX_NEED_VECTORING;
	case VMX_EXIT_EPT_MISCONFIG:
		return VMX_NEED_GPA | VMX_NEED_VECTORING;
	case VMX_EXIT_INVALID_GUEST_STATE:
	case VMX_EXIT_MSR_LOADING:
	case VMX_EXIT_MACHINE_CHECK:
		return VMX_NEED_QUALIFICATION;
	default:
		return 0;
	}
}

/* Exit qualification of a control-register access: CR number, access type, register. */
#define CR_QUAL_NUMBER(q) ((u8)((q) & 0xf))
#define CR_QUAL_TYPE(q) (((q) >> 4) & 3)
#define CR_QUAL_GPR(q) ((s8)(((q) >> 8) & 0xf))
#define CR_ACCESS_MOV_TO_CR 0

/* Exit qualification of an I/O instruction. */
#define IO_QUAL_SIZE(q) ((u8)(((q) & 7) + 1)) /* 0, 1, 3: one, two, four bytes */
#define IO_QUAL_IN (1u << 3)
#define IO_QUAL_STRING (1u << 4)
#define IO_QUAL_REP (1u << 5)
#define IO_QUAL_PORT(q) ((u16)((q) >> 16))

/* Exit qualification of an EPT violation. */
#define EPT_QUAL_WRITE (1u << 1)
#define EPT_QUAL_FETCH (1u << 2)
#define EPT_QUAL_LINEAR_VALID (1u << 7)
#define EPT_QUAL_FINAL_TRANSLATION (1u << 8)

static enum exit_reason classify(u32 basic)
{
	switch (basic) {
	case VMX_EXIT_EXTERNAL_INTERRUPT:
	case VMX_EXIT_IO_SMI:
	case VMX_EXIT_OTHER_SMI:
		return EXIT_INTR;
	case VMX_EXIT_TRIPLE_FAULT: return EXIT_SHUTDOWN;
	case VMX_EXIT_INIT: return EXIT_INIT;
	case VMX_EXIT_CPUID: return EXIT_CPUID;
	case VMX_EXIT_HLT: return EXIT_HLT;
	case VMX_EXIT_INVD: return EXIT_INVD;
	case VMX_EXIT_RDMSR: return EXIT_MSR_READ;
	case VMX_EXIT_WRMSR: return EXIT_MSR_WRITE;
	case VMX_EXIT_IO: return EXIT_IO;
	case VMX_EXIT_XSETBV: return EXIT_XSETBV;
	case VMX_EXIT_EPT_VIOLATION:
	case VMX_EXIT_EPT_MISCONFIG:
		return EXIT_STAGE2_FAULT;
	case VMX_EXIT_INVALID_GUEST_STATE:
	case VMX_EXIT_MSR_LOADING:
	case VMX_EXIT_MACHINE_CHECK:
		return EXIT_ENTRY_FAILED;
	/* Every VMX instruction exits in VMX non-root operation; so do GETSEC (SMX), ENCLS (SGX)
	 * and, as configured, MONITOR/MWAIT: the guest has none of them. */
	case VMX_EXIT_GETSEC:
	case VMX_EXIT_VMCALL:
	case VMX_EXIT_VMCLEAR:
	case VMX_EXIT_VMLAUNCH:
	case VMX_EXIT_VMPTRLD:
	case VMX_EXIT_VMPTRST:
	case VMX_EXIT_VMREAD:
	case VMX_EXIT_VMRESUME:
	case VMX_EXIT_VMWRITE:
	case VMX_EXIT_VMXOFF:
	case VMX_EXIT_VMXON:
	case VMX_EXIT_INVEPT:
	case VMX_EXIT_INVVPID:
	case VMX_EXIT_VMFUNC:
	case VMX_EXIT_ENCLS:
	case VMX_EXIT_MONITOR:
	case VMX_EXIT_MWAIT:
		return EXIT_VIRT_INSN;
	default:
		return EXIT_OTHER;
	}
}

void vmx_decode_exit(const struct vmx_exit_info *x, struct vcpu_exit *e)
{
	u32 basic = x->reason & 0xffff;
	u64 q = x->qualification;

	*e = (struct vcpu_exit){ .raw = x->reason, .reason = classify(basic) };
	if (x->reason & VMX_EXIT_REASON_ENTRY_FAILURE) {
		e->reason = EXIT_ENTRY_FAILED;
		return;
	}
	if (vmx_exit_needs(basic) & VMX_NEED_INSN_LENGTH)
		e->next_rip = x->rip + x->insn_length;
	switch (basic) {
	case VMX_EXIT_EXCEPTION_NMI:
		if ((x->intr_info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI << INTR_INFO_TYPE_SHIFT) {
			e->reason = EXIT_NMI;
			break;
		}
		e->reason = EXIT_EXCEPTION;
		e->exception.vector = (u8)(x->intr_info & INTR_INFO_VECTOR_MASK);
		e->exception.error_code = (x->intr_info & INTR_INFO_ERROR_CODE) ? x->intr_error : 0;
		break;
	case VMX_EXIT_CR_ACCESS:
		if (CR_QUAL_TYPE(q) != CR_ACCESS_MOV_TO_CR) {
			/* CLTS, LMSW, MOV from CR: no bit the hypervisor owns makes them exit. */
			e->reason = EXIT_OTHER;
			break;
		}
		e->reason = EXIT_CR_WRITE;
		e->cr.cr = CR_QUAL_NUMBER(q);
		e->cr.gpr = CR_QUAL_GPR(q);
		break;
	case VMX_EXIT_IO:
		e->io.port = IO_QUAL_PORT(q);
		e->io.size = IO_QUAL_SIZE(q);
		e->io.in = (q & IO_QUAL_IN) != 0;
		e->io.string = (q & IO_QUAL_STRING) != 0;
		e->io.rep = (q & IO_QUAL_REP) != 0;
		break;
	case VMX_EXIT_EPT_VIOLATION:
		/* A fault of the guest's own page walk, or of the delivery of an event through
		 * its IDT, is not the access of the instruction at RIP: it cannot be completed
		 * like an empty bus, and the partition fails (raw code in the log). */
		if ((x->vectoring_info & INTR_INFO_VALID) ||
		    ((q & EPT_QUAL_LINEAR_VALID) && !(q & EPT_QUAL_FINAL_TRANSLATION))) {
			e->reason = EXIT_OTHER;
			break;
		}
		e->stage2.gpa = x->gpa;
		e->stage2.write = (q & EPT_QUAL_WRITE) != 0;
		e->stage2.fetch = (q & EPT_QUAL_FETCH) != 0;
		break;
	case VMX_EXIT_EPT_MISCONFIG:
		if (x->vectoring_info & INTR_INFO_VALID) {
			e->reason = EXIT_OTHER;
			break;
		}
		e->stage2.gpa = x->gpa;
		break;
	default:
		break;
	}
}

const char *vmx_insn_error_name(u32 error)
{
	static const char *const names[] = {
		[1] = "VMCALL in VMX root operation",
		[2] = "VMCLEAR with an invalid physical address",
		[3] = "VMCLEAR with the VMXON pointer",
		[4] = "VMLAUNCH with a VMCS that is not clear",
		[5] = "VMRESUME with a VMCS that is not launched",
		[6] = "VMRESUME after VMXOFF",
		[7] = "VM entry with invalid control fields",
		[8] = "VM entry with invalid host-state fields",
		[9] = "VMPTRLD with an invalid physical address",
		[10] = "VMPTRLD with the VMXON pointer",
		[11] = "VMPTRLD with a wrong VMCS revision identifier",
		[12] = "VMREAD/VMWRITE of an unsupported VMCS field",
		[13] = "VMWRITE of a read-only VMCS field",
		[15] = "VMXON in VMX root operation",
		[16] = "VM entry with an invalid executive-VMCS pointer",
		[17] = "VM entry with a non-launched executive VMCS",
		[18] = "VM entry with an executive-VMCS pointer that is not the VMXON pointer",
		[19] = "VMCALL with a VMCS that is not clear",
		[20] = "VMCALL with invalid VM-exit control fields",
		[22] = "VMCALL with a wrong MSEG revision identifier",
		[23] = "VMXOFF under the dual-monitor treatment",
		[24] = "VMCALL with invalid SMM-monitor features",
		[25] = "VM entry with invalid execution controls in the executive VMCS",
		[26] = "VM entry with events blocked by MOV SS",
		[28] = "invalid operand to INVEPT/INVVPID",
	};

	return error < ARRAY_SIZE(names) && names[error] ? names[error] : "unknown error";
}
