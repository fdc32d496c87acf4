#!/bin/sh
# Installs the Debian packages Bulkhead needs to build, run and test.
# Used by `make run`, `make test` (via .ci/run) and by hand. Installs only what is missing.
set -eu

PACKAGES="
build-essential
gnu-efi
ovmf
qemu-system-x86
libcmocka-dev
python3-pytest
python3-pexpect
mtools
gdisk
grub-common
grub-pc-bin
xorriso
dosfstools
bochs
bochsbios
vgabios
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
