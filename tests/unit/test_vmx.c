/* The pure part of the VT-x backend (arch/x86_64/vmx/vmx_caps.c): controls computed from the
 * capability MSRs (TRUE_* or not), the refusal of CPUs without EPT, VPID or unrestricted guest,
 * IA32_FEATURE_CONTROL, CR0/CR4 fixed bits and shadows, the EPT pointer, the MSR bitmap, and
 * the decoding of exits into struct vcpu_exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../arch/x86_64/vmx/vmx_caps.h"
#include "../../arch/x86_64/vmx/vmcs.h"
#include "arch/paging.h"
#include "lib/error.h"

/* A Skylake-like CPU as Bochs' corei7_skylake_x describes it (made-up but plausible values). */
static struct vmx_msrs skylake(void)
{
	struct vmx_msrs m = {
		.basic = 1 | (0x1000ull << 32) | (6ull << 50) | (1ull << 54) | VMX_BASIC_TRUE_CTLS,
		.pinbased = 0x0000007f00000016ull,
		.true_pinbased = 0x0000007f00000016ull,
		/* default1: bits 1, 4-6, 8, 13-16 (CR3 load/store exiting), 26 */
		.procbased = 0xfff9fffe0401e172ull,
		.true_procbased = 0xfff9fffe04006172ull,
		.exit = 0x00ffffff00036dffull,
		.true_exit = 0x00ffffff00036dfbull,
		.entry = 0x0003ffff000011ffull,
		.true_entry = 0x0003ffff000011fbull,
		.procbased2 = 0x005fffffull << 32,
		.misc = 0x20,
		.cr0_fixed0 = 0x80000021,
		.cr0_fixed1 = 0xffffffff,
		.cr4_fixed0 = 0x2000,
		.cr4_fixed1 = 0x3767ff,
		.ept_vpid = EPT_CAP_WALK_4 | EPT_CAP_MEMTYPE_WB | EPT_CAP_PAGE_2M |
			    EPT_CAP_PAGE_1G |
			    EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL |
			    VPID_CAP_INVVPID | VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL,
	};

	return m;
}

/* ------------------------------------------------------------------ vmx_ctl_compute */

static void test_ctl_required_optional_and_default1(void **state)
{
	u32 out, bad;

	(void)state;
	/* must be one: bit 1; may be one: bits 0-7 */
	assert_int_equal(vmx_ctl_compute(0x000000ff00000002ull, 0x10, 0x300, 0, &out, &bad), 0);
	assert_int_equal(out, 0x12); /* optional bits 8/9 not allowed: left out */
	assert_int_equal(bad, 0);
}

static void test_ctl_required_bit_not_allowed(void **state)
{
	u32 out, bad;

	(void)state;
	assert_int_equal(vmx_ctl_compute(0x0000000f00000000ull, 0x30, 0, 0, &out, &bad),
			 BH_ENOTSUP);
	assert_int_equal(bad, 0x30);
}

static void test_ctl_forbidden_bit_forced_on(void **state)
{
	u32 out, bad;

	(void)state;
	assert_int_equal(vmx_ctl_compute(0x000000ff00000006ull, 0, 0, 0x4, &out, &bad), BH_ENOTSUP);
	assert_int_equal(bad, 0x4);
	/* forbidden but clearable: fine, and stays clear */
	assert_int_equal(vmx_ctl_compute(0x000000ff00000002ull, 0, 0, 0x4, &out, &bad), 0);
	assert_int_equal(out, 0x2);
}

/* ------------------------------------------------------------------ vmx_config_compute */

