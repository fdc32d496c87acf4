/* Unit tests of hv/vioapic.c, the virtual 82093AA: registers as Linux's io_apic.c reads and
 * writes them, edge and level pins, remote IRR and EOI, Linux's way of clearing a stuck remote
 * IRR, special delivery modes, odd accesses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "types.h"
#include "hv/vioapic.h"

#define FIXED 0x000u
#define LOWEST 0x100u
#define NMI 0x400u
#define LOGICAL 0x800u
#define ACTIVE_LOW 0x2000u
#define LEVEL 0x8000u
#define MASKED 0x10000u
#define RIRR 0x4000u

/* Linux: io_apic_read() / io_apic_write(): index at offset 0, data at offset 0x10. */
static u32 io_read(struct vioapic *a, u32 reg)
{
	struct vioapic_msg m;

	assert_false(vioapic_mmio_write(a, VIOAPIC_IOREGSEL, 4, reg, &m));
	return (u32)vioapic_mmio_read(a, VIOAPIC_IOWIN, 4);
}

static bool io_write(struct vioapic *a, u32 reg, u32 value, struct vioapic_msg *m)
{
	struct vioapic_msg dummy;

	assert_false(vioapic_mmio_write(a, VIOAPIC_IOREGSEL, 4, reg, &dummy));
	return vioapic_mmio_write(a, VIOAPIC_IOWIN, 4, value, m);
}

/* ioapic_write_entry(): high dword first, then low. */
static bool write_entry(struct vioapic *a, u32 pin, u32 low, u8 dest, struct vioapic_msg *m)
{
	struct vioapic_msg dummy;

	assert_false(io_write(a, 0x11 + 2 * pin, (u32)dest << 24, &dummy));
	return io_write(a, 0x10 + 2 * pin, low, m);
}

static u64 read_entry(struct vioapic *a, u32 pin)
{
	return io_read(a, 0x10 + 2 * pin) | ((u64)io_read(a, 0x11 + 2 * pin) << 32);
}

static void check_msg(const struct vioapic_msg *m, u8 vector, u8 delivery, bool logical, u8 dest,
		      bool level, u8 pin)
{
	assert_int_equal(m->vector, vector);
	assert_int_equal(m->delivery, delivery);
	assert_int_equal(m->logical, logical);
	assert_int_equal(m->dest, dest);
	assert_int_equal(m->level, level);
	assert_int_equal(m->pin, pin);
}

/* ---- registers ------------------------------------------------------------------------ */

static void test_reset_state(void **state)
{
	struct vioapic a;

	(void)state;
	vioapic_init(&a, 2);
	assert_int_equal(io_read(&a, VIOAPIC_REG_ID), 0x02000000);
	assert_int_equal(io_read(&a, VIOAPIC_REG_VER), 0x00170011);
	assert_int_equal(io_read(&a, VIOAPIC_REG_ARB), 0x02000000);
	for (u32 pin = 0; pin < VIOAPIC_PINS; pin++) {
		assert_true(read_entry(&a, pin) == MASKED);
		assert_true(vioapic_pin_masked(&a, pin));
	}
	assert_true(vioapic_pin_masked(&a, 24));
	/* no register behind these indexes */
	assert_int_equal(io_read(&a, 0x03), 0);
	assert_int_equal(io_read(&a, 0x0f), 0);
	assert_int_equal(io_read(&a, 0x40), 0);
	assert_int_equal(io_read(&a, 0xff), 0);
	/* IOREGSEL reads back */
	assert_int_equal(vioapic_mmio_read(&a, VIOAPIC_IOREGSEL, 4), 0xff);
}

static void test_entry_round_trip_and_read_only_bits(void **state)
{
	struct vioapic a;
	struct vioapic_msg m;

	(void)state;
	vioapic_init(&a, 0);
	assert_false(write_entry(&a, 5, 0x31 | LOWEST | LOGICAL | ACTIVE_LOW | LEVEL | MASKED, 0xa5,
				 &m));
	assert_true(read_entry(&a, 5) ==
		    ((0xa5ull << 56) | 0x31 | LOWEST | LOGICAL | ACTIVE_LOW | LEVEL | MASKED));
	/* delivery status, remote IRR and the reserved bits cannot be written */
	assert_false(write_entry(&a, 6, 0xffffffffu, 0x01, &m));
	assert_true(read_entry(&a, 6) == ((1ull << 56) | 0x1afff));
	assert_false(io_write(&a, 0x11 + 2 * 6, 0xffffffffu, &m));
	assert_int_equal(io_read(&a, 0x11 + 2 * 6), 0xff000000u);
	/* the last entry */
	assert_false(write_entry(&a, 23, 0x99 | MASKED, 0x0f, &m));
	assert_true(read_entry(&a, 23) == ((0x0full << 56) | 0x99 | MASKED));
	/* version and arbitration are read-only; the ID keeps 4 bits */
	assert_false(io_write(&a, VIOAPIC_REG_VER, 0, &m));
	assert_int_equal(io_read(&a, VIOAPIC_REG_VER), 0x00170011);
	assert_false(io_write(&a, VIOAPIC_REG_ARB, 0, &m));
	assert_false(io_write(&a, VIOAPIC_REG_ID, 0xffffffffu, &m));
	assert_int_equal(io_read(&a, VIOAPIC_REG_ID), 0x0f000000);
	assert_int_equal(io_read(&a, VIOAPIC_REG_ARB), 0x0f000000);
	/* a restart: the initial ID, masked entries */
	vioapic_reset(&a);
	assert_int_equal(io_read(&a, VIOAPIC_REG_ID), 0);
	assert_true(read_entry(&a, 5) == MASKED);
}

