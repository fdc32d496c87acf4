"""The Linux guest recipe without booting anything (docs/linux-guests.md): the initramfs writer
guests/linux/mkcpio.py, the initramfs's entry list, and the example configuration
guests/linux.cfg. Needs no download: placeholders stand in for the kernels and busybox.
"""

import gzip
import re
import stat
import subprocess
import sys

import pytest

import harness

MKCPIO = harness.REPO / "guests" / "linux" / "mkcpio.py"
INITRAMFS_LIST = harness.REPO / "guests" / "linux" / "initramfs.list"
LINUX_CFG = harness.REPO / "guests" / "linux.cfg"


def read_newc(data):
    """A newc archive -> list of entries (dicts), checking the format as the kernel reads it."""
    entries, pos = [], 0
    names = ("ino", "mode", "uid", "gid", "nlink", "mtime", "filesize", "devmajor", "devminor",
             "rdevmajor", "rdevminor", "namesize", "check")
    while True:
        assert data[pos:pos + 6] == b"070701", f"no newc magic at {pos}"
        hdr = {n: int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i, n in enumerate(names)}
        name_at = pos + 110
        raw_name = data[name_at:name_at + hdr["namesize"]]
        assert raw_name.endswith(b"\0") and b"\0" not in raw_name[:-1]
        name = raw_name[:-1].decode()
        data_at = (name_at + hdr["namesize"] + 3) & ~3
        assert set(data[name_at + hdr["namesize"]:data_at]) <= {0}
        body = data[data_at:data_at + hdr["filesize"]]
        pos = (data_at + hdr["filesize"] + 3) & ~3
        if name == "TRAILER!!!":
            assert pos == len(data), "bytes after the trailer"
            return entries
        entries.append(dict(hdr, name=name, data=body))


def mkcpio(*args, cwd=None):
    return subprocess.run([sys.executable, str(MKCPIO), *map(str, args)], capture_output=True,
                          cwd=cwd, timeout=60)


