"""The serial console shell (docs/console.md) under QEMU (AMD-V), driven through the serial
socket: `list` in text and JSON, `info`, `log`, `cpus`, `mem`, `version`, `help`, errors for bad
commands, attaching to each partition's console and back with the hotkey, the host client
tools/bulkhead-console running one command, and a guest printing 1 MiB as fast as it can while
its neighbour and the shell carry on. One boot for all of that; the lifecycle commands get one of
their own."""

import json
import re
import subprocess

import pytest

import harness
from scenarios import guest_files

pytestmark = pytest.mark.qemu

CONFIG = """
[partition hello]
cpus = 1
memory = 16M
kernel = guests/hello.elf
cmdline = name=hello

[partition memcheck]
cpus = 2
memory = 32M
kernel = guests/memcheck.elf
cmdline = name=memcheck

[partition flood]
cpus = 3
memory = 16M
kernel = guests/flood.elf
cmdline = name=flood bytes=1048576
"""

HOTKEY = "\x1c"  # Ctrl-\
FLOOD_BYTES = 1048576
CLIENT = harness.BUILD / "bulkhead-console"
MEMCHECK_OK = r"^\[memcheck\] MEMCHECK ok bytes=\d+ rounds=(\d+)$"


def boot(qemu, efi, extra=CONFIG, files=("hello", "memcheck", "flood")):
    config = harness.make_config(log_level="info", poweroff_when_ready=False, extra=extra)
    q = qemu(efi=efi, config=config, files=guest_files(*files), smp=4, mem="2G",
             serial="socket")
    q.expect(r"\] I: bulkhead: ready$")
    q.expect(r"\] I: console: the shell is ready")
    return q


def check_flood(text):
    """Every byte the flood printed is on the console or counted as dropped, in order."""
    numbers = [int(n) for n in re.findall(r"^\[flood\] flood (\d{8}) [a-z]+$", text,
                                          re.MULTILINE)]
    dropped = sum(int(n) for n in re.findall(r"^\[flood\] \.\.\. (\d+) bytes dropped", text,
                                             re.MULTILINE))
    assert numbers == sorted(numbers), "flood lines out of order"
    assert len(set(numbers)) == len(numbers), "flood lines repeated"
    lines = FLOOD_BYTES // 64
    shown = len(numbers) * 64
    # A drop can cut one line on each side of the gap.
    assert FLOOD_BYTES - 128 * (1 + text.count("bytes dropped")) <= shown + dropped \
        <= FLOOD_BYTES, (shown, dropped)
    assert not dropped or "bytes dropped" in text
    return len(numbers) == lines