/* ---- edge-triggered pins ---------------------------------------------------------------- */

static void test_edge_pin(void **state)
{
	struct vioapic a;
	struct vioapic_msg m;

	(void)state;
	vioapic_init(&a, 0);
	assert_false(write_entry(&a, 4, 0x24 | FIXED, 1, &m)); /* the vUART's IRQ 4 */
	assert_false(vioapic_pin_masked(&a, 4));
	assert_true(vioapic_set_irq(&a, 4, true, &m));
	check_msg(&m, 0x24, VIOAPIC_DM_FIXED, false, 1, false, 4);
	assert_false(vioapic_set_irq(&a, 4, true, &m)); /* no new edge */
	assert_false(vioapic_set_irq(&a, 4, false, &m));
	assert_true(vioapic_set_irq(&a, 4, true, &m));
	/* no remote IRR for edges, EOI changes nothing */
	assert_int_equal(read_entry(&a, 4) & RIRR, 0);
	struct vioapic_msg msgs[VIOAPIC_PINS];

	assert_int_equal(vioapic_eoi(&a, 0x24, msgs), 0);
	/* a pulse, as the PIT's IRQ 0 on pin 2 */
	assert_false(write_entry(&a, 2, 0x30 | LOWEST | LOGICAL, 0xff, &m));
	assert_true(vioapic_set_irq(&a, 2, true, &m));
	assert_false(vioapic_set_irq(&a, 2, false, &m));
	check_msg(&m, 0x30, VIOAPIC_DM_LOWEST, true, 0xff, false, 2);
}

static void test_edge_while_masked_is_lost(void **state)
{
	struct vioapic a;
	struct vioapic_msg m;

	(void)state;
	vioapic_init(&a, 0);
	assert_false(write_entry(&a, 8, 0x28 | MASKED, 0, &m));
	assert_false(vioapic_set_irq(&a, 8, true, &m));
	assert_false(write_entry(&a, 8, 0x28, 0, &m)); /* unmasked with the input high */
	assert_false(vioapic_set_irq(&a, 8, true, &m));
	assert_false(vioapic_set_irq(&a, 8, false, &m));
	assert_true(vioapic_set_irq(&a, 8, true, &m));
	check_msg(&m, 0x28, VIOAPIC_DM_FIXED, false, 0, false, 8);
}

/* ---- level-triggered pins --------------------------------------------------------------- */

static void test_level_pin_and_eoi(void **state)
{
	struct vioapic a;
	struct vioapic_msg m, msgs[VIOAPIC_PINS];

	(void)state;
	vioapic_init(&a, 0);
	assert_false(write_entry(&a, 9, 0x41 | LEVEL | ACTIVE_LOW, 3, &m)); /* the SCI */
	assert_true(vioapic_set_irq(&a, 9, true, &m));
	check_msg(&m, 0x41, VIOAPIC_DM_FIXED, false, 3, true, 9);
	assert_int_equal(read_entry(&a, 9) & RIRR, RIRR);
	assert_false(vioapic_set_irq(&a, 9, true, &m)); /* in service */
	/* EOI of another vector: nothing */
	assert_int_equal(vioapic_eoi(&a, 0x42, msgs), 0);
	assert_int_equal(read_entry(&a, 9) & RIRR, RIRR);
	/* EOI with the input still asserted: delivered again */
	assert_int_equal(vioapic_eoi(&a, 0x41, msgs), 1);
	check_msg(&msgs[0], 0x41, VIOAPIC_DM_FIXED, false, 3, true, 9);
	assert_int_equal(read_entry(&a, 9) & RIRR, RIRR);
	/* the handler quiets the device, then EOIs */
	assert_false(vioapic_set_irq(&a, 9, false, &m));
	assert_int_equal(vioapic_eoi(&a, 0x41, msgs), 0);
	assert_int_equal(read_entry(&a, 9) & RIRR, 0);
	assert_true(vioapic_set_irq(&a, 9, true, &m));
}

