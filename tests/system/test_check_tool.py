"""tools/bulkhead-check, the host-side configuration checker: exact output on good and bad files.

Runs the built tool (build/bulkhead-check, from `make all`) on configuration files written to
tmp_path, and on the examples in tests/data/config/ (see the README there). Boots nothing.
"""

import shlex
import subprocess
from pathlib import Path

import pytest

import harness

DATA = harness.REPO / "tests" / "data" / "config"
KERNEL_BYTES = b"\x7fELF placeholder kernel\n"


@pytest.fixture(scope="session")
def checker():
    tool = harness.BUILD / "bulkhead-check"
    if not tool.is_file():
        pytest.fail(f"{tool} is missing: run `make all` first", pytrace=False)
    return tool


class Run:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout.splitlines()
        self.err = proc.stderr.splitlines()

    def __repr__(self):
        return f"exit {self.code}\nstdout: {self.out}\nstderr: {self.err}"


@pytest.fixture
def check(checker):
    """check(*args, cwd=None) runs the tool and returns its exit code and output lines."""
    def run(*args, cwd=None):
        proc = subprocess.run([str(checker), *map(str, args)], capture_output=True, text=True,
                              cwd=cwd, timeout=30)
        return Run(proc)
    return run


@pytest.fixture
def volume(tmp_path):
    """A boot volume in tmp_path: guests/web.elf, guests/db.elf, guests/initrd.img, and an
    empty guests/empty.elf."""
    guests = tmp_path / "guests"
    guests.mkdir()
    (guests / "web.elf").write_bytes(KERNEL_BYTES)
    (guests / "db.elf").write_bytes(KERNEL_BYTES * 2)
    (guests / "initrd.img").write_bytes(b"initrd")
    (guests / "empty.elf").write_bytes(b"")
    return tmp_path


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


GOOD = """\
# a good configuration
log_level = info

[partition web]
cpus = 1-2
memory = 512M
kernel = guests/web.elf console=ttyS0
initrd = guests/initrd.img

[partition db]
cpus = 3
memory = 256M
kernel = guests/db.elf
"""


# ---- good files ------------------------------------------------------------------------------

def test_good_file(check, volume):
    cfg = write(volume / "bulkhead.cfg", GOOD)
    r = check("--cpus", 4, "--memory", "1G", cfg)
    assert (r.code, r.err, r.out) == (0, [], [f"{cfg}: ok, 2 partitions"]), r


def test_good_file_one_partition_and_none(check, volume):
    one = write(volume / "one.cfg", "[partition a]\ncpus = 1\nmemory = 2M\n"
                                    "kernel = guests/web.elf\n")
    none = write(volume / "none.cfg", "baud = 9600\n")
    empty = write(volume / "empty.cfg", "")
    assert check(one).out == [f"{one}: ok, 1 partition"]
    assert check(none).out == [f"{none}: ok, 0 partitions"]
    r = check(empty)
    assert (r.code, r.out) == (0, [f"{empty}: ok, 0 partitions"]), r


def test_file_is_named_as_given(check, volume):
    write(volume / "sub" / "x.cfg", "[partition a]\ncpus = 9\nmemory = 2M\n"
                                    "kernel = ../guests/web.elf\n")
    r = check("--cpus", "2", "./sub//x.cfg", cwd=volume)
    assert r.err == ["./sub//x.cfg:2: CPU 9 does not exist (this machine has 2 CPUs: 0-1)"], r
    assert r.out == ["./sub//x.cfg: 0 partitions valid, 1 refused, 1 error"], r


# ---- errors: exact lines -----------------------------------------------------------------------

def test_parse_and_plan_errors(check, volume):
    cfg = write(volume / "bad.cfg", """\
baud = 12345
[partition web]
cpus = 0-2
memory = 100M
kernel = guests/web.elf

[partition db]
cpus = 2,4
memory = 256M
kernel = guests/nothere.elf

[partition idle]
memory = 2M
""")
    r = check("--cpus", "4", "--memory", "1G", cfg)
    assert r.code == 1, r
    assert r.err == [
        f"{cfg}:1: bad baud rate '12345' (a divisor of 115200)",
        f"{cfg}:3: CPU 0 is the service CPU and cannot be given to a partition",
        f"{cfg}:8: CPU 4 does not exist (this machine has 4 CPUs: 0-3)",
        f"{cfg}:8: CPU 2 is already given to partition 'web' (line 3)",
        f"{cfg}:10: kernel 'guests/nothere.elf' not found",
        f"{cfg}:12: no 'cpus' for partition 'idle'",
        f"{cfg}:12: partition 'idle' has no kernel",
    ], r
    assert r.out == [f"{cfg}: 0 partitions valid, 3 refused, 7 errors"], r


