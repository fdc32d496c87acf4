/* MSR attacks. Each reads the MSR, writes a value that would matter to the machine (or to the
 * hypervisor), and reads it back:
 *   the write raises #GP                           -> blocked (#GP)
 *   it completes, and reading back shows no change -> blocked (ignored)
 *   it completes and reads back as written         -> ESCAPED (the old value is put back)
 *   it completes and cannot be read back           -> ESCAPED (cannot tell that it was ignored)
 * Exceptions other than #GP end the attack as unexpected. */
#include "attacker.h"

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_FEATURE_CONTROL 0x3a
#define MSR_BIOS_UPDT_TRIG 0x79
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_X2APIC_ICR 0x830
#define MSR_EFER 0xc0000080
#define MSR_SYSCFG 0xc0010010
#define MSR_PATCH_LOADER 0xc0010020
#define MSR_SMM_BASE 0xc0010111
#define MSR_SMM_ADDR 0xc0010112
#define MSR_SMM_MASK 0xc0010113
#define MSR_VM_CR 0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117

#define EFER_SVME (1ull << 12)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)

/* The value to write, given the current one (0 if it could not be read). */
typedef u64 (*msr_new_value)(u64 old);

static void msr_attack(u32 msr, msr_new_value new_value)
{
	u64 old = 0, now = 0, value;
	bool readable = try_rdmsr(msr, &old) < 0;

	if (!readable)
		old = 0;
	value = new_value(old);
	if (try_wrmsr(msr, value) >= 0) {
		blocked("#GP");
		return;
	}
	if (try_rdmsr(msr, &now) >= 0) {
		escaped("wrmsr 0x%x <- 0x%llx completed; it cannot be read back", msr,
			(unsigned long long)value);
		return;
	}
	if (now == value && (!readable || old != value)) {
		/* Put it back; x2APIC mode can only be left through the disabled state. */
		if (readable && try_wrmsr(msr, old) >= 0 && msr == MSR_APIC_BASE) {
			try_wrmsr(msr, old & ~(APIC_BASE_EN | APIC_BASE_EXTD));
			try_wrmsr(msr, old);
		}
		escaped("wrmsr 0x%x <- 0x%llx stuck (was 0x%llx)", msr, (unsigned long long)value,
			(unsigned long long)old);
		return;
	}
	blocked("ignored");
}

static u64 set_svme(u64 old) { return old | EFER_SVME; }
static u64 own_page(u64 old) { (void)old; return target.scratch; }
static u64 toggle_svmdis(u64 old) { return old ^ (1ull << 4); }
static u64 toggle_tom2_wb(u64 old) { return old ^ (1ull << 23); }
static u64 lock_vmx_on(u64 old) { return (old | 1) ^ (1ull << 2); }
static u64 toggle_mtrr_enable(u64 old) { return old ^ (1ull << 11); }
static u64 move_apic(u64 old) { return (old & 0xfff) | APIC_BASE_EN | 0xfe000000ull; }
static u64 enable_x2apic(u64 old) { return old | APIC_BASE_EN | APIC_BASE_EXTD; }
static u64 disable_apic(u64 old) { return old & ~(APIC_BASE_EN | APIC_BASE_EXTD); }
static u64 move_smm(u64 old) { return old ^ 0x100000; }
static u64 toggle_smm_valid(u64 old) { return old ^ 0x3; }

static void msr_efer_svme(void) { msr_attack(MSR_EFER, set_svme); }
static void msr_vm_hsave_pa(void) { msr_attack(MSR_VM_HSAVE_PA, own_page); }
static void msr_vm_cr(void) { msr_attack(MSR_VM_CR, toggle_svmdis); }
static void msr_syscfg(void) { msr_attack(MSR_SYSCFG, toggle_tom2_wb); }
static void msr_feature_control(void) { msr_attack(MSR_FEATURE_CONTROL, lock_vmx_on); }
static void msr_mtrr_def_type(void) { msr_attack(MSR_MTRR_DEF_TYPE, toggle_mtrr_enable); }
static void msr_apic_base_move(void) { msr_attack(MSR_APIC_BASE, move_apic); }
static void msr_apic_base_x2apic(void) { msr_attack(MSR_APIC_BASE, enable_x2apic); }
static void msr_apic_base_disable(void) { msr_attack(MSR_APIC_BASE, disable_apic); }
static void msr_microcode_update(void) { msr_attack(MSR_BIOS_UPDT_TRIG, own_page); }
static void msr_amd_patch_loader(void) { msr_attack(MSR_PATCH_LOADER, own_page); }
static void msr_smm_base(void) { msr_attack(MSR_SMM_BASE, move_smm); }
static void msr_smm_addr(void) { msr_attack(MSR_SMM_ADDR, move_smm); }
static void msr_smm_mask(void) { msr_attack(MSR_SMM_MASK, toggle_smm_valid); }

/* The TSC counts: writing it is caught by a read that went backwards. */
static void msr_tsc(void)
{
	u64 old = 0, now = 0;

	if (try_rdmsr(MSR_TSC, &old) >= 0) {
		escaped("rdmsr TSC raised #GP: cannot evaluate");
		return;
	}
	if (try_wrmsr(MSR_TSC, 0) >= 0) {
		blocked("#GP");
		return;
	}
	if (try_rdmsr(MSR_TSC, &now) >= 0 || now < old) {
		escaped("wrmsr TSC <- 0 took effect: 0x%llx then 0x%llx", (unsigned long long)old,
			(unsigned long long)now);
		return;
	}
	blocked("ignored");
}

/* An INIT IPI through the x2APIC ICR to APIC ID 0: the APIC is in xAPIC mode, so this must be
 * #GP. A completed write cannot be checked (the IPI may have gone out): ESCAPED. */
static void msr_x2apic_icr(void)
{
	if (try_wrmsr(MSR_X2APIC_ICR, 0x0000000000004500ull) >= 0)
		blocked("#GP");
	else
		escaped("wrmsr x2APIC ICR <- INIT to APIC 0 completed");
}

const struct attack msr_attacks[] = {
	{ "msr-efer-svme", msr_efer_svme },
	{ "msr-vm-hsave-pa", msr_vm_hsave_pa },
	{ "msr-vm-cr", msr_vm_cr },
	{ "msr-syscfg", msr_syscfg },
	{ "msr-feature-control", msr_feature_control },
	{ "msr-mtrr-def-type", msr_mtrr_def_type },
	{ "msr-apic-base-move", msr_apic_base_move },
	{ "msr-apic-base-x2apic", msr_apic_base_x2apic },
	{ "msr-apic-base-disable", msr_apic_base_disable },
	{ "msr-microcode-update", msr_microcode_update },
	{ "msr-amd-patch-loader", msr_amd_patch_loader },
	{ "msr-smm-base", msr_smm_base },
	{ "msr-smm-addr", msr_smm_addr },
	{ "msr-smm-mask", msr_smm_mask },
	{ "msr-tsc", msr_tsc },
	{ "msr-x2apic-icr", msr_x2apic_icr },
	{ NULL, NULL },
};