static void test_config_skylake(void **state)
{
	struct vmx_msrs m = skylake();
	struct vmx_config c;
	char why[200] = "";

	(void)state;
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), 0);
	assert_int_equal(c.revision, 1);
	assert_true(c.pin & PIN_NMI_EXITING);
	assert_false(c.pin & PIN_EXTERNAL_INTERRUPT_EXITING);
	assert_true(c.proc & PROC_HLT_EXITING);
	assert_true(c.proc & PROC_USE_IO_BITMAPS);
	assert_true(c.proc & PROC_USE_MSR_BITMAPS);
	assert_true(c.proc & PROC_SECONDARY_CONTROLS);
	assert_true(c.proc & PROC_MONITOR_EXITING);
	assert_true(c.proc & PROC_MWAIT_EXITING);
	/* The TRUE MSR lets CR3 load/store exiting go, which the plain MSR forces on. */
	assert_false(c.proc & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING));
	assert_false(c.proc & (PROC_RDTSC_EXITING | PROC_UNCONDITIONAL_IO_EXITING));
	/* Default-1 bits that change nothing stay on, as the CPU demands. */
	assert_int_equal(c.proc & 0x04006172u, 0x04006172u);
	assert_int_equal(c.proc2, PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST |
				  PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID | PROC2_ENABLE_XSAVES);
	assert_true(c.exit_ctls & EXITCTL_HOST_ADDRESS_SPACE_SIZE);
	assert_true(c.exit_ctls & EXITCTL_LOAD_IA32_EFER);
	assert_true(c.exit_ctls & EXITCTL_SAVE_IA32_EFER);
	assert_true(c.exit_ctls & EXITCTL_LOAD_IA32_PAT);
	assert_false(c.exit_ctls & EXITCTL_ACK_INTERRUPT_ON_EXIT);
	assert_true(c.entry & ENTRYCTL_LOAD_IA32_EFER);
	assert_false(c.entry & ENTRYCTL_IA32E_MODE_GUEST); /* per vCPU */
	assert_int_equal(c.ept_max_page, PAGE_1G);
	assert_int_equal(c.invept_type, INVEPT_SINGLE_CONTEXT);
	assert_int_equal(c.invvpid_type, INVVPID_SINGLE_CONTEXT);
	/* NE, and CD/NW (VM entry does not load them); PE and PG are the guest's. */
	assert_int_equal(c.cr0_mask, 0x60000020);
	assert_int_equal(c.cr4_mask, ~0ull);
	/* An idle guest's HLT can run natively: HLT exiting is not forced on. */
	assert_false(c.proc_must_be_one & PROC_HLT_EXITING);
	assert_int_equal(c.proc_must_be_one, 0x04006172u);
}

static void test_config_without_true_msrs_cannot_clear_cr3_exiting(void **state)
{
	struct vmx_msrs m = skylake();
	struct vmx_config c;
	char why[200] = "";

	(void)state;
	m.basic &= ~VMX_BASIC_TRUE_CTLS;
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), BH_ENOTSUP);
	assert_non_null(strstr(why, "processor-based controls 0x18000"));
}

static void expect_refused(struct vmx_msrs m, const char *text)
{
	struct vmx_config c;
	char why[200] = "";

	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), BH_ENOTSUP);
	if (!strstr(why, text))
		fail_msg("'%s' does not say '%s'", why, text);
}

static void test_config_refuses_missing_features(void **state)
{
	struct vmx_msrs m;

	(void)state;
	m = skylake();
	m.procbased2 &= ~((u64)PROC2_ENABLE_EPT << 32); /* like core2_penryn_t9600 */
	expect_refused(m, "without EPT");
	m = skylake();
	m.procbased2 &= ~((u64)PROC2_UNRESTRICTED_GUEST << 32); /* like corei5_lynnfield_750 */
	expect_refused(m, "without unrestricted guest");
	m = skylake();
	m.procbased2 &= ~((u64)PROC2_ENABLE_VPID << 32);
	expect_refused(m, "without VPID");
	m = skylake();
	m.procbased &= ~((u64)PROC_SECONDARY_CONTROLS << 32);
	m.true_procbased &= ~((u64)PROC_SECONDARY_CONTROLS << 32);
	expect_refused(m, "without secondary controls");
	m = skylake();
	m.ept_vpid &= ~EPT_CAP_MEMTYPE_WB;
	expect_refused(m, "write-back tables");
	m = skylake();
	m.ept_vpid &= ~EPT_CAP_INVEPT;
	expect_refused(m, "without INVEPT");
	m = skylake();
	m.ept_vpid &= ~(VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL);
	expect_refused(m, "without INVVPID");
	m = skylake();
	m.misc = 0;
	expect_refused(m, "EFER.LMA");
	m = skylake();
	m.basic |= VMX_BASIC_PHYS_32BIT;
	expect_refused(m, "32-bit physical");
	m = skylake();
	m.true_exit &= ~((u64)EXITCTL_LOAD_IA32_EFER << 32);
	expect_refused(m, "VM-exit controls 0x200000");
	m = skylake();
	m.true_entry &= ~((u64)ENTRYCTL_IA32E_MODE_GUEST << 32);
	expect_refused(m, "64-bit guests");
}

