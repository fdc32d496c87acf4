/* The VMCB (AMD APM vol. 2, appendix B): control area at 0x000, state save area at 0x400. */
#ifndef BH_SVM_VMCB_H
#define BH_SVM_VMCB_H

#include "types.h"

struct vmcb_segment {
	u16 selector;
	u16 attrib;   /* packed: type[3:0] S[4] DPL[6:5] P[7] AVL[8] L[9] DB[10] G[11] */
	u32 limit;
	u64 base;
} PACKED;

struct vmcb_control {
	u32 intercept_cr;          /* 0x000: reads [15:0], writes [31:16] */
	u32 intercept_dr;          /* 0x004 */
	u32 intercept_exceptions;  /* 0x008 */
	u32 intercept_misc1;       /* 0x00c */
	u32 intercept_misc2;       /* 0x010 */
	u32 intercept_misc3;       /* 0x014 */
	u8 reserved1[0x03c - 0x018];
	u16 pause_filter_threshold;/* 0x03c */
	u16 pause_filter_count;    /* 0x03e */
	u64 iopm_base_pa;          /* 0x040 */
	u64 msrpm_base_pa;         /* 0x048 */
	u64 tsc_offset;            /* 0x050 */
	u32 guest_asid;            /* 0x058 */
	u8 tlb_control;            /* 0x05c */
	u8 reserved2[3];
	u64 int_control;           /* 0x060: V_TPR, V_IRQ, V_INTR_MASKING (bit 24), ... */
	u64 int_state;             /* 0x068: interrupt shadow */
	u64 exit_code;             /* 0x070 */
	u64 exit_info1;            /* 0x078 */
	u64 exit_info2;            /* 0x080 */
	u64 exit_int_info;         /* 0x088 */
	u64 nested_control;        /* 0x090: bit 0 NP_ENABLE */
	u64 avic_bar;              /* 0x098 */
	u64 ghcb_pa;               /* 0x0a0 */
	u64 event_inject;          /* 0x0a8 */
	u64 nested_cr3;            /* 0x0b0 */
	u64 virt_ext;              /* 0x0b8 */
	u32 clean_bits;            /* 0x0c0 */
	u32 reserved3;
	u64 next_rip;              /* 0x0c8 */
	u8 insn_len;               /* 0x0d0 */
	u8 insn_bytes[15];         /* 0x0d1 */
	u8 reserved4[0x400 - 0x0e0];
} PACKED;

struct vmcb_save {
	struct vmcb_segment es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400 */
	u8 reserved1[0x4cb - 0x4a0];
	u8 cpl;                    /* 0x4cb */
	u32 reserved2;
	u64 efer;                  /* 0x4d0 */
	u8 reserved3[0x548 - 0x4d8];
	u64 cr4;                   /* 0x548 */
	u64 cr3;
	u64 cr0;
	u64 dr7;
	u64 dr6;
	u64 rflags;
	u64 rip;                   /* 0x578 */
	u8 reserved4[0x5d8 - 0x580];
	u64 rsp;                   /* 0x5d8 */
	u8 reserved5[0x5f8 - 0x5e0];
	u64 rax;                   /* 0x5f8 */
	u64 star, lstar, cstar, sfmask, kernel_gs_base;
	u64 sysenter_cs, sysenter_esp, sysenter_eip;
	u64 cr2;                   /* 0x640 */
	u8 reserved6[0x668 - 0x648];
	u64 g_pat;                 /* 0x668 */
	u8 reserved7[0x1000 - 0x670];
} PACKED;

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
} PACKED;

_Static_assert(sizeof(struct vmcb) == 4096, "VMCB is one page");
_Static_assert(__builtin_offsetof(struct vmcb, save.efer) == 0x4d0, "VMCB EFER");
_Static_assert(__builtin_offsetof(struct vmcb, save.rip) == 0x578, "VMCB RIP");
_Static_assert(__builtin_offsetof(struct vmcb, save.rax) == 0x5f8, "VMCB RAX");
_Static_assert(__builtin_offsetof(struct vmcb, save.g_pat) == 0x668, "VMCB G_PAT");
_Static_assert(__builtin_offsetof(struct vmcb, control.next_rip) == 0x0c8, "VMCB nRIP");

/* intercept_cr: writes are bits 16-31 */
#define INTERCEPT_CR4_WRITE (1u << (16 + 4))

/* intercept_misc1 */
#define INTERCEPT_INTR (1u << 0)
#define INTERCEPT_NMI (1u << 1)
#define INTERCEPT_SMI (1u << 2)
#define INTERCEPT_INIT (1u << 3)
#define INTERCEPT_CPUID (1u << 18)
#define INTERCEPT_INVD (1u << 22)
#define INTERCEPT_HLT (1u << 24)
#define INTERCEPT_INVLPGA (1u << 26)
#define INTERCEPT_IOIO (1u << 27)
#define INTERCEPT_MSR (1u << 28)
#define INTERCEPT_SHUTDOWN (1u << 31)
/* intercept_misc2 */
#define INTERCEPT_VMRUN (1u << 0)
#define INTERCEPT_VMMCALL (1u << 1)
#define INTERCEPT_VMLOAD (1u << 2)
#define INTERCEPT_VMSAVE (1u << 3)
#define INTERCEPT_STGI (1u << 4)
#define INTERCEPT_CLGI (1u << 5)
#define INTERCEPT_SKINIT (1u << 6)
#define INTERCEPT_MONITOR (1u << 10)
#define INTERCEPT_MWAIT (1u << 11)
#define INTERCEPT_MWAIT_COND (1u << 12)

/* Exit codes */
#define SVM_EXIT_CR4_WRITE 0x14
#define SVM_EXIT_EXCEPTION_BASE 0x40
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_SMI 0x62
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_INVLPGA 0x7a
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_MONITOR 0x8a
#define SVM_EXIT_MWAIT_COND 0x8c
#define SVM_EXIT_XSETBV 0x8d
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xffffffffffffffffull

/* EVENTINJ */
#define EVENT_VALID (1ull << 31)
#define EVENT_ERROR_VALID (1ull << 11)
#define EVENT_TYPE_EXCEPTION (3ull << 8)

#endif
