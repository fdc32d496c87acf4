# Host tools. Included from the top-level Makefile; each appends its output to TOOLS.

HOSTCC ?= gcc
CHECK_CFLAGS := -std=c11 -Wall -Wextra -Werror -O2 -Iinclude
# The checker is built from the hypervisor's own parser and partition plan.
CHECK_SRCS := tools/bulkhead-check.c hv/config.c hv/plan.c lib/format.c lib/error.c
CHECK_HDRS := include/types.h include/hv/config.h include/hv/plan.h include/lib/format.h \
	include/lib/error.h include/lib/string.h

$(BUILD)/bulkhead-check: $(CHECK_SRCS) $(CHECK_HDRS) tools/tools.mk
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(HOSTCC) $(CHECK_CFLAGS) $(CHECK_SRCS) -o $@

TOOLS += $(BUILD)/bulkhead-check

# The console client (Python, standard library only), next to the other tools.
$(BUILD)/bulkhead-console: tools/bulkhead-console
	@mkdir -p $(dir $@)
	@echo "  INSTALL $@"
	@install -m 755 $< $@

TOOLS += $(BUILD)/bulkhead-console
