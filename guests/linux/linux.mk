# Linux guests: Debian's stock kernels and a busybox initramfs (docs/linux-guests.md).
# Included from guests/guests.mk. Nothing here is part of `make all`: only these targets (and
# `make system-test`, see below) download anything, and only with `apt-get download`.
#
#   make linux-guests   build/linux/vmlinuz-cloud    Debian's cloud kernel (bzImage)
#                       build/linux/vmlinuz-generic  Debian's generic kernel (bzImage)
#                       build/linux/initramfs.cpio.gz  busybox userland whose init prints
#                                                    LINUX-UP <partition> cpus=N memkb=N
#   make linux-update   resolve the packages again (a new Debian point release), fetch what
#                       changed, drop superseded .debs from the cache
#   make linux-smoke    boot both kernels with the initramfs directly under QEMU (no hypervisor)
#   make run            boot guests/linux.cfg (two Linux partitions and hello) in Bulkhead
#                       (`make run-linux` is the same)
#
# A kernel or busybox that is present is never fetched again (no prerequisites); the .debs stay
# in LINUX_DEBS, so a removed output comes back without a download.

BUILD ?= build
LINUX_OUT := $(BUILD)/linux
LINUX_DEBS ?= $(LINUX_OUT)/debs
LINUX_PYTHON := $(if $(PYTHON),$(PYTHON),/usr/bin/python3)
LINUX_FETCH := guests/linux/fetch-deb.sh
# A meta-package (resolved through its Depends) or a versioned image package, to pin one.
LINUX_CLOUD_META ?= linux-image-cloud-amd64
LINUX_GENERIC_META ?= linux-image-amd64
LINUX_BUSYBOX_PKG ?= busybox-static

LINUX_KERNELS := $(LINUX_OUT)/vmlinuz-cloud $(LINUX_OUT)/vmlinuz-generic
LINUX_INITRD := $(LINUX_OUT)/initramfs.cpio.gz
LINUX_GUESTS := $(LINUX_KERNELS) $(LINUX_INITRD)
LINUX_ROOTFS := $(shell find guests/linux/rootfs -type f 2>/dev/null)

# Where `make run` puts the files on the boot volume: the layout of build/, so that
# `bulkhead-check --root build guests/linux.cfg` finds them by the same names.
LINUX_RUN_FILES := $(LINUX_OUT)/vmlinuz-cloud:linux/vmlinuz-cloud \
	$(LINUX_OUT)/vmlinuz-generic:linux/vmlinuz-generic \
	$(LINUX_INITRD):linux/initramfs.cpio.gz \
	$(BUILD)/guests/hello.elf:guests/hello.elf
LINUX_RUN_SMP := 5

.PHONY: linux-guests linux-update linux-smoke run-linux

linux-guests: $(LINUX_GUESTS)

$(LINUX_OUT)/vmlinuz-cloud:
	@echo "  FETCH   $@ ($(LINUX_CLOUD_META))"
	@$(LINUX_FETCH) kernel $(LINUX_CLOUD_META) $(LINUX_DEBS) $@

$(LINUX_OUT)/vmlinuz-generic:
	@echo "  FETCH   $@ ($(LINUX_GENERIC_META))"
	@$(LINUX_FETCH) kernel $(LINUX_GENERIC_META) $(LINUX_DEBS) $@

$(LINUX_OUT)/busybox:
	@echo "  FETCH   $@ ($(LINUX_BUSYBOX_PKG))"
	@$(LINUX_FETCH) busybox $(LINUX_BUSYBOX_PKG) $(LINUX_DEBS) $@

# busybox itself, and /bin/ls -> /bin/busybox and so on for every applet it has (asked from the
# binary: it is a static x86-64 program, so it runs on the build machine).
$(LINUX_OUT)/busybox.list: $(LINUX_OUT)/busybox guests/linux/linux.mk
	@echo "  GEN     $@"
	@{ echo "file /bin/busybox $< 0755 0 0"; \
	  $< --list-full | grep / | grep -vx 'bin/busybox' | sort | \
		sed 's|.*|slink /& /bin/busybox 0777 0 0|'; } >$@.tmp
	@[ "$$(wc -l <$@.tmp)" -gt 100 ] || { echo "$<: too few applets" >&2; rm -f $@.tmp; exit 1; }
	@mv -f $@.tmp $@

$(LINUX_INITRD): guests/linux/initramfs.list $(LINUX_OUT)/busybox.list $(LINUX_OUT)/busybox \
		guests/linux/mkcpio.py $(LINUX_ROOTFS)
	@echo "  CPIO    $@"
	@$(LINUX_PYTHON) guests/linux/mkcpio.py --gzip -o $@ \
		guests/linux/initramfs.list $(LINUX_OUT)/busybox.list

linux-update:
	@echo "  FETCH   (again) $(LINUX_CLOUD_META) $(LINUX_GENERIC_META) $(LINUX_BUSYBOX_PKG)"
	@$(LINUX_FETCH) kernel $(LINUX_CLOUD_META) $(LINUX_DEBS) $(LINUX_OUT)/vmlinuz-cloud
	@$(LINUX_FETCH) kernel $(LINUX_GENERIC_META) $(LINUX_DEBS) $(LINUX_OUT)/vmlinuz-generic
	@$(LINUX_FETCH) busybox $(LINUX_BUSYBOX_PKG) $(LINUX_DEBS) $(LINUX_OUT)/busybox
	@$(MAKE) --no-print-directory $(LINUX_INITRD)
	@for f in $(LINUX_DEBS)/*.deb; do \
		[ -f "$$f" ] || continue; \
		id="$$(dpkg-deb -f "$$f" Package 2>/dev/null) $$(dpkg-deb -f "$$f" Version 2>/dev/null)"; \
		cat $(LINUX_OUT)/*.pkg | grep -qxF "$$id" || { echo "  RM      $$f"; rm -f "$$f"; }; \
	done
	@cat $(LINUX_OUT)/*.pkg

linux-smoke: $(LINUX_GUESTS)
	BULKHEAD_BUILD=$(BUILD) $(LINUX_PYTHON) -m pytest -v -ra tests/system/test_linux_direct.py

# The old name of `make run`.
run-linux: run

# `make system-test` (so `make test` and CI) fetches the Linux guests too: the Linux tests boot
# them. LINUX_TESTS=no leaves them out (for a machine without Debian's mirrors); the tests that
# need them then skip.
LINUX_TESTS ?= yes
ifneq ($(LINUX_TESTS),no)
system-test: linux-guests
endif
