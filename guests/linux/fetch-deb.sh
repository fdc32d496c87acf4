#!/bin/sh
# Fetches one file out of a Debian package, with `apt-get download` (no root needed) and
# `dpkg-deb` (no installation). Part of the Linux guest recipe: docs/linux-guests.md.
#
#   fetch-deb.sh kernel  META-PACKAGE CACHE OUT    e.g. linux-image-cloud-amd64 -> OUT (bzImage)
#   fetch-deb.sh busybox PACKAGE      CACHE OUT    e.g. busybox-static          -> OUT (/bin/busybox)
#
# kernel:  META-PACKAGE is resolved through its Depends to the versioned image package
#          (linux-image-cloud-amd64 -> linux-image-6.1.0-NN-cloud-amd64); OUT receives its
#          /boot/vmlinuz-*, OUT.config its /boot/config-*. A versioned package
#          (linux-image-6.1.0-NN-...) is taken as it is.
# busybox: OUT receives the package's /bin/busybox.
# Both write OUT.pkg: "package version" of the .deb the file came from.
#
# The .deb is kept in CACHE (created if needed) and not downloaded again while the candidate
# version apt knows is the one there. The only network access is apt-get's own (and an
# `apt-get update` when apt knows no such package and this runs as root or with password-less
# sudo). Outputs are written under temporary names and renamed, so a failed run leaves none.
set -eu

PROG=fetch-deb.sh
die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

[ $# -eq 4 ] || die "usage: $PROG kernel|busybox PACKAGE CACHE OUT"
mode=$1 pkg=$2 cache=$3 out=$4
case $mode in
kernel | busybox) ;;
*) die "unknown mode '$mode' (kernel or busybox)" ;;
esac
for t in apt-cache apt-get dpkg-deb tar; do
	command -v "$t" >/dev/null || die "'$t' not found: this recipe needs a Debian (or derived) host"
done

# `apt-cache show` of the candidate version; empty when apt knows no such package.
show() {
	apt-cache show --no-all-versions "$1" 2>/dev/null || true
}

# A fresh machine may have no package lists yet: update them if we are allowed to.
# Prints the paragraph; runs in a command substitution, so it exits (not returns) on failure.
show_or_update() {
	info=$(show "$1")
	if [ -z "$info" ]; then
		if [ "$(id -u)" -eq 0 ]; then
			echo "$PROG: apt knows no package '$1': running apt-get update" >&2
			apt-get update -qq >&2 || true
		elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
			echo "$PROG: apt knows no package '$1': running sudo apt-get update" >&2
			sudo -n apt-get update -qq >&2 || true
		fi
		info=$(show "$1")
	fi
	[ -n "$info" ] || die "apt knows no package '$1' (run 'apt-get update' as root, and check that
  apt's sources include Debian 12's main component)"
	printf '%s\n' "$info"
}

field() { # field NAME  (reads a control paragraph on stdin)
	sed -n "s/^$1: //p" | head -n 1
}

case $pkg in
linux-image-[0-9]*) is_meta=no ;; # a versioned image named directly (a pin)
*) is_meta=yes ;;
esac
info=$(show_or_update "$pkg") || exit 1
if [ "$mode" = kernel ] && [ $is_meta = yes ]; then
	# The meta-package depends on exactly one versioned image: "linux-image-X (= V)".
	dep=$(printf '%s\n' "$info" | field Depends | tr ',' '\n' | sed 's/^ *//' |
		grep '^linux-image-[0-9]' | head -n 1)
	[ -n "$dep" ] || die "'$pkg' does not depend on a linux-image-<version> package"
	real=${dep%% *}
	echo "$PROG: $pkg -> $real" >&2
	pkg=$real
	info=$(show_or_update "$pkg") || exit 1
fi
version=$(printf '%s\n' "$info" | field Version)
[ -n "$version" ] || die "apt shows no version of '$pkg'"

# ---- the .deb, from the cache or downloaded --------------------------------------------------
mkdir -p "$cache"
deb=""
for f in "$cache/${pkg}"_*.deb; do
	[ -f "$f" ] || continue
	if [ "$(dpkg-deb -f "$f" Package 2>/dev/null)" = "$pkg" ] &&
		[ "$(dpkg-deb -f "$f" Version 2>/dev/null)" = "$version" ]; then
		deb=$f
		break
	fi
done
if [ -n "$deb" ]; then
	echo "$PROG: $pkg $version: cached $deb" >&2
else
	echo "$PROG: $pkg $version: downloading with apt-get download" >&2
	dl=$(mktemp -d "$cache/download.XXXXXX")
	trap 'rm -rf "$dl"' EXIT
	# As root, apt would hand the download to its unprivileged _apt user, who may not be able
	# to write here; it is our own folder, so download as ourselves.
	sandbox=""
	[ "$(id -u)" -ne 0 ] || sandbox="-o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	(cd "$dl" && apt-get download -q $sandbox "$pkg=$version" >&2) ||
		die "apt-get download $pkg=$version failed"
	set -- "$dl"/*.deb
	{ [ $# -eq 1 ] && [ -f "$1" ]; } || die "apt-get download left no single .deb in $dl"
	{ [ "$(dpkg-deb -f "$1" Package)" = "$pkg" ] && [ "$(dpkg-deb -f "$1" Version)" = "$version" ]; } ||
		die "$1 is not $pkg $version"
	deb=$cache/$(basename "$1")
	mv -f "$1" "$deb"
	rm -rf "$dl"
	trap - EXIT
fi

# ---- extract the one file we want (not the 400 MB of modules) --------------------------------
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "$(dirname "$out")/.extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if [ "$mode" = kernel ]; then
	dpkg-deb --fsys-tarfile "$deb" | tar -x -m -C "$tmp" --wildcards './boot/vmlinuz-*' './boot/config-*' ||
		die "no /boot/vmlinuz-* and /boot/config-* in $deb"
	set -- "$tmp"/boot/vmlinuz-*
	{ [ $# -eq 1 ] && [ -s "$1" ]; } || die "$deb holds no single non-empty /boot/vmlinuz-*"
	# A bzImage has "HdrS" at 0x202 (the x86 boot protocol's setup header).
	[ "$(dd if="$1" bs=1 skip=514 count=4 2>/dev/null)" = "HdrS" ] ||
		die "$1 from $deb is not a bzImage (no HdrS at 0x202)"
	mv -f "$tmp"/boot/config-* "$out.config.tmp"
	mv -f "$1" "$out.tmp"
else
	dpkg-deb --fsys-tarfile "$deb" | tar -x -m -C "$tmp" ./bin/busybox ||
		die "no /bin/busybox in $deb"
	[ "$(head -c 4 "$tmp/bin/busybox" | od -An -c | tr -d ' ')" = '177ELF' ] ||
		die "/bin/busybox in $deb is not an ELF file"
	mv -f "$tmp/bin/busybox" "$out.tmp"
fi
echo "$pkg $version" >"$out.pkg.tmp"
[ ! -f "$out.config.tmp" ] || mv -f "$out.config.tmp" "$out.config"
mv -f "$out.pkg.tmp" "$out.pkg"
mv -f "$out.tmp" "$out"
echo "$PROG: $out: $(wc -c <"$out") bytes from $(basename "$deb")" >&2