static void test_config_page_sizes_and_flush_types(void **state)
{
	struct vmx_msrs m = skylake();
	struct vmx_config c;
	char why[200];

	(void)state;
	m.ept_vpid &= ~(EPT_CAP_PAGE_1G | EPT_CAP_INVEPT_SINGLE | VPID_CAP_INVVPID_SINGLE);
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), 0);
	assert_int_equal(c.ept_max_page, PAGE_2M);
	assert_int_equal(c.invept_type, INVEPT_ALL_CONTEXT);
	assert_int_equal(c.invvpid_type, INVVPID_ALL_CONTEXT);
	m.ept_vpid &= ~EPT_CAP_PAGE_2M;
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), 0);
	assert_int_equal(c.ept_max_page, PAGE_4K);
}

/* ------------------------------------------------------------------ feature control */

static void test_feature_control(void **state)
{
	char why[200] = "";
	bool write;
	u64 value;

	(void)state;
	/* OVMF under Bochs: unlocked. Set VMX outside SMX and lock. */
	assert_int_equal(vmx_feature_control(0, &write, &value, why, sizeof(why)), 0);
	assert_true(write);
	assert_int_equal(value, FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	/* Bochs BIOS: locked with VMX on: nothing to write. */
	assert_int_equal(vmx_feature_control(0x5, &write, &value, why, sizeof(why)), 0);
	assert_false(write);
	/* Locked with VMX off: the firmware setup must change. */
	assert_int_equal(vmx_feature_control(0x1, &write, &value, why, sizeof(why)), BH_ENOTSUP);
	assert_false(write);
	assert_non_null(strstr(why, "disabled by the firmware"));
}

/* ------------------------------------------------------------------ CRs, EPTP, MSR bitmap */

static void test_control_register_fixed_bits_and_shadows(void **state)
{
	struct vmx_msrs m = skylake();
	struct vmx_config c;
	char why[200];

	(void)state;
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), 0);
	/* Multiboot entry: PE|ET, paging off. NE is forced, PG is not (unrestricted guest). */
	assert_int_equal(vmx_cr0_real(&c, 0x11), 0x31);
	assert_int_equal(vmx_cr0_real(&c, 0x80010033), 0x80010033);
	/* Real mode stays real mode. */
	assert_int_equal(vmx_cr0_real(&c, 0x10), 0x30);
	/* CD/NW never reach the CPU; the guest reads them from the shadow. */
	assert_int_equal(vmx_cr0_real(&c, 0xc0050033), 0x80050033);
	assert_int_equal(vmx_cr_visible(0x80050033, 0xc0050033, c.cr0_mask), 0xc0050033);
	/* CR4.VMXE is forced on, and hidden by the shadow. */
	assert_int_equal(vmx_cr4_real(&c, 0x20), 0x2020);
	assert_int_equal(vmx_cr_visible(0x2020, 0x20, c.cr4_mask), 0x20);
	assert_int_equal(vmx_cr_visible(0x80000031, 0x80000011, c.cr0_mask), 0x80000011);
	/* Bits the guest owns come from the real register. */
	assert_int_equal(vmx_cr_visible(0x80000039, 0x11, c.cr0_mask), 0x80000019);
}

static void test_eptp(void **state)
{
	(void)state;
	assert_int_equal(vmx_eptp(0x12345000), 0x1234501e);
	assert_int_equal(vmx_eptp(0x7fff000), 0x7fff01e);
}