static void test_level_pin_unmask_delivers(void **state)
{
	struct vioapic a;
	struct vioapic_msg m;

	(void)state;
	vioapic_init(&a, 0);
	assert_false(write_entry(&a, 10, 0x51 | LEVEL | MASKED, 0, &m));
	assert_false(vioapic_set_irq(&a, 10, true, &m));
	assert_int_equal(read_entry(&a, 10) & RIRR, 0);
	/* unmasking with the input asserted delivers at once */
	assert_true(write_entry(&a, 10, 0x51 | LEVEL, 0, &m));
	check_msg(&m, 0x51, VIOAPIC_DM_FIXED, false, 0, true, 10);
	assert_int_equal(read_entry(&a, 10) & RIRR, RIRR);
	/* rewriting the entry while in service: no second delivery */
	assert_false(write_entry(&a, 10, 0x51 | LEVEL, 0, &m));
	/* masking keeps remote IRR; an EOI while masked clears it without delivering */
	assert_false(write_entry(&a, 10, 0x51 | LEVEL | MASKED, 0, &m));
	struct vioapic_msg msgs[VIOAPIC_PINS];

	assert_int_equal(vioapic_eoi(&a, 0x51, msgs), 0);
	assert_int_equal(read_entry(&a, 10) & RIRR, 0);
	/* a 16-bit write to the low half of the entry unmasks it too */
	assert_true(io_write(&a, 0x10 + 2 * 10, 0x51 | LEVEL | MASKED, &m) == false);
	assert_true(vioapic_mmio_write(&a, VIOAPIC_IOWIN + 2, 2, 0x0000, &m));
	check_msg(&m, 0x51, VIOAPIC_DM_FIXED, false, 0, true, 10);
}

/* Linux __eoi_ioapic_pin() for IOAPICs older than version 0x20 (no EOI register): mask, switch
 * to edge (which clears remote IRR), switch back to level, restore. */
static void test_linux_clears_remote_irr(void **state)
{
	struct vioapic a;
	struct vioapic_msg m;

	(void)state;
	vioapic_init(&a, 0);
	assert_false(write_entry(&a, 11, 0x61 | LEVEL, 0, &m));
	assert_true(vioapic_set_irq(&a, 11, true, &m));
	assert_false(vioapic_set_irq(&a, 11, false, &m));
	assert_int_equal(read_entry(&a, 11) & RIRR, RIRR);
	assert_false(io_write(&a, 0x10 + 2 * 11, 0x61 | LEVEL | MASKED, &m));
	assert_int_equal(read_entry(&a, 11) & RIRR, RIRR);
	assert_false(io_write(&a, 0x10 + 2 * 11, 0x61 | MASKED, &m));
	assert_int_equal(read_entry(&a, 11) & RIRR, 0);
	assert_false(io_write(&a, 0x10 + 2 * 11, 0x61 | LEVEL | MASKED, &m));
	assert_false(io_write(&a, 0x10 + 2 * 11, 0x61 | LEVEL, &m));
	assert_int_equal(read_entry(&a, 11) & RIRR, 0);
	assert_true(vioapic_set_irq(&a, 11, true, &m));
}

static void test_shared_vector(void **state)
{
	struct vioapic a;
	struct vioapic_msg m, msgs[VIOAPIC_PINS];

	(void)state;
	vioapic_init(&a, 0);
	assert_false(write_entry(&a, 16, 0x70 | LEVEL | ACTIVE_LOW, 0, &m));
	assert_false(write_entry(&a, 17, 0x70 | LEVEL | ACTIVE_LOW, 0, &m));
	assert_true(vioapic_set_irq(&a, 16, true, &m));
	assert_true(vioapic_set_irq(&a, 17, true, &m));
	assert_int_equal(vioapic_eoi(&a, 0x70, msgs), 2);
	assert_int_equal(msgs[0].pin, 16);
	assert_int_equal(msgs[1].pin, 17);
	assert_false(vioapic_set_irq(&a, 16, false, &m));
	assert_int_equal(vioapic_eoi(&a, 0x70, msgs), 1);
	assert_int_equal(msgs[0].pin, 17);
}