def test_writes_every_kind_of_entry(tmp_path):
    (tmp_path / "hello.txt").write_bytes(b"hello\n")
    lst = tmp_path / "a.list"
    lst.write_text("# comment\n\n"
                   "dir /etc 0755 0 0\n"
                   "file /etc/hello hello.txt 0640 1 2\n"
                   "slink /etc/link /etc/hello 0777 0 0\n"
                   "dir /dev 0755 0 0\n"
                   "nod /dev/console 0600 0 0 c 5 1\n"
                   "nod /dev/sda 0660 0 6 b 8 0\n")
    r = mkcpio("-o", "out.cpio", "--mtime", "1234", lst, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = (tmp_path / "out.cpio").read_bytes()
    entries = {e["name"]: e for e in read_newc(data)}
    assert list(entries) == ["etc", "etc/hello", "etc/link", "dev", "dev/console", "dev/sda"]
    assert entries["etc"]["mode"] == stat.S_IFDIR | 0o755
    f = entries["etc/hello"]
    assert (f["mode"], f["uid"], f["gid"], f["data"], f["mtime"]) == \
        (stat.S_IFREG | 0o640, 1, 2, b"hello\n", 1234)
    assert entries["etc/link"]["mode"] == stat.S_IFLNK | 0o777
    assert entries["etc/link"]["data"] == b"/etc/hello"
    c = entries["dev/console"]
    assert (c["mode"], c["rdevmajor"], c["rdevminor"]) == (stat.S_IFCHR | 0o600, 5, 1)
    b = entries["dev/sda"]
    assert (b["mode"], b["gid"], b["rdevmajor"]) == (stat.S_IFBLK | 0o660, 6, 8)
    assert len({e["ino"] for e in entries.values()}) == len(entries)

    # The same input gives the same bytes; --gzip compresses them (without a time stamp).
    assert mkcpio("--mtime", "1234", lst, cwd=tmp_path).stdout == data
    r = mkcpio("--gzip", "-o", "out.gz", "--mtime", "1234", lst, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    gz = (tmp_path / "out.gz").read_bytes()
    assert gzip.decompress(gz) == data
    assert gz[4:8] == b"\0\0\0\0"


@pytest.mark.parametrize("line, message", [
    ("file /etc/x missing.txt 0644 0 0", "source file 'missing.txt' not found"),
    ("dir /usr/bin 0755 0 0", "folder '/usr' of '/usr/bin' is not listed before it"),
    ("dir /etc 0755 0 0", "'/etc' is already listed at "),
    ("dir etc2 0755 0 0", "path 'etc2' must be absolute"),
    ("dir /a/../b 0755 0 0", "has an empty, '.' or '..' component"),
    ("dir /x 0789 0 0", "mode '0789' is not an octal number"),
    ("dir /x 17777 0 0", "has bits beyond 07777"),
    ("nod /x 0600 0 0 p 1 1", "device type 'p' must be c or b"),
    ("nod /x 0600 0 0 c one 1", "major 'one' is not a number"),
    ("pipe /x 0600 0 0", "unknown entry type 'pipe'"),
    ("slink /x /y 0777 0", "'slink' takes 5 fields, not 4"),
])
def test_reports_mistakes_by_line(tmp_path, line, message):
    lst = tmp_path / "bad.list"
    lst.write_text(f"dir /etc 0755 0 0\n{line}\n")
    r = mkcpio("-o", "out.cpio", lst, cwd=tmp_path)
    assert r.returncode == 1
    err = r.stderr.decode()
    assert err.startswith(f"{lst}:2: "), err
    assert message in err
    assert not (tmp_path / "out.cpio").exists()


def test_initramfs_list(tmp_path):
    """The repository's list, with a stand-in for the busybox part that linux.mk generates."""
    fake = tmp_path / "busybox"
    fake.write_bytes(b"\x7fELF not really busybox\n")
    bb = tmp_path / "busybox.list"
    bb.write_text(f"file /bin/busybox {fake} 0755 0 0\n"
                  "slink /bin/sh /bin/busybox 0777 0 0\n"
                  "slink /sbin/init /bin/busybox 0777 0 0\n")
    out = tmp_path / "initramfs.cpio.gz"
    r = mkcpio("--gzip", "-o", out, INITRAMFS_LIST, bb, cwd=harness.REPO)
    assert r.returncode == 0, r.stderr
    entries = {e["name"]: e for e in read_newc(gzip.decompress(out.read_bytes()))}
    console = entries["dev/console"]
    assert (stat.S_IFMT(console["mode"]), console["rdevmajor"], console["rdevminor"]) == \
        (stat.S_IFCHR, 5, 1)
    assert entries["init"]["data"] == b"/bin/busybox"
    for d in ("proc", "sys", "dev", "tmp", "root"):
        assert stat.S_ISDIR(entries[d]["mode"]), d
    rcs = entries["etc/init.d/rcS"]
    assert rcs["mode"] & 0o111 and rcs["data"].startswith(b"#!/bin/sh\n")
    assert b"::sysinit:/etc/init.d/rcS" in entries["etc/inittab"]["data"]
    assert b'echo "LINUX-UP $name cpus=$(nproc) memkb=$memkb"' in rcs["data"]
    assert all(e["uid"] == 0 and e["gid"] == 0 for e in entries.values())


def partitions(text):
    """[partition NAME] sections of a configuration -> {name: {key: value}}."""
    parts, cur = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"\[partition (\S+)\]", line)
        if m:
            cur = parts.setdefault(m.group(1), {})
        elif cur is not None:
            key, _, value = line.partition("=")
            cur[key.strip()] = value.strip()
    return parts


def test_example_configuration(tmp_path):
    """guests/linux.cfg: two Linux partitions (1 and 2 CPUs, cloud and generic kernel) and a
    test guest, valid for `make run-linux`'s machine (5 CPUs, 2 GiB) with the files where
    linux.mk and guests.mk put them under build/."""
    parts = partitions(LINUX_CFG.read_text())
    linux = {n: p for n, p in parts.items() if p["kernel"].startswith("linux/vmlinuz-")}
    assert sorted(p["kernel"] for p in linux.values()) == \
        ["linux/vmlinuz-cloud", "linux/vmlinuz-generic"]
    assert sorted(p["cpus"].count("-") + 1 for p in linux.values()) == [1, 2]
    for name, p in linux.items():
        assert p["initrd"] == "linux/initramfs.cpio.gz"
        assert p["cmdline"].split() == ["console=ttyS0", f"bulkhead.partition={name}"]
    others = [p for n, p in parts.items() if n not in linux]
    assert [p["kernel"] for p in others] == ["guests/hello.elf"]

    tool = harness.BUILD / "bulkhead-check"
    if not tool.is_file():
        pytest.fail(f"{tool} is missing: run `make all` first", pytrace=False)
    for rel in ("linux/vmlinuz-cloud", "linux/vmlinuz-generic", "linux/initramfs.cpio.gz",
                "guests/hello.elf"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"placeholder\n")
    r = subprocess.run([str(tool), "--cpus", "5", "--memory", "2G", "--root", str(tmp_path),
                        str(LINUX_CFG)], capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stderr) == (0, ""), r
    assert r.stdout.strip().endswith("ok, 3 partitions")
