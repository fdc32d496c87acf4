"""Partitions on Intel VT-x (EPT, VPID, unrestricted guest) under Bochs `corei7_skylake_x`, the
only emulator here with VT-x (QEMU's TCG has none): the scenarios of scenarios.py (hello +
memcheck + attacker side by side with zero escapes, a bad configuration, a triple fault
restarting only its partition) through OVMF, the three partitions through GRUB and multiboot2
too, with the checks VT-x adds; and the refusal of CPU models whose VT-x lacks what Bulkhead
needs. ~30-60 s per scenario, ~30 s per refusal."""

import re

import pytest

import bochs
import scenarios
from scenarios import SCENARIOS

pytestmark = pytest.mark.bochs

VMX_MODEL = "corei7_skylake_x"
BACKEND = re.compile(r"\] I: virt: Intel VT-x \(EPT, VPID, unrestricted guest\)$", re.MULTILINE)

# (firmware, scenario)
CASES = [
    ("uefi", "three"),
    ("uefi", "bad"),
    ("uefi", "crasher"),
    ("bios", "three"),
    ("bios", "bad"),
    ("bios", "crasher"),
]


def check_vmx(run, name):
    """What the VT-x backend shows beyond the scenario's own checks."""
    text = run.output
    assert BACKEND.search(text), "no VT-x backend line"
    assert "vmx:" not in text, "the VT-x backend reported a failure"
    if name == "three":
        # Every VMX instruction the attacker tries exits and gets #UD (the SVM ones are #UD in
        # hardware); CR4.VMXE cannot be set.
        assert re.search(r"\] I: partition attacker: failed, exits total=\d+ .*virt-insn=\d+",
                         text)
        assert re.search(r"^\[attacker\] ATTACK summary blocked=\d+ escaped=0 ", text,
                         re.MULTILINE)
        assert re.search(r"^\[attacker\] ATTACK cr4-vmxe: blocked", text, re.MULTILINE)


@pytest.mark.parametrize("firmware, name", CASES, ids=["-".join(case) for case in CASES])
def test_vmx_partitions(bochs_run, bulkhead_efi, bulkhead_elf, firmware, name):
    run = bochs.run_scenario(bochs_run, SCENARIOS[name], model=VMX_MODEL, firmware=firmware)
    check_vmx(run, name)


def check_refused(why):
    def check(run):
        run.expect(rf"\] E: virt: no virtualization backend: {why}", timeout=240)
        run.expect(r"\] E: partitions: none can start without a virtualization backend",
                   timeout=30)
        for name in ("hello", "memcheck", "attacker"):
            run.expect(rf"\] E: partition {name}: refused: no virtualization backend",
                       timeout=30)
        run.expect(r"\] I: bulkhead: ready", timeout=30)
        scenarios.power_off(run)
        text = run.output
        assert "FAULT cpu" not in text
        assert not re.search(r"^\[(hello|memcheck|attacker)\] ", text, re.MULTILINE)
    return check


@pytest.mark.parametrize("model, why", [
    ("corei5_lynnfield_750", r"VT-x without unrestricted guest is not supported"),
    ("core2_penryn_t9600", r"VT-x without EPT \(extended page tables\) is not supported"),
], ids=["no-unrestricted-guest", "no-ept"])
def test_vmx_cpu_without_required_features_refuses_partitions(bochs_run, bulkhead_efi, model,
                                                              why):
    three = SCENARIOS["three"]
    refused = scenarios.Scenario("refused", three.extra, three.guests, three.smp,
                                 check_refused(why))
    bochs.run_scenario(bochs_run, refused, model=model, firmware="uefi")
