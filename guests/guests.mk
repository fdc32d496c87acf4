# Test guests: freestanding kernels that run inside Bulkhead partitions (docs/test-guests.md).
#   hello.elf     Multiboot 1, ELF32 at 1 MiB: prints its name and the CPUID hypervisor signature
#   memcheck.elf  Multiboot 2, ELF32 at 1 MiB: tests its RAM in rounds, forever
#   attacker.elf  ELF64 at 1 MiB, long mode: tries to escape its partition, reports each attempt
#   flood.elf     Multiboot 1, ELF32 at 1 MiB: prints `bytes=` (1 MiB) as fast as it can
# Included from the top Makefile (which defines BUILD, CC, LD); `make -f guests/guests.mk` works
# on its own too. `make guests-smoke` boots hello, and memcheck/attacker through a test-only
# Multiboot 1 shim, directly under QEMU (no hypervisor) and checks what they print.
# Linux guests: guests/linux/linux.mk (`make linux-guests`, docs/linux-guests.md).

BUILD ?= build
# The includer's default goal stays its own (`all`), though this file defines targets first.
GUEST_SAVED_GOAL := $(.DEFAULT_GOAL)
GUEST_OUT := $(BUILD)/guests
GUEST_GCC_INC := $(shell $(CC) -print-file-name=include)

GUEST_CFLAGS := -std=c11 -Wall -Wextra -Werror -ffreestanding -nostdlib -fno-pic -fno-pie \
	-mno-red-zone -mgeneral-regs-only -O2 -g -nostdinc -isystem $(GUEST_GCC_INC) \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fno-tree-loop-distribute-patterns -fno-delete-null-pointer-checks -fcf-protection=none \
	-fno-strict-aliasing -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Iguests/lib
GUEST_CFLAGS32 := $(GUEST_CFLAGS) -m32 -march=i686
GUEST_CFLAGS64 := $(GUEST_CFLAGS) -m64 -mcmodel=small
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --build-id=none \
	--no-warn-rwx-segments

GUEST_LIB_C := console.c format.c string.c cmdline.c cpu.c mb2.c
GUEST_LIB32 := $(patsubst %,$(GUEST_OUT)/obj32/lib/%.o,$(GUEST_LIB_C) entry32.S)
GUEST_LIB64 := $(patsubst %,$(GUEST_OUT)/obj64/lib/%.o,$(GUEST_LIB_C) entry64.S trap64.S trap.c \
	guard64.S)

