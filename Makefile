# Bulkhead — plain GNU Make.
#   make          build build/bulkhead.efi and build/bulkhead.elf (and the host tools)
#   make run      install missing Debian packages, build, fetch the Linux guests, boot
#                 guests/linux.cfg under QEMU/OVMF (serial console here)
#   make test     unit tests (cmocka, host) and system tests (pytest, QEMU and Bochs)
#   make image    build/bulkhead.iso, one image for BIOS and UEFI PCs (CD or `dd` to a USB stick),
#                 and build/bulkhead.img, a GPT disk with an EFI system partition (UEFI only)
#   make linux-guests  Debian's kernels and a busybox initramfs in build/linux (guests/linux/linux.mk)

BUILD   ?= build
CC      := gcc
LD      := ld
OBJCOPY := objcopy
PYTHON  := /usr/bin/python3

GCC_INC := $(shell $(CC) -print-file-name=include)
EFI_INC := /usr/include/efi
EFI_LIB := /usr/lib

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# The hypervisor: freestanding, position independent (the UEFI loader relocates it), no SSE
# state to save on exits, no red zone (interrupts run on the same stack).
HV_CFLAGS := -std=c11 $(WARN) -O2 -g -ffreestanding -nostdinc -isystem $(GCC_INC) \
	-fpic -fvisibility=hidden -fno-stack-protector -fno-strict-aliasing \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fshort-wchar \
	-fno-tree-loop-distribute-patterns \
	-mno-red-zone -mgeneral-regs-only -Iinclude
EFI_CFLAGS := $(HV_CFLAGS) -isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 -DGNU_EFI_USE_MS_ABI

HV_SRCS := $(wildcard hv/*.c) $(wildcard drivers/*.c) $(wildcard lib/*.c) \
	$(wildcard arch/x86_64/svm/*.c) $(wildcard arch/x86_64/svm/*.S) \
	$(wildcard arch/x86_64/vmx/*.c) $(wildcard arch/x86_64/vmx/*.S) \
	$(wildcard arch/x86_64/*.c) $(wildcard arch/x86_64/*.S)
EFI_SRCS := $(wildcard boot/efi/*.c)
# The multiboot2 entry (GRUB): built like the hypervisor, linked into bulkhead.elf only.
MB2_SRCS := $(wildcard boot/multiboot2/*.c) $(wildcard boot/multiboot2/*.S)

HV_OBJS  := $(patsubst %,$(BUILD)/hv-obj/%.o,$(HV_SRCS))
EFI_OBJS := $(patsubst %,$(BUILD)/efi-obj/%.o,$(EFI_SRCS))
MB2_OBJS := $(patsubst %,$(BUILD)/hv-obj/%.o,$(MB2_SRCS))

.PHONY: all run run-test-guests test unit-test system-test image iso deps clean
.DEFAULT_GOAL := all
# Test guests (guests/guests.mk sets GUESTS) and host tools (tools/tools.mk sets TOOLS).
GUESTS :=
TOOLS :=
-include guests/guests.mk
-include tools/tools.mk

all: $(BUILD)/bulkhead.efi $(BUILD)/bulkhead.elf $(GUESTS) $(TOOLS)

$(BUILD)/hv-obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(HV_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/hv-obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(HV_CFLAGS) -D__ASSEMBLY__ -MMD -MP -c $< -o $@

$(BUILD)/efi-obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(EFI_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/bulkhead.so: $(EFI_OBJS) $(HV_OBJS)
	@echo "  LD      $@"
	@$(LD) -shared -Bsymbolic -nostdlib -znocombreloc -T $(EFI_LIB)/elf_x86_64_efi.lds \
		$(EFI_LIB)/crt0-efi-x86_64.o $^ -L$(EFI_LIB) -lgnuefi -o $@
	@# A PE/COFF image has no dynamic loader: every symbol must be resolved here.
	@if nm -u $@ | grep -q .; then echo "unresolved symbols in $@:"; nm -u $@; rm -f $@; exit 1; fi

$(BUILD)/bulkhead.efi: $(BUILD)/bulkhead.so
	@echo "  OBJCOPY $@"
	@$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
		-j '.rel.*' -j '.rela.*' -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@

# The same hypervisor as a multiboot2 kernel (linker.ld): static, not PIE, at a fixed address.
$(BUILD)/bulkhead.elf: $(MB2_OBJS) $(HV_OBJS) linker.ld
	@echo "  LD      $@"
	@$(LD) -static -nostdlib -no-pie -z max-page-size=0x1000 -z noexecstack --build-id=none \
		-T linker.ld $(MB2_OBJS) $(HV_OBJS) -o $@
	@if nm -u $@ | grep -q .; then echo "unresolved symbols in $@:"; nm -u $@; rm -f $@; exit 1; fi

# ---------------------------------------------------------------------------------------------
# Boot media and running

$(BUILD)/bulkhead.img: $(BUILD)/bulkhead.efi guests/bulkhead.cfg tools/mkimage.sh tools/fat-files.sh
	tools/mkimage.sh $@ $(BUILD)/bulkhead.efi guests/bulkhead.cfg

# One image for every PC: BIOS (GRUB, multiboot2) and UEFI, as a CD or written to a USB stick.
$(BUILD)/bulkhead.iso: $(BUILD)/bulkhead.efi $(BUILD)/bulkhead.elf guests/bulkhead.cfg \
		tools/mkiso.sh tools/fat-files.sh
	tools/mkiso.sh $@ $(BUILD)/bulkhead.efi $(BUILD)/bulkhead.elf guests/bulkhead.cfg

image: $(BUILD)/bulkhead.iso $(BUILD)/bulkhead.img
iso: $(BUILD)/bulkhead.iso

deps:
	tools/install-deps.sh

# `make run`: guests/linux.cfg, two stock Debian kernels and a test guest (guests/linux/linux.mk
# fetches the kernels on first use). `make run-test-guests`: guests/bulkhead.cfg, the three test
# guests only, nothing to download.
run: deps
	$(MAKE) all linux-guests
	tools/run-qemu.sh --smp $(LINUX_RUN_SMP) --config guests/linux.cfg \
		$(foreach f,$(LINUX_RUN_FILES),--file $(f))

run-test-guests: deps
	$(MAKE) all
	tools/run-qemu.sh --config guests/bulkhead.cfg

# ---------------------------------------------------------------------------------------------
# Tests

include tests/unit/unit.mk

system-test: all image
	BULKHEAD_BUILD=$(BUILD) $(PYTHON) -m pytest -v -ra --durations=12 tests/system

test: unit-test
	$(MAKE) system-test

clean:
	rm -rf $(BUILD)

-include $(HV_OBJS:.o=.d) $(EFI_OBJS:.o=.d) $(MB2_OBJS:.o=.d)
