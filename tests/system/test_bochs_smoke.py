"""Bochs smoke tests: Bulkhead's EFI application boots through OVMF under Bochs 2.7 on an AMD-V
model and a VT-x model, and reaches `bulkhead: ready` with no FAULT. See tests/bochs/README.md.

OVMF under Bochs publishes no ACPI tables, so Bulkhead runs its boot CPU only and cannot power
off: each test kills Bochs once the console shows the end of the boot. ~10-15 s each."""

import re

import pytest

import bochs
import harness

pytestmark = pytest.mark.bochs

READY_TIMEOUT = 180          # wall seconds to `bulkhead: ready` (a boot takes ~10 s here)


@pytest.fixture
def bochs_run(request, tmp_path, log_path):
    """Starts Bochs runs (keyword arguments as bochs.Bochs); all are killed at the end."""
    runs = []
    request.node.bulkhead_runs = runs        # conftest prints their logs when a test fails

    def start(**kwargs):
        n = len(runs) + 1
        stem = log_path.stem if n == 1 else f"{log_path.stem}-{n}"
        b = bochs.Bochs(log_path.with_name(stem + ".log"), tmp_path / f"bochs-{n}", **kwargs)
        runs.append(b)
        return b.start()

    yield start
    for b in runs:
        b.kill()


@pytest.mark.parametrize("model, backend", [
    ("ryzen", r"virt: AMD-V \(SVM, nested paging\)"),
    ("corei7_skylake_x", r"virt: .*VT-x"),
], ids=["ryzen", "skylake_x"])
def test_bochs_boot_ready(bochs_run, bulkhead_efi, model, backend):
    b = bochs_run(efi=bulkhead_efi, config=harness.boot_config(), model=model, cpus=1,
                  ips=bochs.DEFAULT_IPS)
    b.expect(r"BdsDxe: starting Boot\w+ .*Ata\(Primary,Master", timeout=READY_TIMEOUT)
    b.expect(r"\] I: Bulkhead \S+ starting \(loader: uefi\)", timeout=60)
    b.expect(r"\] I: bulkhead: ready$", timeout=60)
    # poweroff_when_ready: the power-off fails without ACPI, then Bulkhead's reset through port
    # 0xcf9 restarts OVMF, which hangs: the line after `ready` is as far as the test waits.
    b.expect(r"\] I: bulkhead: powering off", timeout=60)
    b.kill()
    log = bochs.check_ready_no_acpi(b.log())
    log.require(re.compile(backend), "virtualization backend line")
