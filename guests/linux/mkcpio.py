#!/usr/bin/python3
"""Writes a Linux initramfs: a cpio archive in the "newc" format (optionally gzip-compressed)
from a plain-text list of entries. No root is needed: device nodes, owners and modes come from
the list, not from the file system, and the result is the same bytes on every run.

    mkcpio.py [-o OUT] [--gzip] [--mtime SECONDS] LIST [LIST ...]

Each LIST has one entry per line (blank lines and lines starting with # are skipped):

    dir   PATH MODE UID GID
    file  PATH SOURCE MODE UID GID         SOURCE: a file on the host (relative to the cwd)
    slink PATH TARGET MODE UID GID
    nod   PATH MODE UID GID c|b MAJOR MINOR

PATH is the absolute path inside the archive; MODE is octal permission bits (e.g. 0755).
Every entry's parent folder must come earlier in the lists ("/" exists already), and a path may
appear only once. Mistakes are reported as LIST:LINE: message, and nothing is written.
All entries get the same modification time: --mtime, else $SOURCE_DATE_EPOCH, else 0.
Standard library only. Part of the Linux guest recipe (docs/linux-guests.md).
"""

import argparse
import gzip
import os
import stat
import sys

NEWC_MAGIC = b"070701"
TRAILER = "TRAILER!!!"

FIELDS = {"dir": 4, "file": 5, "slink": 5, "nod": 7}


class ListError(Exception):
    pass


def _pad4(n):
    return (4 - n % 4) % 4


def newc_entry(name, mode, uid, gid, nlink, mtime, data=b"", ino=0, rdev=(0, 0)):
    """One newc record: 110-byte ASCII header, NUL-terminated name, data, each padded to 4."""
    namez = name.encode() + b"\0"
    fields = (ino, mode, uid, gid, nlink, mtime, len(data), 0, 0, rdev[0], rdev[1],
              len(namez), 0)
    header = NEWC_MAGIC + b"".join(b"%08X" % f for f in fields)
    out = header + namez + b"\0" * _pad4(len(header) + len(namez))
    out += data + b"\0" * _pad4(len(data))
    return out


def _octal_mode(text, where):
    try:
        mode = int(text, 8)
    except ValueError:
        raise ListError(f"{where}: mode '{text}' is not an octal number") from None
    if mode & ~0o7777:
        raise ListError(f"{where}: mode '{text}' has bits beyond 07777")
    return mode


def _number(text, what, where):
    try:
        n = int(text, 10)
    except ValueError:
        raise ListError(f"{where}: {what} '{text}' is not a number") from None
    if not 0 <= n <= 0xFFFFFFFF:
        raise ListError(f"{where}: {what} {n} is out of range")
    return n


def _archive_path(path, where):
    if not path.startswith("/") or path == "/":
        raise ListError(f"{where}: path '{path}' must be absolute and not /")
    parts = path.strip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ListError(f"{where}: path '{path}' has an empty, '.' or '..' component")
    return "/".join(parts)


def parse_lists(paths):
    """The entries of the lists, checked: a list of dicts in archive order."""
    entries = []
    seen = {}               # archive name -> where it was listed
    dirs = {""}             # "" is the root
    errors = []
    for list_path in paths:
        with open(list_path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        for lineno, line in enumerate(lines, 1):
            where = f"{list_path}:{lineno}"
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            try:
                kind = words[0]
                if kind not in FIELDS:
                    raise ListError(f"{where}: unknown entry type '{kind}' "
                                    "(dir, file, slink or nod)")
                if len(words) != FIELDS[kind] + 1:
                    raise ListError(f"{where}: '{kind}' takes {FIELDS[kind]} fields, "
                                    f"not {len(words) - 1}")
                name = _archive_path(words[1], where)
                if name in seen:
                    raise ListError(f"{where}: '{words[1]}' is already listed at {seen[name]}")
                parent = name.rpartition("/")[0]
                if parent not in dirs:
                    raise ListError(f"{where}: folder '/{parent}' of '{words[1]}' is not "
                                    "listed before it")
                e = {"kind": kind, "name": name, "where": where}
                if kind == "dir":
                    e["perm"] = _octal_mode(words[2], where)
                    ids = words[3:5]
                elif kind == "file":
                    e["source"] = words[2]
                    e["perm"] = _octal_mode(words[3], where)
                    ids = words[4:6]
                    if not os.path.isfile(e["source"]):
                        raise ListError(f"{where}: source file '{e['source']}' not found")
                elif kind == "slink":
                    e["target"] = words[2]
                    e["perm"] = _octal_mode(words[3], where)
                    ids = words[4:6]
                else:
                    e["perm"] = _octal_mode(words[2], where)
                    ids = words[3:5]
                    if words[5] not in ("c", "b"):
                        raise ListError(f"{where}: device type '{words[5]}' must be c or b")
                    e["devtype"] = words[5]
                    e["rdev"] = (_number(words[6], "major", where),
                                 _number(words[7], "minor", where))
                e["uid"] = _number(ids[0], "uid", where)
                e["gid"] = _number(ids[1], "gid", where)
            except ListError as err:
                errors.append(str(err))
                continue
            seen[name] = where
            if kind == "dir":
                dirs.add(name)
            entries.append(e)
    if errors:
        raise ListError("\n".join(errors))
    return entries


def build(entries, mtime):
    """The uncompressed archive (bytes) for parsed entries."""
    out = bytearray()
    for ino, e in enumerate(entries, 1):
        kind, data, nlink, rdev = e["kind"], b"", 1, (0, 0)
        if kind == "dir":
            mode, nlink = stat.S_IFDIR | e["perm"], 2
        elif kind == "file":
            mode = stat.S_IFREG | e["perm"]
            with open(e["source"], "rb") as f:
                data = f.read()
        elif kind == "slink":
            mode, data = stat.S_IFLNK | e["perm"], e["target"].encode()
        else:
            mode = (stat.S_IFCHR if e["devtype"] == "c" else stat.S_IFBLK) | e["perm"]
            rdev = e["rdev"]
        out += newc_entry(e["name"], mode, e["uid"], e["gid"], nlink, mtime, data, ino, rdev)
    out += newc_entry(TRAILER, 0, 0, 0, 1, 0)
    return bytes(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Write a newc cpio archive (initramfs) "
                                 "from entry lists, without root.")
    ap.add_argument("lists", nargs="+", metavar="LIST")
    ap.add_argument("-o", "--output", help="output file (default: stdout)")
    ap.add_argument("--gzip", action="store_true", help="compress with gzip")
    ap.add_argument("--mtime", type=int,
                    default=int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0),
                    help="modification time of every entry (default: $SOURCE_DATE_EPOCH or 0)")
    args = ap.parse_args(argv)
    try:
        entries = parse_lists(args.lists)
    except ListError as err:
        print(err, file=sys.stderr)
        return 1
    except OSError as err:
        print(f"mkcpio.py: {err}", file=sys.stderr)
        return 1
    data = build(entries, args.mtime)
    if args.gzip:
        data = gzip.compress(data, compresslevel=9, mtime=0)
    if args.output:
        tmp = args.output + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, args.output)
    else:
        sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
