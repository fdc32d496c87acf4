# (secondary expansion lets a test's prerequisites depend on its name)
.SECONDEXPANSION:

# Host-compiled unit tests (cmocka). Each test is tests/unit/test_NAME.c linked with the pure
# modules listed in UT_SRCS_NAME. Included from the top-level Makefile.

UT_CFLAGS := -std=c11 -Wall -Wextra -Werror -O1 -g -Iinclude -Itests/unit \
	-fsanitize=address,undefined -fno-sanitize-recover=all
UT_LIBS := -lcmocka

UNIT_TESTS := lib pmm acpi decode gwalk loader config plan ring vuart paging
# Further tests append themselves below with `UNIT_TESTS += name`.

# lib/string.c defines memcpy & co; for the host it is built under other names (see rename.h)
# so the test binary still uses the C library's own.
UT_SRCS_lib  := lib/format.c lib/error.c
UT_EXTRA_lib := $(BUILD)/ut/lib_string_renamed.o
UT_SRCS_pmm  := hv/pmm.c lib/error.c
UT_SRCS_acpi := drivers/acpi.c lib/error.c lib/format.c
UT_SRCS_decode := arch/x86_64/decode.c lib/error.c
UT_SRCS_gwalk := hv/gwalk.c lib/error.c
UT_SRCS_loader := hv/loader.c hv/loader_multiboot.c hv/loader_elf.c hv/loader_linux.c lib/error.c \
	lib/format.c
UT_SRCS_config := hv/config.c lib/format.c
UT_SRCS_plan := hv/plan.c hv/config.c lib/format.c lib/error.c
UT_SRCS_ring := lib/ring.c
UT_SRCS_vuart := hv/vuart.c

$(BUILD)/ut/lib_string_renamed.o: lib/string.c tests/unit/rename.h
	@mkdir -p $(dir $@)
	$(CC) $(UT_CFLAGS) -fno-builtin -include tests/unit/rename.h -c $< -o $@

# Every test also depends on every header: a changed contract rebuilds what uses it.
UT_HEADERS := $(wildcard include/*.h include/*/*.h hv/*.h tests/unit/*.h)

$(BUILD)/ut/test_%: tests/unit/test_%.c $$(UT_SRCS_$$*) $$(UT_EXTRA_$$*) $(UT_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(UT_CFLAGS) $(filter %.c %.o,$^) -o $@ $(UT_LIBS)

unit-test: $$(patsubst %,$(BUILD)/ut/test_%,$$(UNIT_TESTS))
	@set -e; for t in $^; do echo "== $$t"; $$t; done
UT_SRCS_paging := arch/x86_64/paging.c
UNIT_TESTS += vpit
UT_SRCS_vpit := hv/vpit.c
UNIT_TESTS += vpm
UT_SRCS_vpm := hv/vpm.c
UNIT_TESTS += vrtc
UT_SRCS_vrtc := hv/vrtc.c lib/calendar.c
UNIT_TESTS += vioapic
UT_SRCS_vioapic := hv/vioapic.c
UNIT_TESTS += vplatform
UT_SRCS_vplatform := hv/vplatform.c hv/vpit.c hv/vpm.c hv/vrtc.c hv/vioapic.c lib/calendar.c
UNIT_TESTS += loader_linux vacpi
UT_SRCS_loader_linux := hv/loader.c hv/loader_multiboot.c hv/loader_elf.c hv/loader_linux.c \
	hv/vacpi.c drivers/acpi.c lib/error.c lib/format.c
UT_SRCS_vacpi := hv/vacpi.c drivers/acpi.c lib/error.c lib/format.c
UNIT_TESTS += mb2info
UT_SRCS_mb2info := boot/multiboot2/mb2info.c hv/config.c lib/format.c lib/error.c
UNIT_TESTS += vlapic
UT_SRCS_vlapic := hv/vlapic.c
UNIT_TESTS += vmx
UT_SRCS_vmx := arch/x86_64/vmx/vmx_caps.c lib/format.c lib/error.c \
	arch/x86_64/vmx/vmx_caps.h arch/x86_64/vmx/vmcs.h
UNIT_TESTS += lifecycle
UT_SRCS_lifecycle := hv/lifecycle.c lib/format.c
UNIT_TESTS += json ledit shell_parse
UT_SRCS_json := lib/json.c lib/format.c
UT_SRCS_ledit := lib/ledit.c
UT_SRCS_shell_parse := hv/shell_parse.c lib/format.c lib/error.c
