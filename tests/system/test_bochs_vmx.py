"""Partitions on Intel VT-x (EPT, VPID, unrestricted guest) under Bochs `corei7_skylake_x`
through OVMF: the scenarios of test_partitions.py (hello + memcheck + attacker side by side with
zero escapes, a bad configuration, a triple fault restarting only its partition) on the second
vendor, and the refusal of CPU models whose VT-x lacks what Bulkhead needs. Bochs is the only
emulator here with VT-x (QEMU's TCG has none). ~1 min per scenario, ~15 s per refusal."""

import re

import pytest

import harness
import test_partitions as suite

pytestmark = pytest.mark.bochs

VMX_MODEL = "corei7_skylake_x"
BACKEND = r"\] I: virt: Intel VT-x \(EPT, VPID, unrestricted guest\)$"


@pytest.fixture
def machine():
    return VMX_MODEL


def require_backend(q):
    if not re.search(BACKEND, q.output, re.MULTILINE):
        raise harness.HarnessError(f"no VT-x backend line\n{harness.tail(q.output)}")


def test_vmx_three_partitions_side_by_side(machine, request, bulkhead_efi):
    suite.test_three_partitions_side_by_side(machine, request, bulkhead_efi)
    q = request.node.bulkhead_runs[0]
    require_backend(q)
    text = q.output
    # On VT-x every VMX instruction exits (the guest gets #UD); the SVM ones are #UD in hardware.
    assert re.search(r"\] I: partition attacker: failed, exits total=\d+ .*virt-insn=\d+", text)
    assert re.search(r"^\[attacker\] ATTACK summary blocked=\d+ escaped=0 ", text, re.MULTILINE)


def test_vmx_bad_configuration_is_reported_and_valid_partitions_boot(machine, request,
                                                                      bulkhead_efi):
    suite.test_bad_configuration_is_reported_and_valid_partitions_boot(machine, request,
                                                                       bulkhead_efi)
    require_backend(request.node.bulkhead_runs[0])


def test_vmx_triple_fault_restarts_only_its_partition(machine, request, bulkhead_efi):
    suite.test_triple_fault_restarts_only_its_partition(machine, request, bulkhead_efi)
    require_backend(request.node.bulkhead_runs[0])


@pytest.mark.parametrize("model, why", [
    ("corei5_lynnfield_750", r"VT-x without unrestricted guest is not supported"),
    ("core2_penryn_t9600", r"VT-x without EPT \(extended page tables\) is not supported"),
], ids=["no-unrestricted-guest", "no-ept"])
def test_vmx_cpu_without_required_features_refuses_partitions(request, bulkhead_efi, model,
                                                              why):
    q = suite.start(model, request, bulkhead_efi, suite.THREE, "hello", "memcheck", "attacker")
    q.expect(rf"\] E: virt: no virtualization backend: {why}", timeout=240)
    q.expect(r"\] E: partitions: none can start without a virtualization backend", timeout=30)
    for name in ("hello", "memcheck", "attacker"):
        q.expect(rf"\] E: partition {name}: refused: no virtualization backend", timeout=30)
    q.expect(r"\] I: bulkhead: ready", timeout=30)
    suite.power_off(q, model)
    text = q.output
    assert "FAULT cpu" not in text
    assert not re.search(r"^\[(hello|memcheck|attacker)\] ", text, re.MULTILINE)
