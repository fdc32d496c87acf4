/* Decoder for the instructions a guest uses to touch emulated MMIO (the xAPIC page, device
 * registers). Needed where the CPU does not say what the instruction was: SVM without decode
 * assists (QEMU), and to learn the instruction length without next-RIP save. Pure: fed bytes,
 * never reads guest memory itself. Anything it does not fully understand is BH_ENOTSUP, which
 * the caller treats as a guest failure, never guessed. */
#ifndef BH_ARCH_DECODE_H
#define BH_ARCH_DECODE_H

#include "types.h"

#define INSN_MAX_LENGTH 15

enum cpu_mode_bits { CPU_MODE_16 = 16, CPU_MODE_32 = 32, CPU_MODE_64 = 64 };

/* General-purpose register numbers, in the encoding order of the ModRM reg field. */
enum gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_COUNT
};

enum mmio_op {
	MMIO_LOAD,        /* reg <- mem (mov, movzx, movsx) */
	MMIO_STORE,       /* mem <- reg */
	MMIO_STORE_IMM,   /* mem <- imm */
};

struct mmio_insn {
	u8 length;         /* bytes, including prefixes */
	enum mmio_op op;
	u8 size;           /* access size in bytes: 1, 2, 4 or 8 */
	enum gpr reg;      /* register operand (MMIO_LOAD / MMIO_STORE) */
	bool high_byte;    /* reg is AH/CH/DH/BH (8-bit access without REX) */
	u8 dest_size;      /* MMIO_LOAD: bytes written to reg (movzx/movsx widen; a 32-bit
			    * destination zero-extends to 64 in long mode, as the CPU does) */
	bool sign_extend;  /* movsx */
	u64 imm;           /* MMIO_STORE_IMM */
};

/* Decodes one instruction at the start of `bytes` (n of them available) executed in `mode`
 * (code-segment default size; CPU_MODE_64 for long mode). Supported: mov 88/89/8A/8B/C6/C7,
 * A0-A3 (moffs), movzx 0F B6/B7, movsx 0F BE/BF, with prefixes 66, 67, segment overrides, REX,
 * and F0 (lock) on stores. Returns 0, BH_EINVAL (truncated or malformed) or BH_ENOTSUP. */
int decode_mmio_insn(const u8 *bytes, size_t n, enum cpu_mode_bits mode, struct mmio_insn *out);

/* Applies a completed MMIO load to a register value the way the CPU would (partial writes keep
 * the upper bits, 32-bit writes zero-extend in 64-bit mode, movsx/movzx widen). */
u64 mmio_load_result(const struct mmio_insn *insn, u64 old_reg, u64 loaded, enum cpu_mode_bits mode);
/* The value a store writes, taken from the register (or imm), truncated to insn->size. */
u64 mmio_store_value(const struct mmio_insn *insn, u64 reg_value);

#endif