/* x2APIC EOI (0x80b) passes writes only, PPR (0x80a) reads only: byte 0x101 bits 3 and 2. */
static void test_msr_bitmap_read_write_apart(void **state)
{
	u8 bitmap[4096];

	(void)state;
	memset(bitmap, 0xff, sizeof(bitmap));
	assert_true(vmx_msr_bitmap_pass_rw(bitmap, 0x80b, false, true));
	assert_true(vmx_msr_bitmap_pass_rw(bitmap, 0x80a, true, false));
	assert_int_equal(bitmap[0x101], 0xfb);
	assert_int_equal(bitmap[0x800 + 0x101], 0xf7);
	assert_false(vmx_msr_bitmap_pass_rw(bitmap, 0x40000000, true, true));
	for (size_t i = 0; i < sizeof(bitmap); i++)
		if (i != 0x101 && i != 0x901)
			assert_int_equal(bitmap[i], 0xff);
}

static void test_msr_bitmap(void **state)
{
	u8 bitmap[4096];

	(void)state;
	memset(bitmap, 0xff, sizeof(bitmap));
	assert_true(vmx_msr_bitmap_pass(bitmap, 0x174)); /* SYSENTER_CS: byte 0x2e bit 4 */
	assert_int_equal(bitmap[0x2e], 0xef);
	assert_int_equal(bitmap[0x800 + 0x2e], 0xef);
	assert_true(vmx_msr_bitmap_pass(bitmap, 0xc0000102)); /* KERNEL_GS_BASE: byte 0x20 bit 2 */
	assert_int_equal(bitmap[0x400 + 0x20], 0xfb);
	assert_int_equal(bitmap[0xc00 + 0x20], 0xfb);
	/* EFER stays intercepted; outside the two ranges nothing can pass. */
	assert_int_equal(bitmap[0x400 + 0x10], 0xff);
	assert_false(vmx_msr_bitmap_pass(bitmap, 0x40000000));
	assert_false(vmx_msr_bitmap_pass(bitmap, 0xc0010114));
	for (size_t i = 0; i < sizeof(bitmap); i++)
		if (i != 0x2e && i != 0x82e && i != 0x420 && i != 0xc20)
			assert_int_equal(bitmap[i], 0xff);
}

/* ------------------------------------------------------------------ exits */

static struct vcpu_exit decode(struct vmx_exit_info x)
{
	struct vcpu_exit e;

	memset(&e, 0x5a, sizeof(e)); /* whatever the caller had */
	vmx_decode_exit(&x, &e);
	return e;
}

static void test_decode_instruction_exits_give_next_rip(void **state)
{
	struct vcpu_exit e;

	(void)state;
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_CPUID, .rip = 0x1000,
					   .insn_length = 2 });
	assert_int_equal(e.reason, EXIT_CPUID);
	assert_int_equal(e.next_rip, 0x1002);
	assert_int_equal(e.raw, VMX_EXIT_CPUID);
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_XSETBV, .rip = 0x2000,
					   .insn_length = 3 });
	assert_int_equal(e.reason, EXIT_XSETBV);
	assert_int_equal(e.next_rip, 0x2003);
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_HLT, .rip = 0x10, .insn_length = 1 });
	assert_int_equal(e.reason, EXIT_HLT);
	assert_int_equal(e.next_rip, 0x11);
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_RDMSR, .rip = 0x10,
					   .insn_length = 2 });
	assert_int_equal(e.reason, EXIT_MSR_READ);
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_WRMSR, .rip = 0x10,
					   .insn_length = 2 });
	assert_int_equal(e.reason, EXIT_MSR_WRITE);
	assert_int_equal(e.next_rip, 0x12);
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_INVD, .rip = 0x10,
					   .insn_length = 2 });
	assert_int_equal(e.reason, EXIT_INVD);
	assert_int_equal(vmx_exit_needs(VMX_EXIT_CPUID), VMX_NEED_INSN_LENGTH);
}

