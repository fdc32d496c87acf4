"""pytest fixtures of the system tests (see README.md in this folder)."""

import re

import pytest

import bochs
import harness


def pytest_configure(config):
    config.addinivalue_line("markers", "qemu: boots a machine under QEMU (seconds to minutes)")
    config.addinivalue_line("markers", "bochs: boots a machine under Bochs (tens of seconds)")
    config.addinivalue_line("markers", "linux: boots Debian's kernels from build/linux "
                            "(`make linux-guests`); skipped when they are not there")


def _rel(path):
    try:
        return path.relative_to(harness.REPO)
    except ValueError:
        return path


def _require(path, how):
    if not path.is_file():
        pytest.fail(f"{_rel(path)} is missing: run `{how}` first "
                    "(`make test` builds everything the tests need)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def bulkhead_efi():
    """build/bulkhead.efi; the test fails (never skips) when it has not been built."""
    return _require(harness.BUILD / "bulkhead.efi", "make all")


@pytest.fixture(scope="session")
def bulkhead_img(bulkhead_efi):
    """build/bulkhead.img, which must be newer than what it is made of."""
    img = _require(harness.BUILD / "bulkhead.img", "make image")
    for src in (bulkhead_efi, harness.REPO / "guests" / "bulkhead.cfg", harness.MKIMAGE):
        if src.stat().st_mtime > img.stat().st_mtime:
            pytest.fail(f"{_rel(img)} is older than {_rel(src)}: "
                        "run `make image`", pytrace=False)
    return img


@pytest.fixture(scope="session")
def bulkhead_elf():
    """build/bulkhead.elf, the multiboot2 kernel; fails (never skips) when not built."""
    return _require(harness.BUILD / "bulkhead.elf", "make all")


@pytest.fixture(scope="session")
def bulkhead_iso(bulkhead_efi, bulkhead_elf):
    """build/bulkhead.iso (one image for BIOS and UEFI), newer than what it is made of."""
    iso = _require(harness.BUILD / "bulkhead.iso", "make image")
    for src in (bulkhead_efi, bulkhead_elf, harness.REPO / "guests" / "bulkhead.cfg",
                harness.MKISO):
        if src.stat().st_mtime > iso.stat().st_mtime:
            pytest.fail(f"{_rel(iso)} is older than {_rel(src)}: "
                        "run `make image`", pytrace=False)
    return iso


def log_name(node):
    """build/test-logs/<module>.<test>[-<params>].log"""
    name = f"{node.module.__name__}.{node.name}" if getattr(node, "module", None) else node.name
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")


@pytest.fixture
def log_path(request):
    """Where this test keeps a log of its own: build/test-logs/<test>.log."""
    harness.TEST_LOGS.mkdir(parents=True, exist_ok=True)
    return harness.TEST_LOGS / f"{log_name(request.node)}.log"


@pytest.fixture
def qemu(request, tmp_path, log_path):
    """Starts QEMU runs: qemu(efi=..., config=TEXT, smp=2) or qemu(image=...); keyword
    arguments as harness.Qemu. Serial logs go to build/test-logs/<test>.log (<test>-2.log, ...
    for further runs in the same test); every run still going at the end of the test is killed."""
    runs = []
    request.node.bulkhead_runs = runs

    def start(**kwargs):
        n = len(runs) + 1
        stem = log_path.stem if n == 1 else f"{log_path.stem}-{n}"
        q = harness.Qemu(log_path.with_name(stem + ".log"), tmp_path / f"qemu-{n}", **kwargs)
        runs.append(q)
        return q.start()

    yield start
    for q in runs:
        q.kill()


@pytest.fixture
def bochs_run(request, tmp_path, log_path):
    """Starts Bochs runs: bochs_run(efi=..., config=TEXT, model=..., firmware=...); keyword
    arguments as bochs.Bochs. Logs as for qemu; every run is killed at the end of the test."""
    runs = []
    request.node.bulkhead_runs = runs        # their logs are printed when a test fails

    def start(**kwargs):
        n = len(runs) + 1
        stem = log_path.stem if n == 1 else f"{log_path.stem}-{n}"
        b = bochs.Bochs(log_path.with_name(stem + ".log"), tmp_path / f"bochs-{n}", **kwargs)
        runs.append(b)
        return b.start()

    yield start
    for b in runs:
        b.kill()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when in ("setup", "call"):
        runs = getattr(item, "bulkhead_runs", [])
        for q in runs:
            report.sections.append((f"serial log {_rel(q.log_path)}", q.describe(40)))
        own = getattr(item, "funcargs", {}).get("log_path")
        if not runs and own is not None and own.is_file():
            report.sections.append((f"log {_rel(own)} (last 40 lines)",
                                    harness.tail(harness.clean_text(own.read_bytes()), 40)))