guest_objs32 = $(patsubst guests/%,$(GUEST_OUT)/obj32/%.o,$(wildcard guests/$(1)/*.c guests/$(1)/*.S))
guest_objs64 = $(patsubst guests/%,$(GUEST_OUT)/obj64/%.o,$(wildcard guests/$(1)/*.c guests/$(1)/*.S))

GUEST_HELLO_OBJS := $(call guest_objs32,hello)
GUEST_MEMCHECK_OBJS := $(call guest_objs32,memcheck)
GUEST_ATTACKER_OBJS := $(call guest_objs64,attacker)
GUEST_FLOOD_OBJS := $(call guest_objs32,flood)

GUESTS += $(GUEST_OUT)/hello.elf $(GUEST_OUT)/memcheck.elf $(GUEST_OUT)/attacker.elf \
	$(GUEST_OUT)/flood.elf

.PHONY: guests guests-smoke
guests: $(GUEST_OUT)/hello.elf $(GUEST_OUT)/memcheck.elf $(GUEST_OUT)/attacker.elf \
	$(GUEST_OUT)/flood.elf

$(GUEST_OUT)/obj32/%.c.o: guests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC32    $<"
	@$(CC) $(GUEST_CFLAGS32) -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj32/%.S.o: guests/%.S
	@mkdir -p $(dir $@)
	@echo "  AS32    $<"
	@$(CC) $(GUEST_CFLAGS32) -D__ASSEMBLY__ -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj64/%.c.o: guests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC64    $<"
	@$(CC) $(GUEST_CFLAGS64) -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj64/%.S.o: guests/%.S
	@mkdir -p $(dir $@)
	@echo "  AS64    $<"
	@$(CC) $(GUEST_CFLAGS64) -D__ASSEMBLY__ -MMD -MP -c $< -o $@

$(GUEST_OUT)/hello.elf: $(GUEST_HELLO_OBJS) $(GUEST_LIB32) guests/lib/guest32.ld
	@echo "  LD      $@"
	@$(LD) -m elf_i386 $(GUEST_LDFLAGS) -T guests/lib/guest32.ld \
		$(GUEST_HELLO_OBJS) $(GUEST_LIB32) -o $@

$(GUEST_OUT)/memcheck.elf: $(GUEST_MEMCHECK_OBJS) $(GUEST_LIB32) guests/lib/guest32.ld
	@echo "  LD      $@"
	@$(LD) -m elf_i386 $(GUEST_LDFLAGS) -T guests/lib/guest32.ld \
		$(GUEST_MEMCHECK_OBJS) $(GUEST_LIB32) -o $@

$(GUEST_OUT)/flood.elf: $(GUEST_FLOOD_OBJS) $(GUEST_LIB32) guests/lib/guest32.ld
	@echo "  LD      $@"
	@$(LD) -m elf_i386 $(GUEST_LDFLAGS) -T guests/lib/guest32.ld \
		$(GUEST_FLOOD_OBJS) $(GUEST_LIB32) -o $@

$(GUEST_OUT)/attacker.elf: $(GUEST_ATTACKER_OBJS) $(GUEST_LIB64) guests/lib/guest64.ld
	@echo "  LD      $@"
	@$(LD) -m elf_x86_64 $(GUEST_LDFLAGS) -T guests/lib/guest64.ld \
		$(GUEST_ATTACKER_OBJS) $(GUEST_LIB64) -o $@

# --- Test-only: a Multiboot 1 shim that QEMU's -kernel can boot, carrying memcheck or the
# attacker and starting it the way Bulkhead's loaders do (see guests/lib/shim/shim.c). Not part
# of GUESTS: nothing ships it.
GUEST_SHIM_OBJS := $(patsubst guests/%,$(GUEST_OUT)/obj32/%.o,$(wildcard guests/lib/shim/*.c)) \
	$(GUEST_OUT)/obj32/lib/console.c.o $(GUEST_OUT)/obj32/lib/format.c.o \
	$(GUEST_OUT)/obj32/lib/string.c.o $(GUEST_OUT)/obj32/lib/cmdline.c.o
.SECONDARY: $(GUEST_SHIM_OBJS)

$(GUEST_OUT)/shim-%.elf: $(GUEST_OUT)/%.elf guests/lib/shim/payload.S guests/lib/shim/entry.S \
		$(GUEST_SHIM_OBJS) guests/lib/shim/shim.ld
	@echo "  SHIM    $@"
	@$(CC) $(GUEST_CFLAGS32) -D__ASSEMBLY__ -DPAYLOAD='"$<"' -c guests/lib/shim/payload.S \
		-o $(GUEST_OUT)/obj32/shim-payload-$*.o
	@$(CC) $(GUEST_CFLAGS32) -D__ASSEMBLY__ -c guests/lib/shim/entry.S \
		-o $(GUEST_OUT)/obj32/shim-entry-$*.o
	@$(LD) -m elf_i386 $(GUEST_LDFLAGS) -T guests/lib/shim/shim.ld \
		$(GUEST_OUT)/obj32/shim-entry-$*.o $(GUEST_SHIM_OBJS) \
		$(GUEST_OUT)/obj32/shim-payload-$*.o -o $@

guests-smoke: guests $(GUEST_OUT)/shim-memcheck.elf $(GUEST_OUT)/shim-attacker.elf
	guests/lib/shim/smoke.sh $(GUEST_OUT)

# Linux guests (Debian kernels, busybox initramfs): separate targets, not part of GUESTS.
include guests/linux/linux.mk

-include $(wildcard $(GUEST_OUT)/obj32/*/*.d $(GUEST_OUT)/obj32/*/*/*.d \
	$(GUEST_OUT)/obj64/*/*.d $(GUEST_OUT)/obj64/*/*/*.d)

ifeq ($(firstword $(MAKEFILE_LIST)),guests/guests.mk)
.DEFAULT_GOAL := guests
else
.DEFAULT_GOAL := $(GUEST_SAVED_GOAL)
endif