static void test_decode_io(void **state)
{
	struct vcpu_exit e;

	(void)state;
	/* in al, dx with dx = 0x3fd */
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_IO, .qualification = 0x03fd0008,
					   .rip = 0x100, .insn_length = 1 });
	assert_int_equal(e.reason, EXIT_IO);
	assert_int_equal(e.io.port, 0x3fd);
	assert_int_equal(e.io.size, 1);
	assert_true(e.io.in);
	assert_false(e.io.string);
	assert_false(e.io.rep);
	assert_int_equal(e.next_rip, 0x101);
	/* out 0xf4, eax (immediate operand) */
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_IO, .qualification = 0x00f40043,
					   .rip = 0x100, .insn_length = 2 });
	assert_int_equal(e.io.port, 0xf4);
	assert_int_equal(e.io.size, 4);
	assert_false(e.io.in);
	/* rep outsw to 0x3f8 */
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_IO, .qualification = 0x03f80031,
					   .rip = 0x100, .insn_length = 3 });
	assert_int_equal(e.io.size, 2);
	assert_true(e.io.string);
	assert_true(e.io.rep);
	assert_false(e.io.in);
}

static void test_decode_cr_access(void **state)
{
	struct vcpu_exit e;

	(void)state;
	/* mov cr4, r13 */
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_CR_ACCESS, .qualification = 0xd04,
					   .rip = 0x100, .insn_length = 4 });
	assert_int_equal(e.reason, EXIT_CR_WRITE);
	assert_int_equal(e.cr.cr, 4);
	assert_int_equal(e.cr.gpr, 13);
	assert_int_equal(e.next_rip, 0x104);
	/* mov cr0, rax */
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_CR_ACCESS, .qualification = 0x0,
					   .rip = 0x100, .insn_length = 3 });
	assert_int_equal(e.reason, EXIT_CR_WRITE);
	assert_int_equal(e.cr.cr, 0);
	assert_int_equal(e.cr.gpr, 0);
	/* LMSW and MOV from CR never exit with Bulkhead's masks: not a CR write. */
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_CR_ACCESS, .qualification = 0x30,
					   .rip = 0x100, .insn_length = 3 });
	assert_int_equal(e.reason, EXIT_OTHER);
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_CR_ACCESS, .qualification = 0x13,
					   .rip = 0x100, .insn_length = 3 });
	assert_int_equal(e.reason, EXIT_OTHER);
}

static void test_decode_ept(void **state)
{
	struct vcpu_exit e;

	(void)state;
	/* A store to the LAPIC page: write access, final translation of a linear address. */
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_EPT_VIOLATION, .qualification = 0x182,
					   .gpa = 0xfee00300, .rip = 0x100 });
	assert_int_equal(e.reason, EXIT_STAGE2_FAULT);
	assert_int_equal(e.stage2.gpa, 0xfee00300);
	assert_true(e.stage2.write);
	assert_false(e.stage2.fetch);
	assert_int_equal(e.next_rip, 0); /* no length for EPT violations: shared code decodes */
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_EPT_VIOLATION, .qualification = 0x184,
					   .gpa = 0x40000000 });
	assert_true(e.stage2.fetch);
	assert_false(e.stage2.write);
	/* A load with paging off: no linear address. */
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_EPT_VIOLATION, .qualification = 0x1,
					   .gpa = 0xfec00000 });
	assert_int_equal(e.reason, EXIT_STAGE2_FAULT);
	assert_false(e.stage2.write);
	/* The guest's own page walk, or an event delivery through its IDT: not emulable. */
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_EPT_VIOLATION, .qualification = 0x81,
					   .gpa = 0x80000000 });
	assert_int_equal(e.reason, EXIT_OTHER);
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_EPT_VIOLATION, .qualification = 0x182,
					   .gpa = 0x80000000, .vectoring_info = 0x80000b0e });
	assert_int_equal(e.reason, EXIT_OTHER);
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_EPT_MISCONFIG, .gpa = 0x1000 });
	assert_int_equal(e.reason, EXIT_STAGE2_FAULT);
	assert_int_equal(e.stage2.gpa, 0x1000);
	assert_true(vmx_exit_needs(VMX_EXIT_EPT_VIOLATION) & VMX_NEED_GPA);
	assert_true(vmx_exit_needs(VMX_EXIT_EPT_VIOLATION) & VMX_NEED_VECTORING);
}

