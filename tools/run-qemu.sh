#!/bin/bash
# Boots Bulkhead under QEMU (q35, TCG, OVMF or SeaBIOS), with the serial console in this terminal.
#
#   tools/run-qemu.sh [options] [-- extra QEMU arguments]
#
# By default a temporary folder becomes the boot disk (QEMU's vvfat): EFI/BOOT/BOOTX64.EFI is the
# EFI application and the configuration sits at the volume root as bulkhead.cfg. With --image, a
# disk image (from `make image`) is attached as a USB stick instead. See --help.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROG=$(basename "$0")

OVMF_CODE=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
OVMF_VARS=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
QEMU=${QEMU:-qemu-system-x86_64}

usage() {
	cat <<EOF
Usage: $PROG [options] [-- extra QEMU arguments]

Boot media (default: a temporary folder as the boot disk):
  --efi FILE          EFI application to boot (default: build/bulkhead.efi)
  --config FILE       copy FILE to bulkhead.cfg at the root of the boot volume
                      (without it the volume holds no configuration)
  --file SRC[:DEST]   also copy SRC into the boot volume, at DEST (a path relative to the
                      volume root; default: the base name of SRC). Repeatable.
  --image FILE        boot a disk image (from 'make image') as a USB stick instead; the image
                      is not modified (QEMU snapshot). Excludes --efi/--config/--file.
  --image-writable    with --image: let the guest write to the image

Machine:
  --firmware F        uefi (OVMF, the default) or bios (SeaBIOS; needs --image with GRUB on
                      it, such as build/bulkhead.iso)
  --smp N             number of CPUs (default: 4)
  --mem SIZE          memory, QEMU syntax (default: 2G)

Console and control (default: serial and QEMU monitor multiplexed on this terminal;
Ctrl-A x quits, Ctrl-A c switches to the monitor):
  --headless          no monitor; the serial goes to stdout (and reads stdin) unless
                      --serial-file or --serial-unix is given
  --serial-file F     write the serial output to file F (implies --headless)
  --serial-unix PATH  serial on a unix socket server at PATH; QEMU waits for a client to
                      connect before it starts the machine (implies --headless)
  --qemu-log F        QEMU's own log (-D F), with a trace of shutdown requests, so that a
                      power-off (reason=6, guest-shutdown) can be told from a reset (reason=7)
  --timeout S         end QEMU after S seconds (exit status 124)
  --workdir DIR       keep the boot folder and the firmware variables in DIR (created if needed,
                      not deleted) instead of a temporary folder
  --dry-run           print the QEMU command line and exit
  -h, --help          this text

QEMU runs with -no-reboot (a reset or triple fault ends it) and an isa-debug-exit device at
port 0xf4 (writing v there ends QEMU with status (v<<1)|1). ACPI S5 power-off exits 0.
The exit status of this script is QEMU's.
Environment: QEMU, OVMF_CODE, OVMF_VARS override the programs and firmware files used.
EOF
}

die() {
	echo "$PROG: error: $*" >&2
	exit 2
}

need_arg() {
	if [ $# -lt 2 ] || [ -z "$2" ]; then
		die "option $1 needs an argument (see --help)"
	fi
}

efi=""
config=""
files=()
image=""
image_rw=0
firmware=uefi
smp=4
mem=2G
headless=0
serial_file=""
serial_unix=""
qemu_log=""
timeout_s=""
workdir=""
dry_run=0
extra=()

while [ $# -gt 0 ]; do
	case "$1" in
	--efi) need_arg "$@"; efi=$2; shift 2 ;;
	--config) need_arg "$@"; config=$2; shift 2 ;;
	--file) need_arg "$@"; files+=("$2"); shift 2 ;;
	--image) need_arg "$@"; image=$2; shift 2 ;;
	--image-writable) image_rw=1; shift ;;
	--firmware) need_arg "$@"; firmware=$2; shift 2 ;;
	--smp) need_arg "$@"; smp=$2; shift 2 ;;
	--mem) need_arg "$@"; mem=$2; shift 2 ;;
	--headless) headless=1; shift ;;
	--serial-file) need_arg "$@"; serial_file=$2; headless=1; shift 2 ;;
	--serial-unix) need_arg "$@"; serial_unix=$2; headless=1; shift 2 ;;
	--qemu-log) need_arg "$@"; qemu_log=$2; shift 2 ;;
	--timeout) need_arg "$@"; timeout_s=$2; shift 2 ;;
	--workdir) need_arg "$@"; workdir=$2; shift 2 ;;
	--dry-run) dry_run=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; extra=("$@"); break ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done

# ---- validate --------------------------------------------------------------------------------
[[ "$smp" =~ ^[1-9][0-9]*$ ]] || die "--smp wants a positive number, not '$smp'"
case "$firmware" in
uefi | bios) ;;
*) die "--firmware wants uefi or bios, not '$firmware'" ;;
esac
[ "$firmware" = uefi ] || [ -n "$image" ] ||
	die "--firmware bios boots a disk image (--image build/bulkhead.iso); a folder needs UEFI"