/* NMI, INIT, SMI and ExtINT are edge-triggered whatever the trigger bit says. */
static void test_special_delivery_modes(void **state)
{
	static const u32 modes[] = { VIOAPIC_DM_NMI, VIOAPIC_DM_INIT, VIOAPIC_DM_SMI,
				     VIOAPIC_DM_EXTINT };
	struct vioapic a;
	struct vioapic_msg m;

	(void)state;
	vioapic_init(&a, 0);
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		u32 pin = 12 + (u32)i;

		assert_false(write_entry(&a, pin, 0x80 | (modes[i] << 8) | LEVEL, 0, &m));
		assert_true(vioapic_set_irq(&a, pin, true, &m));
		check_msg(&m, 0x80, (u8)modes[i], false, 0, false, (u8)pin);
		assert_int_equal(read_entry(&a, pin) & RIRR, 0);
		assert_false(vioapic_set_irq(&a, pin, true, &m));
		assert_false(vioapic_set_irq(&a, pin, false, &m));
		assert_true(vioapic_set_irq(&a, pin, true, &m));
	}
}

static void test_bad_pins(void **state)
{
	struct vioapic a;
	struct vioapic_msg m;

	(void)state;
	vioapic_init(&a, 0);
	assert_false(vioapic_set_irq(&a, 24, true, &m));
	assert_false(vioapic_set_irq(&a, 0xffffffffu, true, &m));
	assert_int_equal(a.lines, 0);
}

/* ---- accesses --------------------------------------------------------------------------- */

static void test_odd_accesses(void **state)
{
	struct vioapic a;
	struct vioapic_msg m;

	(void)state;
	vioapic_init(&a, 1);
	/* byte write of IOREGSEL, byte reads of the window */
	assert_false(vioapic_mmio_write(&a, VIOAPIC_IOREGSEL, 1, VIOAPIC_REG_VER, &m));
	assert_int_equal(vioapic_mmio_read(&a, VIOAPIC_IOWIN, 1), 0x11);
	assert_int_equal(vioapic_mmio_read(&a, VIOAPIC_IOWIN + 2, 1), 0x17);
	assert_int_equal(vioapic_mmio_read(&a, VIOAPIC_IOWIN + 2, 2), 0x0017);
	assert_int_equal(vioapic_mmio_read(&a, VIOAPIC_IOWIN + 3, 1), 0x00);
	/* an 8-byte read of IOREGSEL: the next dword is nothing */
	assert_true(vioapic_mmio_read(&a, VIOAPIC_IOREGSEL, 8) == VIOAPIC_REG_VER);
	/* only the low byte of IOREGSEL is a register */
	assert_false(vioapic_mmio_write(&a, VIOAPIC_IOREGSEL, 4, 0xabcd0010u, &m));
	assert_int_equal(vioapic_mmio_read(&a, VIOAPIC_IOREGSEL, 4), 0x10);
	/* a byte write into the window changes one byte of the entry: the vector */
	assert_false(vioapic_mmio_write(&a, VIOAPIC_IOWIN, 1, 0x3c, &m));
	assert_true(read_entry(&a, 0) == (MASKED | 0x3c));
	/* unknown offsets: nothing there (no EOI register at 0x40 on version 0x11) */
	assert_false(vioapic_mmio_write(&a, 0x40, 4, 0x3c, &m));
	assert_false(vioapic_mmio_write(&a, 0x20, 4, 0x01, &m));
	assert_int_equal(vioapic_mmio_read(&a, 0x20, 4), 0);
	assert_int_equal(vioapic_mmio_read(&a, 0x40, 4), 0);
	assert_int_equal(vioapic_mmio_read(&a, 0xffc, 4), 0);
	assert_true(read_entry(&a, 0) == (MASKED | 0x3c));
	/* an 8-byte write at IOWIN writes the window and nothing else */
	assert_false(vioapic_mmio_write(&a, VIOAPIC_IOREGSEL, 4, 0x10, &m));
	assert_false(vioapic_mmio_write(&a, VIOAPIC_IOWIN, 8, 0xffffffff00000042ull | MASKED, &m));
	assert_true(read_entry(&a, 0) == (MASKED | 0x42));
}

static void test_reset_keeps_input_lines(void **state)
{
	struct vioapic a;
	struct vioapic_msg m;

	(void)state;
	vioapic_init(&a, 0);
	assert_false(vioapic_set_irq(&a, 9, true, &m)); /* masked */
	vioapic_reset(&a);
	assert_true(write_entry(&a, 9, 0x41 | LEVEL, 0, &m)); /* the line is still high */
	check_msg(&m, 0x41, VIOAPIC_DM_FIXED, false, 0, true, 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_entry_round_trip_and_read_only_bits),
		cmocka_unit_test(test_edge_pin),
		cmocka_unit_test(test_edge_while_masked_is_lost),
		cmocka_unit_test(test_level_pin_and_eoi),
		cmocka_unit_test(test_level_pin_unmask_delivers),
		cmocka_unit_test(test_linux_clears_remote_irr),
		cmocka_unit_test(test_shared_vector),
		cmocka_unit_test(test_special_delivery_modes),
		cmocka_unit_test(test_bad_pins),
		cmocka_unit_test(test_odd_accesses),
		cmocka_unit_test(test_reset_keeps_input_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