static void test_decode_virtualization_instructions(void **state)
{
	static const u32 reasons[] = {
		VMX_EXIT_VMCALL, VMX_EXIT_VMCLEAR, VMX_EXIT_VMLAUNCH, VMX_EXIT_VMPTRLD,
		VMX_EXIT_VMPTRST, VMX_EXIT_VMREAD, VMX_EXIT_VMRESUME, VMX_EXIT_VMWRITE,
		VMX_EXIT_VMXOFF, VMX_EXIT_VMXON, VMX_EXIT_INVEPT, VMX_EXIT_INVVPID, VMX_EXIT_VMFUNC,
		VMX_EXIT_GETSEC, VMX_EXIT_MONITOR, VMX_EXIT_MWAIT,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		struct vcpu_exit e = decode((struct vmx_exit_info){ .reason = reasons[i] });

		assert_int_equal(e.reason, EXIT_VIRT_INSN);
		assert_int_equal(e.raw, reasons[i]);
	}
}

static void test_decode_events_and_failures(void **state)
{
	struct vcpu_exit e;

	(void)state;
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_TRIPLE_FAULT });
	assert_int_equal(e.reason, EXIT_SHUTDOWN);
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_INIT });
	assert_int_equal(e.reason, EXIT_INIT);
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_EXTERNAL_INTERRUPT });
	assert_int_equal(e.reason, EXIT_INTR);
	/* NMI: type 2 */
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_EXCEPTION_NMI,
					   .intr_info = 0x80000202 });
	assert_int_equal(e.reason, EXIT_NMI);
	/* #GP(0x18): hardware exception with an error code */
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_EXCEPTION_NMI,
					   .intr_info = 0x80000b0d, .intr_error = 0x18 });
	assert_int_equal(e.reason, EXIT_EXCEPTION);
	assert_int_equal(e.exception.vector, 13);
	assert_int_equal(e.exception.error_code, 0x18);
	/* VM entry failed on the guest state: bit 31 with reason 33 */
	e = decode((struct vmx_exit_info){ .reason = 0x80000021, .qualification = 0 });
	assert_int_equal(e.reason, EXIT_ENTRY_FAILED);
	assert_int_equal(e.raw, 0x80000021);
	e = decode((struct vmx_exit_info){ .reason = 0x80000022 });
	assert_int_equal(e.reason, EXIT_ENTRY_FAILED);
	/* Exits Bulkhead never asks for: the partition fails with the raw code. */
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_TASK_SWITCH });
	assert_int_equal(e.reason, EXIT_OTHER);
	e = decode((struct vmx_exit_info){ .reason = VMX_EXIT_SIPI });
	assert_int_equal(e.reason, EXIT_OTHER);
}

static void test_insn_error_names(void **state)
{
	(void)state;
	assert_string_equal(vmx_insn_error_name(7), "VM entry with invalid control fields");
	assert_string_equal(vmx_insn_error_name(8), "VM entry with invalid host-state fields");
	assert_string_equal(vmx_insn_error_name(14), "unknown error");
	assert_string_equal(vmx_insn_error_name(0), "unknown error");
	assert_string_equal(vmx_insn_error_name(1000), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_required_optional_and_default1),
		cmocka_unit_test(test_ctl_required_bit_not_allowed),
		cmocka_unit_test(test_ctl_forbidden_bit_forced_on),
		cmocka_unit_test(test_config_skylake),
		cmocka_unit_test(test_config_without_true_msrs_cannot_clear_cr3_exiting),
		cmocka_unit_test(test_config_refuses_missing_features),
		cmocka_unit_test(test_config_page_sizes_and_flush_types),
		cmocka_unit_test(test_feature_control),
		cmocka_unit_test(test_control_register_fixed_bits_and_shadows),
		cmocka_unit_test(test_eptp),
		cmocka_unit_test(test_msr_bitmap),
		cmocka_unit_test(test_msr_bitmap_read_write_apart),
		cmocka_unit_test(test_decode_instruction_exits_give_next_rip),
		cmocka_unit_test(test_decode_io),
		cmocka_unit_test(test_decode_cr_access),
		cmocka_unit_test(test_decode_ept),
		cmocka_unit_test(test_decode_virtualization_instructions),
		cmocka_unit_test(test_decode_events_and_failures),
		cmocka_unit_test(test_insn_error_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