[[ "$mem" =~ ^[1-9][0-9]*[MGT]?$ ]] || die "--mem wants a size like 512M or 2G, not '$mem'"
[ -z "$timeout_s" ] || [[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] ||
	die "--timeout wants a number of seconds, not '$timeout_s'"
[ -z "$serial_file" ] || [ -z "$serial_unix" ] || die "--serial-file and --serial-unix exclude each other"
command -v "$QEMU" >/dev/null || die "$QEMU not found (run tools/install-deps.sh)"
if [ "$firmware" = uefi ]; then
	[ -r "$OVMF_CODE" ] || die "OVMF firmware $OVMF_CODE not found (package ovmf)"
	[ -r "$OVMF_VARS" ] || die "OVMF variable store $OVMF_VARS not found (package ovmf)"
fi

if [ -n "$image" ]; then
	if [ -n "$efi$config" ] || [ ${#files[@]} -ne 0 ]; then
		die "--image boots the image as it is; --efi, --config and --file do not apply"
	fi
	[ -f "$image" ] || die "disk image '$image' not found (make image)"
	[ -r "$image" ] || die "disk image '$image' is not readable"
else
	[ $image_rw -eq 0 ] || die "--image-writable needs --image"
	efi=${efi:-$ROOT/build/bulkhead.efi}
	[ -f "$efi" ] || die "EFI application '$efi' not found (make all)"
	[ "$(head -c 2 "$efi")" = "MZ" ] || die "'$efi' is not a PE/COFF (EFI) executable"
	[ -z "$config" ] || [ -f "$config" ] || die "configuration '$config' not found"
	for f in ${files[@]+"${files[@]}"}; do
		src=${f%%:*}
		[ -f "$src" ] || die "--file: '$src' not found"
	done
fi

# QEMU's option syntax splits at commas: keep them out of the paths it is given.
for p in "$OVMF_CODE" "$OVMF_VARS" "$image" "$serial_file" "$serial_unix" "$qemu_log" "$workdir" \
	"${TMPDIR:-/tmp}"; do
	case "$p" in
	*,*) die "QEMU cannot take a path with a comma: '$p'" ;;
	esac
done

# ---- work folder -----------------------------------------------------------------------------
tmp=""
qemu_pid=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill -TERM "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "$workdir" ]; then
	mkdir -p "$workdir"
	work=$(cd "$workdir" && pwd)
else
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-qemu.XXXXXX")
	work=$tmp
fi

# shellcheck disable=SC2054  # the commas belong to QEMU's option syntax
args=(-M q35 -cpu max -smp "$smp" -m "$mem")
if [ "$firmware" = uefi ]; then
	vars=$work/OVMF_VARS.fd
	cp "$OVMF_VARS" "$vars"
	chmod u+w "$vars"
	# shellcheck disable=SC2054
	args+=(
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
		-drive "if=pflash,format=raw,unit=1,file=$vars"
	)
fi
# (Without pflash drives QEMU starts its own BIOS, SeaBIOS.)
# shellcheck disable=SC2054
args+=(
	-display none -no-reboot -nic none
	-device isa-debug-exit,iobase=0xf4,iosize=4
)

if [ -n "$image" ]; then
	snapshot=on
	[ $image_rw -eq 0 ] || snapshot=off
	# shellcheck disable=SC2054
	args+=(
		-device qemu-xhci,id=xhci
		-drive "if=none,id=stick,format=raw,snapshot=$snapshot,file=$(realpath "$image")"
		-device usb-storage,bus=xhci.0,drive=stick
	)
else
	esp=$work/esp
	rm -rf "$esp"
	mkdir -p "$esp/EFI/BOOT"
	cp "$efi" "$esp/EFI/BOOT/BOOTX64.EFI"
	[ -z "$config" ] || cp "$config" "$esp/bulkhead.cfg"
	for f in ${files[@]+"${files[@]}"}; do
		src=${f%%:*}
		dest=$(basename "$src")
		[ "$src" = "$f" ] || dest=${f#*:}
		case "$dest" in
		/* | *..*) die "--file: destination '$dest' must be relative, without '..'" ;;
		esac
		mkdir -p "$(dirname "$esp/$dest")"
		cp "$src" "$esp/$dest"
	done
	args+=(-drive "format=raw,file=fat:rw:$esp")
fi

if [ -n "$serial_file" ]; then
	args+=(-serial "file:$serial_file" -monitor none)
elif [ -n "$serial_unix" ]; then
	args+=(-serial "unix:$serial_unix,server=on,wait=on" -monitor none)
elif [ $headless -eq 1 ]; then
	args+=(-serial stdio -monitor none)
else
	args+=(-serial mon:stdio)
fi

if [ -n "$qemu_log" ]; then
	args+=(-D "$qemu_log" -trace qemu_system_shutdown_request)
fi

args+=(${extra[@]+"${extra[@]}"})

cmd=("$QEMU" "${args[@]}")
[ -z "$timeout_s" ] || cmd=(timeout --foreground -k 5 "$timeout_s" "${cmd[@]}")

if [ $dry_run -eq 1 ]; then
	printf '%q ' "${cmd[@]}"
	echo
	exit 0
fi

if [ $headless -eq 0 ]; then
	echo "$PROG: booting with $smp CPUs, $mem; Ctrl-A x quits, Ctrl-A c toggles the QEMU monitor" >&2
fi

# QEMU runs as a child (not exec) so that the work folder is removed afterwards and a signal to
# this script ends QEMU too. A background job of a script gets /dev/null as stdin, so hand the
# terminal over explicitly.
exec 3<&0
"${cmd[@]}" <&3 3<&- &
qemu_pid=$!
exec 3<&-
status=0
wait "$qemu_pid" || status=$?
qemu_pid=""
exit "$status"