def test_memory_over_committed(check, volume):
    cfg = write(volume / "mem.cfg", """\
[partition web]
cpus = 1
memory = 512M
kernel = guests/web.elf
[partition db]
cpus = 2
memory = 512M
kernel = guests/db.elf
""")
    r = check("--memory", "812M", cfg)
    assert r.err == [f"{cfg}:7: memory over-committed: partition 'db' needs 512 MiB, "
                     "only 300 MiB left of 812 MiB free"], r
    assert r.out == [f"{cfg}: 1 partition valid, 1 refused, 1 error"], r
    assert r.code == 1


def test_empty_kernel_and_directory(check, volume):
    cfg = write(volume / "k.cfg", """\
[partition a]
cpus = 1
memory = 2M
kernel = guests/empty.elf
[partition b]
cpus = 2
memory = 2M
kernel = guests
""")
    r = check(cfg)
    assert r.err == [f"{cfg}:4: kernel 'guests/empty.elf' is empty",
                     f"{cfg}:8: kernel 'guests' cannot be read (invalid input)"], r
    assert r.code == 1


def test_error_without_line(check, volume):
    cfg = write(volume / "svc.cfg", "service_cpu = 5\n")
    r = check("--cpus", "2", cfg)
    assert r.err == [f"{cfg}: service CPU 5 does not exist (this machine has 2 CPUs: 0-1)"], r
    assert r.out == [f"{cfg}: 0 partitions valid, 0 refused, 1 error"], r
    assert r.code == 1


def test_too_many_errors(check, volume):
    cfg = write(volume / "many.cfg", "".join(f"bogus{i} = 1\n" for i in range(40)))
    r = check(cfg)
    assert len(r.err) == 33, r
    assert r.err[0] == f"{cfg}:1: unknown key 'bogus0'"
    assert r.err[31] == f"{cfg}:32: unknown key 'bogus31'"
    assert r.err[32] == f"{cfg}: 8 more errors not shown"
    assert r.out == [f"{cfg}: 0 partitions valid, 0 refused, 40 errors"], r


# ---- what the options change -----------------------------------------------------------------

def test_machine_checks_skipped_without_options(check, volume):
    cfg = write(volume / "big.cfg", "[partition big]\ncpus = 1-40\nmemory = 64G\n"
                                    "kernel = guests/web.elf\n")
    r = check(cfg)
    assert (r.code, r.err, r.out) == (0, [], [f"{cfg}: ok, 1 partition"]), r
    r = check("--cpus", "8", cfg)
    assert r.err == [f"{cfg}:2: CPUs 8-40 do not exist (this machine has 8 CPUs: 0-7)"], r
    r = check("--memory", "32G", cfg)
    assert r.err == [f"{cfg}:3: memory over-committed: partition 'big' needs 65536 MiB, "
                     "only 32768 MiB left of 32768 MiB free"], r


@pytest.mark.parametrize("size", ["2G", "2g", "2048M", "2097152K", "2147483648", "2GiB", "2GB"])
def test_memory_sizes(check, volume, size):
    cfg = write(volume / "m.cfg", "[partition a]\ncpus = 1\nmemory = 4G\n"
                                  "kernel = guests/web.elf\n")
    r = check("--memory", size, cfg)
    assert r.err == [f"{cfg}:3: memory over-committed: partition 'a' needs 4096 MiB, "
                     "only 2048 MiB left of 2048 MiB free"], r


def test_option_equals_form(check, volume):
    cfg = write(volume / "bulkhead.cfg", GOOD)
    r = check("--cpus=4", "--memory=768M", f"--root={volume}", cfg)
    assert (r.code, r.out) == (0, [f"{cfg}: ok, 2 partitions"]), r
    r = check("--cpus=3", cfg)
    assert r.err == [f"{cfg}:11: CPU 3 does not exist (this machine has 3 CPUs: 0-2)"], r


def test_root_defaults_to_the_config_folder(check, volume, tmp_path):
    write(volume / "conf" / "bulkhead.cfg", GOOD)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # the files are under volume/, not conf/: relative to the config's folder they are missing
    r = check(volume / "conf" / "bulkhead.cfg", cwd=elsewhere)
    assert r.code == 1, r
    assert [line.split(": ", 1)[1] for line in r.err] == [
        "kernel 'guests/web.elf' not found",
        "initrd 'guests/initrd.img' not found",
        "kernel 'guests/db.elf' not found",
    ], r
    r = check("--root", volume, volume / "conf" / "bulkhead.cfg", cwd=elsewhere)
    assert r.code == 0, r
    # a bare file name: its folder is the current one
    write(volume / "bulkhead.cfg", GOOD)
    r = check("bulkhead.cfg", cwd=volume)
    assert (r.code, r.out) == (0, ["bulkhead.cfg: ok, 2 partitions"]), r


