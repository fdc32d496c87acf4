"""The harness's own reading of logs, on made-up serial output (no QEMU)."""

import pytest

import harness
from harness import HarnessError

GOOD = (
    "\x1b[2J\x1b[01;01HBdsDxe: starting Boot0002 \"UEFI QEMU HARDDISK QM00001 \"\r\n"
    "bulkhead: UEFI loader\r\n"
    "[    0.072720] I: Bulkhead 0.1.0 starting (loader: uefi)\r\n"
    "[    0.080000] D: acpi: MADT at 0x7fb7d000\r\n"
    "[    1.500000] I: bulkhead: 4/4 CPUs online\r\n"
    "[    1.500100] I: summary: cpus 4/4 online\r\n"
    "[    1.500200] I: summary: memory hv-used 4096 KiB, free 1900000 KiB, "
    "firmware-kept 60000 KiB\r\n"
    "[    1.500300] I: summary: boot time 1.428000 s (entry to ready)\r\n"
    "[    1.500400] I: bulkhead: ready\r\n"
    "[    1.500500] I: bulkhead: powering off (ACPI S5)\r\n"
)
MEM_KIB = 2 * 1024 * 1024


def test_good_log_passes():
    log = harness.Log(harness.clean_text(GOOD.encode()))
    s = harness.check_ready(log, 4, MEM_KIB)
    assert s == {"cpus_online": 4, "cpus_enabled": 4, "hv_used_kib": 4096, "free_kib": 1900000,
                 "firmware_kept_kib": 60000, "boot_time_s": 1.428}
    log.check_order(harness.RX_READY, harness.RX_POWEROFF)
    assert [line.level for line in log.lines[:2]] == ["I", "D"]


@pytest.mark.parametrize("change, complaint", [
    (("4/4 CPUs online", "3/4 CPUs online"), "expected 4/4"),
    (("cpus 4/4", "cpus 3/4"), "expected 4/4"),
    (("I: bulkhead: ready", "I: bulkhead: waiting"), "bulkhead: ready"),
    (("Bulkhead 0.1.0 starting", "Bulkhead starting"), "starting"),
    (("(loader: uefi)", "(loader: multiboot2)"), "expected uefi"),
    (("D: acpi", "E: acpi"), "faults or errors"),
    (("bulkhead: UEFI loader", "FAULT cpu 2: #PF at 0xffff8000"), "faults or errors"),
    (("D: acpi: MADT at 0x7fb7d000", "W: cpu: APIC ID 3 did not answer"), "did not answer"),
    (("free 1900000 KiB", "free 3000000 KiB"), "more than"),
    (("boot time 1.428000 s", "boot time 1.4 s"), "boot time"),
])
def test_bad_logs_fail(change, complaint):
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(HarnessError, match=complaint):
        harness.check_ready(harness.Log(harness.clean_text(text)), 4, MEM_KIB)


def test_order_is_checked():
    lines = GOOD.splitlines(keepends=True)
    ready = next(l for l in lines if "bulkhead: ready" in l)
    lines.remove(ready)
    lines.insert(3, ready)
    with pytest.raises(HarnessError, match="comes before"):
        harness.check_ready(harness.Log("".join(lines)), 4, MEM_KIB)


def test_make_config():
    text = harness.boot_config(log_level="debug", extra="[partition a]\ncpus = 1\n")
    assert "poweroff_when_ready = yes\n" in text
    assert "log_level = debug\n" in text
    assert text.endswith("\n[partition a]\ncpus = 1\n")
