/* Virtual CPUs, vendor-neutral. Vendor code (arch/x86_64/svm, arch/x86_64/vmx) runs the guest and
 * extracts what happened into struct vcpu_exit; shared code (hv/exit.c) decides what to do. The
 * vendor is reached only through struct virt_ops, chosen once at boot. */
#ifndef BH_HV_VCPU_H
#define BH_HV_VCPU_H

#include "types.h"
#include "arch/decode.h"
#include "hv/loader.h"

struct partition;
struct percpu;

enum exit_reason {
	EXIT_CPUID,
	EXIT_MSR_READ,
	EXIT_MSR_WRITE,
	EXIT_IO,
	EXIT_STAGE2_FAULT,  /* NPT/EPT: guest-physical address not mapped or not permitted */
	EXIT_HLT,
	EXIT_SHUTDOWN,      /* triple fault */
	EXIT_VIRT_INSN,     /* an SVM or VMX instruction: the guest gets #UD */
	EXIT_INVD,
	EXIT_XSETBV,
	EXIT_CR_WRITE,      /* a MOV to a control register the hypervisor watches (CR0, CR4) */
	EXIT_INIT,
	EXIT_NMI,
	EXIT_INTR,
	EXIT_EXCEPTION,     /* an intercepted guest exception */
	EXIT_ENTRY_FAILED,  /* the CPU refused the guest state */
	EXIT_OTHER,         /* anything else: the partition fails with the raw code logged */
	EXIT_REASON_COUNT
};

const char *exit_reason_name(enum exit_reason r);

struct vcpu_exit {
	enum exit_reason reason;
	u64 raw;            /* vendor exit code, for the log */
	u64 next_rip;       /* RIP after the instruction, 0 if the CPU did not say */
	union {
		struct {
			u16 port;
			u8 size;    /* 1, 2 or 4 */
			bool in;
			bool string;
			bool rep;
		} io;
		struct {
			u64 gpa;
			bool write;
			bool fetch;
		} stage2;
		struct {
			u8 vector;
			u32 error_code;
		} exception;
		struct {
			u8 cr;      /* which control register */
			s8 gpr;     /* source register if the CPU said (decode assists), else -1 */
		} cr;
	};
};

/* Register file kept by the world switch. gpr[] is indexed by enum gpr (RAX..R15); rsp, rip and
 * rflags live here too so shared code never touches a VMCB or VMCS. */
struct vcpu_regs {
	u64 gpr[GPR_COUNT];
	u64 rip;
	u64 rflags;
};

/* What shared code needs of the rest of the guest state (decoding, page walks, fault dumps). */
struct vcpu_sregs {
	u64 cr0, cr2, cr3, cr4, efer;
	u64 cs_base, ss_base, ds_base, es_base;
	u16 cs_sel;
	bool cs_long;   /* CS.L: 64-bit code */
	bool cs_32;     /* CS.D/B: 32-bit default operand size */
	u8 cpl;
};

enum vcpu_state {
	VCPU_IDLE = 0,     /* created, not running */
	VCPU_RUNNING,
	VCPU_WAIT_SIPI,    /* secondary vCPU waiting for its partition's INIT/SIPI */
	VCPU_HALTED,       /* the guest halted with interrupts off: done */
	VCPU_STOPPED,      /* taken back by the hypervisor */
};

struct vcpu {
	struct partition *part;
	u32 index;          /* within the partition */
	struct percpu *cpu; /* the physical CPU it runs on */
	volatile enum vcpu_state state;
	bool init_seen;     /* an INIT arrived: the next SIPI starts it */
	struct vcpu_regs regs;
	u64 exits[EXIT_REASON_COUNT];
	void *arch;         /* vendor state: VMCB/VMCS and friends */
};

struct virt_ops {
	const char *name;   /* "AMD-V (SVM)" */
	/* Boot CPU, once: does this machine have what the backend needs? Fills `why`. */
	int (*probe)(char *why, size_t why_size);
	/* Boot CPU, for every CPU that will run guests: allocates its per-CPU state. */
	int (*cpu_prepare)(struct percpu *cpu);
	/* On that CPU itself: switches virtualization on. */
	int (*cpu_enable)(struct percpu *cpu);
	/* Per partition: stage-2 tables over its RAM, ASID/VPID, permission maps. */
	int (*partition_init)(struct partition *p);
	/* Per vCPU: control block with the intercepts, not yet started. */
	int (*vcpu_init)(struct vcpu *v);
	/* Puts the vCPU into the state the boot protocol defines. */
	void (*vcpu_set_entry)(struct vcpu *v, const struct guest_entry *entry);
	/* Enters the guest until the next exit, and describes it. */
	void (*vcpu_run)(struct vcpu *v, struct vcpu_exit *exit);
	void (*vcpu_get_sregs)(struct vcpu *v, struct vcpu_sregs *s);
	/* Sets a guest control register (0 or 4) after shared code checked the value. */
	void (*vcpu_write_cr)(struct vcpu *v, u8 cr, u64 value);
	/* Whether HLT exits. Off, a guest's HLT halts the physical CPU until an interrupt, which
	 * the guest then takes directly: the way an idle guest waits. */
	void (*vcpu_set_hlt_exit)(struct vcpu *v, bool exit);
	/* Queues an exception for the next entry. */
	void (*vcpu_inject_exception)(struct vcpu *v, u8 vector, bool has_error, u32 error);
	/* Guest-visible values of MSRs the vendor keeps in its control block (EFER, PAT, ...):
	 * returns false if the vendor does not handle this MSR. A write may fail with #GP (false
	 * in *ok). */
	bool (*vcpu_msr_read)(struct vcpu *v, u32 msr, u64 *value);
	bool (*vcpu_msr_write)(struct vcpu *v, u32 msr, u64 value, bool *ok);
	/* On: the x2APIC MSRs vlapic_x2apic_msr_passthrough() allows reach the hardware without
	 * an exit (the guest put its LAPIC into x2APIC mode); off: every x2APIC MSR exits, as at
	 * each partition start. Called on the vCPU's own CPU, between its exits. NULL where the
	 * backend has no such map: its guests are not offered x2APIC. */
	void (*vcpu_set_x2apic_passthrough)(struct vcpu *v, bool on);
};

extern const struct virt_ops *virt;
extern const struct virt_ops svm_ops;
extern const struct virt_ops vmx_ops;

/* Runs v on this CPU until it stops; returns when the vCPU is done or taken back. */
void vcpu_loop(struct vcpu *v);

#endif