def test_console_shell(qemu, bulkhead_efi):
    q = boot(qemu, bulkhead_efi)

    # -- a noisy guest does not stall the shell or its neighbour
    q.expect(r"^\[flood\] FLOOD start bytes=1048576$", timeout=60)
    start = q.expect(MEMCHECK_OK, timeout=60)
    listed = q.shell("list")
    flood = {p["name"]: p for p in listed["partitions"]}["flood"]
    q.expect(MEMCHECK_OK, timeout=60)
    q.expect(r"^\[flood\] FLOOD done bytes=1048576$", timeout=240)
    text = q.output
    during = text[text.index("FLOOD start"):text.index("FLOOD done")]
    rounds = re.findall(r"^\[memcheck\] MEMCHECK ok", during, re.MULTILINE)
    assert len(rounds) >= 2, "memcheck printed nothing while the flood ran"
    assert start and flood["state"] in ("running", "stopped")
    complete = check_flood(text)
    print(f"flood shown complete: {complete}")

    # -- list, text and JSON
    q.sendline("list")
    q.expect(r"^NAME +STATE +CPUS +MEMORY +UPTIME +RESTARTS +EXITS/S$")
    q.expect(r"^hello +stopped +1 +16M +- +0 +\d+$")
    q.expect(r"^memcheck +running +2 +32M +\d+:\d\d:\d\d +0 +\d+$")
    answer = q.shell("list")
    parts = {p["name"]: p for p in answer["partitions"]}
    assert list(parts) == ["hello", "memcheck", "flood"]
    assert parts["memcheck"]["state"] == "running"
    assert parts["memcheck"]["cpus"] == [2]
    assert parts["memcheck"]["memory_bytes"] == 32 << 20
    assert parts["memcheck"]["uptime_ms"] > 0
    assert parts["memcheck"]["exits_total"] > 0
    assert parts["flood"]["state"] == "stopped"
    assert parts["flood"]["exits_total"] >= FLOOD_BYTES
    for p in parts.values():
        assert set(p) >= {"name", "state", "cpus", "memory_bytes", "uptime_ms", "restarts",
                          "exits_per_s"}

    # -- info, log, cpus, mem, version, help
    info = q.shell("info memcheck")
    assert info["ok"] and info["kernel"] == "guests/memcheck.elf"
    assert info["cmdline"] == "name=memcheck" and info["on_crash"] == "stop"
    assert info["exits"]["io"] > 0 and info["last_failure"] is None
    q.sendline("info flood")
    q.expect(r"^partition flood \(id 2\): stopped")
    q.expect(r"^  exits: total \d+, \d+/s; .*io=\d+")
    q.expect(r"^  last failure: none$")
    log = q.shell("log 200")
    assert any(re.search(r"\] I: bulkhead: ready$", line) for line in log["lines"]), log
    q.sendline("log 3")
    q.expect(r"\] I: console: the shell is ready|\] I: ")
    cpus = q.shell("cpus")["cpus"]
    assert [c["owner"] for c in cpus] == ["hypervisor (console)", "hello", "memcheck", "flood"]
    mem = q.shell("mem")
    assert mem["kib"]["partition"] == (16 + 32 + 16) * 1024
    assert [p["name"] for p in mem["partitions"]] == ["hello", "memcheck", "flood"]
    version = q.shell("version")
    assert version["version"] and version["backend"].startswith("AMD-V")
    assert version["loader"] == "uefi" and version["cpus"] == 4
    assert {c["name"] for c in q.shell("help")["commands"]} >= {
        "help", "list", "console", "start", "stop", "restart", "info", "log", "cpus", "mem",
        "version", "reboot", "poweroff"}
    q.sendline("help")
    q.expect(r"^  console NAME +attach to a partition's console")

    # -- bad input: one clear line each, and the shell goes on
    q.sendline("frobnicate")
    q.expect(r"^error: unknown command 'frobnicate' \(try 'help'\)$")
    q.sendline("console")
    q.expect(r"^error: usage: console NAME$")
    q.sendline("info nosuch")
    q.expect(r"^error: no partition named 'nosuch' \(see 'list'\)$")
    q.sendline("log many")
    q.expect(r"^error: bad line count 'many' \(1-500\)$")
    q.sendline("list --yaml")
    q.expect(r"^error: unknown option '--yaml' \(only --json\)$")
    q.sendline("x" * 400)
    q.expect(r"^error: the line is too long \(at most 159 characters\); it was not run$")
    q.send("\x01\x02\x7f\x08\t\x1b[C\x1b[Zreboot\x03")   # control bytes, then Ctrl-C
    assert q.shell("info nosuch")["error"] == "no partition named 'nosuch' (see 'list')"
    assert q.shell("bogus")["ok"] is False
    # Lifecycle commands answer in one line, whatever the lifecycle branch says.
    answer = q.shell("stop nosuch")
    assert answer["ok"] is False
    # Line editing: backspace (both codes) and history (up arrow).
    q.send("verx\x7fsiom\x08n --json\r")
    q.expect(r'^\{"ok":true,"command":"version"')
    q.send("\x1b[A\r")
    q.expect(r'^\{"ok":true,"command":"version"')

    # -- consoles: each partition's scrollback, then live, and back with the hotkey
    q.sendline("console hello")
    q.expect(r"\] I: console: attached to partition hello \(ctrl-\\ returns")
    q.expect(r"^HELLO hello cpuid-hv=BulkheadBulk$")   # raw: no [hello] prefix
    q.send("typed into hello\r")
    q.send(HOTKEY)
    q.expect(r"\] I: console: back to the hypervisor shell")
    q.sendline("console flood")
    q.expect(r"^FLOOD done bytes=1048576$")
    q.send(HOTKEY)
    q.expect(r"\] I: console: back to the hypervisor shell")
    q.sendline("console memcheck --json")
    q.expect(r'^\{"ok":true,"command":"console","name":"memcheck","hotkey":"ctrl-\\\\"\}$')
    q.expect(r"^MEMCHECK ok bytes=\d+ rounds=\d+$")
    q.expect(r"^MEMCHECK ok bytes=\d+ rounds=\d+$")     # live, not only the replay
    q.send("typed into memcheck\r")
    q.send(HOTKEY)
    q.expect(r"\] I: console: back to the hypervisor shell")
    q.expect(MEMCHECK_OK, timeout=60)                    # prefixed again at the shell

    # -- the host client, on the same socket
    path = q.detach_serial()
    try:
        out = subprocess.run([str(CLIENT), path, "--json", "list"], capture_output=True,
                             text=True, timeout=harness.scaled(60))
    finally:
        q.attach_serial()
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert [p["name"] for p in answer["partitions"]] == ["hello", "memcheck", "flood"]

    q.sendline("poweroff")
    q.expect(r"\] I: bulkhead: powering off \(ACPI S5\)", timeout=30)
    q.check_powered_off()
    assert "FAULT cpu" not in q.output
    errors = [line.message for line in q.log().lines if line.level == "E"]
    assert not errors, errors


LIFECYCLE = """
[partition memcheck]
cpus = 1
memory = 32M
kernel = guests/memcheck.elf
cmdline = name=memcheck

[partition hello]
cpus = 2
memory = 16M
kernel = guests/hello.elf
cmdline = name=hello
"""


def state_of(q, name):
    return {p["name"]: p for p in q.shell("list")["partitions"]}[name]


def test_console_stop_start_restart(qemu, bulkhead_efi):
    q = boot(qemu, bulkhead_efi, extra=LIFECYCLE, files=("memcheck", "hello"))
    q.expect(MEMCHECK_OK, timeout=60)
    answer = q.shell("stop memcheck")
    assert answer["ok"], answer
    q.expect(r"\] I: partition memcheck: stopped", timeout=60)
    assert state_of(q, "memcheck")["state"] == "stopped"
    answer = q.shell("start memcheck")
    assert answer["ok"], answer
    q.expect(r"^\[memcheck\] MEMCHECK start", timeout=60)
    q.expect(MEMCHECK_OK, timeout=60)
    answer = q.shell("restart memcheck")
    assert answer["ok"], answer
    q.expect(r"^\[memcheck\] MEMCHECK start", timeout=60)
    q.expect(MEMCHECK_OK, timeout=60)
    assert state_of(q, "memcheck")["restarts"] >= 1
    # A partition that is not running cannot be stopped: a clear error, one line.
    answer = q.shell("stop hello")
    assert answer["ok"] is False and answer["error"]
    q.sendline("poweroff")
    q.expect(r"\] I: bulkhead: powering off \(ACPI S5\)", timeout=30)
    q.check_powered_off()