def test_boot_volume_paths(check, volume):
    """Paths are from the volume root, with '/' or '\\', and FAT ignores case."""
    cfg = write(volume / "p.cfg", """\
[partition a]
cpus = 1
memory = 2M
kernel = \\guests\\web.elf
initrd = /guests/initrd.img
[partition b]
cpus = 2
memory = 2M
kernel = GUESTS/Db.ELF
module = \\\\guests//initrd.img
""")
    r = check(cfg)
    assert (r.code, r.err, r.out) == (0, [], [f"{cfg}: ok, 2 partitions"]), r


# ---- usage and unreadable files ----------------------------------------------------------------

def test_help(check):
    r = check("--help")
    assert r.code == 0 and r.err == [], r
    assert r.out[0] == "usage: bulkhead-check [--cpus N] [--memory SIZE] [--root DIR] FILE.cfg"
    text = " ".join(r.out)
    assert "Without --cpus, CPUs are not checked against the machine" in text
    assert "without --memory, memory is not checked against the machine" in text
    assert check("-h").out == r.out


@pytest.mark.parametrize("args,message", [
    ([], "bulkhead-check: no configuration file given"),
    (["a.cfg", "b.cfg"], "bulkhead-check: more than one file given ('b.cfg')"),
    (["--frobnicate", "a.cfg"], "bulkhead-check: unknown option '--frobnicate'"),
    (["a.cfg", "--cpus"], "bulkhead-check: --cpus needs a value"),
    (["--cpus", "0", "a.cfg"], "bulkhead-check: bad --cpus '0' (a number of CPUs, 1-4096)"),
    (["--cpus", "four", "a.cfg"], "bulkhead-check: bad --cpus 'four' (a number of CPUs, 1-4096)"),
    (["--memory", "2X", "a.cfg"], "bulkhead-check: bad --memory '2X' (a size such as 2G or 512M)"),
    (["--memory", "0", "a.cfg"], "bulkhead-check: bad --memory '0' (a size such as 2G or 512M)"),
    (["--memory=", "a.cfg"], "bulkhead-check: bad --memory '' (a size such as 2G or 512M)"),
    (["--root", "/nonexistent/dir", "a.cfg"],
     "bulkhead-check: --root '/nonexistent/dir' is not a folder"),
])
def test_usage_errors(check, args, message):
    r = check(*args)
    assert r.code == 2, r
    assert r.out == [], r
    assert r.err[0] == message, r
    assert r.err[1].startswith("usage: bulkhead-check "), r


def test_unreadable_files(check, tmp_path):
    r = check(tmp_path / "missing.cfg")
    assert (r.code, r.out) == (2, []), r
    assert r.err == [f"bulkhead-check: cannot read {tmp_path}/missing.cfg: "
                     "No such file or directory"], r
    r = check(tmp_path)
    assert (r.code, r.out) == (2, []), r
    assert r.err == [f"bulkhead-check: cannot read {tmp_path}: Is a directory"], r


def test_too_large(check, tmp_path):
    cfg = tmp_path / "huge.cfg"
    cfg.write_text("# padding\n" * (1024 * 1024 // 10 + 1))
    r = check(cfg)
    assert r.code == 2, r
    assert r.err == [f"bulkhead-check: {cfg} is larger than 1048576 bytes, "
                     "the most Bulkhead reads"], r


def test_binary_file(check, tmp_path):
    cfg = tmp_path / "x.cfg"
    cfg.write_bytes(b"baud = 9600\n\x00\x01\x02")
    r = check(cfg)
    assert r.err == [f"{cfg}:2: NUL byte in configuration (is this a text file?)"], r
    assert r.code == 1


# ---- the examples in tests/data/config ----------------------------------------------------------

def examples():
    return sorted(p.relative_to(DATA).as_posix() for p in DATA.glob("*/*.cfg"))


@pytest.mark.parametrize("name", examples())
def test_examples(check, name):
    cfg = DATA / name
    opts = ["--root", "volume"]
    for line in cfg.read_text().splitlines():
        if line.startswith("# check:"):
            opts = shlex.split(line[len("# check:"):])
    expected = cfg.with_suffix(".expected").read_text().splitlines()
    r = check(*opts, name, cwd=DATA)
    assert r.err == expected[:-1], r
    assert r.out == expected[-1:], r
    assert r.code == (0 if name.startswith("good/") else 1), r


def test_examples_exist():
    names = examples()
    assert any(n.startswith("good/") for n in names) and any(n.startswith("bad/") for n in names)

