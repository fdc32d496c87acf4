/* The pure part of the VT-x backend: what this CPU's capability MSRs allow, the controls and
 * fixed bits derived from them, and the decoding of VM exits into a struct vcpu_exit. No
 * instruction is executed here: vmx.c reads the MSRs and the VMCS and hands the raw values in,
 * so the host unit tests (tests/unit/test_vmx.c) feed made-up values. */
#ifndef BH_VMX_CAPS_H
#define BH_VMX_CAPS_H

#include "types.h"
#include "hv/vcpu.h"

/* Raw capability MSRs of one CPU. */
struct vmx_msrs {
	u64 basic;
	u64 pinbased, procbased, exit, entry;                     /* IA32_VMX_*_CTLS */
	u64 true_pinbased, true_procbased, true_exit, true_entry; /* read if BASIC bit 55 */
	u64 procbased2;  /* IA32_VMX_PROCBASED_CTLS2, 0 if the secondary controls do not exist */
	u64 misc;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid;    /* IA32_VMX_EPT_VPID_CAP, 0 if neither EPT nor VPID exist */
};

/* What the backend runs every guest with, derived once from struct vmx_msrs. */
struct vmx_config {
	u32 revision;        /* VMCS revision identifier */
	u32 pin, proc, proc2, exit_ctls, entry; /* entry: without "IA-32e mode guest" */
	u32 proc_must_be_one;  /* primary processor-based controls the CPU does not let go */
	u64 ept_max_page;    /* PAGE_1G, PAGE_2M or PAGE_4K */
	u32 invept_type;     /* INVEPT_SINGLE_CONTEXT or INVEPT_ALL_CONTEXT */
	u32 invvpid_type;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	/* CR0/CR4 bits the guest does not own: it reads them from the read shadow and a write
	 * that changes one exits. CR0: the bits VMX fixes (NE), except PE/PG which unrestricted
	 * guest frees, and CD/NW (caching stays on: VM entry does not load them). CR4: all of
	 * them, so that the hypervisor checks every change. */
	u64 cr0_mask, cr4_mask;
};

/* One VM-execution/exit/entry control word from its capability MSR (bits 31:0: allowed
 * 0-settings, a 1 means the bit must be 1; bits 63:32: allowed 1-settings). `required` bits
 * must be set, `optional` ones are set where allowed, `forbidden` ones must be clearable.
 * Returns 0 with *out, or BH_ENOTSUP with the offending bits in *bad. */
int vmx_ctl_compute(u64 cap, u32 required, u32 optional, u32 forbidden, u32 *out, u32 *bad);

/* Checks that the CPU has what Bulkhead needs (EPT with 4-level walks and write-back tables,
 * VPID, unrestricted guest, INVEPT/INVVPID, EFER/PAT switching, the MSR and I/O bitmaps) and
 * computes the controls. On failure returns BH_ENOTSUP and says what is missing in `why`. */
int vmx_config_compute(const struct vmx_msrs *m, struct vmx_config *c, char *why,
		       size_t why_size);

/* What IA32_FEATURE_CONTROL must become before VMXON: returns 0 and sets *write (with the
 * value in *value) when the firmware left it unlocked, or 0 with *write false when it is
 * locked with VMX enabled, or BH_ENOTSUP (with `why`) when it is locked with VMX disabled. */
int vmx_feature_control(u64 current, bool *write, u64 *value, char *why, size_t why_size);

/* The CR0/CR4 the CPU runs the guest with, for the value the guest believes it has: the fixed
 * bits forced (CR0.PE/PG stay the guest's: unrestricted guest), CR0.CD/NW clear. */
u64 vmx_cr0_real(const struct vmx_config *c, u64 guest_cr0);
u64 vmx_cr4_real(const struct vmx_config *c, u64 guest_cr4);
/* What the guest sees: its own bits where it owns them, the read shadow where it does not. */
u64 vmx_cr_visible(u64 real, u64 shadow, u64 mask);

/* EPT pointer: write-back paging structures, 4-level walk, no accessed/dirty flags. */
u64 vmx_eptp(u64 root);

/* MSR bitmap (4 KiB, all ones = every MSR exits): lets the guest read and write `msr`
 * without an exit. Returns false for an MSR the bitmap cannot cover. */
bool vmx_msr_bitmap_pass(u8 *bitmap, u32 msr);
/* The same for reads and writes separately (either may stay intercepted). */
bool vmx_msr_bitmap_pass_rw(u8 *bitmap, u32 msr, bool read, bool write);

/* ------------------------------------------------------------------ exits */

/* The VMCS fields an exit needs read beyond the exit reason, RIP, RSP and RFLAGS. */
enum {
	VMX_NEED_QUALIFICATION = 1u << 0,
	VMX_NEED_GPA = 1u << 1,           /* guest-physical address */
	VMX_NEED_INTR_INFO = 1u << 2,     /* exit interruption information and error code */
	VMX_NEED_INSN_LENGTH = 1u << 3,   /* instruction exits: next RIP is RIP + length */
	VMX_NEED_VECTORING = 1u << 4,     /* may have happened while the guest delivered an event */
};
unsigned vmx_exit_needs(u32 exit_reason);

struct vmx_exit_info {
	u32 reason;           /* the whole exit-reason field (bit 31: VM-entry failure) */
	u64 qualification;
	u64 gpa;
	u32 intr_info, intr_error;
	u32 vectoring_info;   /* IDT-vectoring information */
	u64 rip;
	u32 insn_length;
};

/* Turns an exit into the vendor-neutral description shared code decides on. */
void vmx_decode_exit(const struct vmx_exit_info *x, struct vcpu_exit *e);

/* A short text for a VM-instruction error number (VMCS field 0x4400). */
const char *vmx_insn_error_name(u32 error);

#endif
