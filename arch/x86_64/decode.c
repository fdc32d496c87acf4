/* Decoder for the few instructions a guest uses on emulated MMIO (see include/arch/decode.h).
 *
 * The bytes come from guest memory, so they are hostile input: every read is bounded by both
 * the bytes available and the architectural 15-byte limit, and anything outside the small
 * supported set is BH_ENOTSUP rather than a best guess. The memory operand's address is not
 * computed: the hypervisor already knows the guest-physical address from the fault, it only
 * needs the access size, the register or immediate, and the instruction length.
 *
 * Prefix rules, following the SDM (Vol. 2A, 2.1 and 2.2.1):
 *  - legacy prefixes (66, 67, 26/2E/36/3E/64/65, F0, F2/F3) may come in any order; repeats are
 *    harmless. Segment overrides only cost a byte here (the fault gives the address).
 *  - REX (40-4F) exists only in 64-bit mode (elsewhere 40-4F are INC/DEC, which we reject as
 *    unknown opcodes). A REX is effective only when it immediately precedes the opcode: one
 *    followed by a legacy prefix or by another REX is ignored, as the CPU ignores it, so it
 *    neither extends registers nor turns AH..BH into SPL..DIL.
 *  - F2/F3 change the meaning of these opcodes or are undefined on them: BH_ENOTSUP.
 *  - F0 (lock) is accepted on stores as the contract says; on loads it is BH_ENOTSUP.
 */
#include "types.h"
#include "lib/error.h"
#include "arch/decode.h"

#define REX_W 0x8 /* 64-bit operand size */
#define REX_R 0x4 /* extends ModRM.reg */

#define MODRM_MOD(m) ((unsigned int)(m) >> 6)
#define MODRM_REG(m) (((unsigned int)(m) >> 3) & 7)
#define MODRM_RM(m)  ((unsigned int)(m) & 7)
#define SIB_BASE(s)  ((unsigned int)(s) & 7)

/* A bounded reader over the instruction bytes. */
struct cursor {
	const u8 *bytes;
	size_t avail; /* min(n, INSN_MAX_LENGTH): needing more is truncation or an overlong insn */
	size_t pos;
};

struct prefixes {
	bool operand_size; /* 66 */
	bool address_size; /* 67 */
	bool lock;         /* F0 */
	bool rep;          /* F2 or F3 */
	bool has_rex;      /* an effective REX (even 40, which only changes byte registers) */
	u8 rex;
};

static int take_byte(struct cursor *c, u8 *byte)
{
	if (c->pos >= c->avail)
		return BH_EINVAL;
	*byte = c->bytes[c->pos++];
	return 0;
}

/* Reads a little-endian field of `size` bytes (1, 2, 4 or 8). */
static int take_le(struct cursor *c, unsigned int size, u64 *value)
{
	u64 v = 0;

	if (c->avail - c->pos < size)
		return BH_EINVAL;
	for (unsigned int i = 0; i < size; i++)
		v |= (u64)c->bytes[c->pos + i] << (8 * i);
	c->pos += size;
	*value = v;
	return 0;
}

static int skip_bytes(struct cursor *c, unsigned int size)
{
	u64 ignored;

	return take_le(c, size, &ignored);
}

/* Records a legacy prefix; false if `b` is not one. */
static bool apply_legacy_prefix(struct prefixes *p, u8 b)
{
	switch (b) {
	case 0x66: p->operand_size = true; break;
	case 0x67: p->address_size = true; break;
	case 0xF0: p->lock = true; break;
	case 0xF2: case 0xF3: p->rep = true; break;
	case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65: break;
	default: return false;
	}
	return true;
}

static bool is_rex(u8 b, enum cpu_mode_bits mode)
{
	return mode == CPU_MODE_64 && (b & 0xF0) == 0x40;
}

/* Consumes the prefixes and returns the first opcode byte. */
static int read_prefixes_and_opcode(struct cursor *c, enum cpu_mode_bits mode,
				    struct prefixes *p, u8 *opcode)
{
	for (;;) {
		u8 b;
		int err = take_byte(c, &b);

		if (err)
			return err;
		if (apply_legacy_prefix(p, b)) {
			p->has_rex = false; /* a REX not directly before the opcode is ignored */
			p->rex = 0;
		} else if (is_rex(b, mode)) {
			p->has_rex = true; /* a later REX replaces an earlier one */
			p->rex = b;
		} else {
			*opcode = b;
			return 0;
		}
	}
}

/* Operand size in bytes: the code segment's default, flipped by 66, and REX.W wins over 66. */
static u8 operand_size(enum cpu_mode_bits mode, const struct prefixes *p)
{
	bool default_16 = mode == CPU_MODE_16;

	if (p->rex & REX_W)
		return 8;
	return default_16 != p->operand_size ? 2 : 4;
}

/* Address size in bytes: 8 in long mode (4 with 67), else the default flipped by 67. */
static unsigned int address_size(enum cpu_mode_bits mode, const struct prefixes *p)
{
	if (mode == CPU_MODE_64)
		return p->address_size ? 4 : 8;
	return (mode == CPU_MODE_16) != p->address_size ? 2 : 4;
}

/* 16-bit addressing (SDM Vol. 2A, table 2-1): no SIB; mod 0 with rm 6 is a bare disp16. */
static unsigned int displacement_size_16(u8 modrm)
{
	switch (MODRM_MOD(modrm)) {
	case 0: return MODRM_RM(modrm) == 6 ? 2 : 0;
	case 1: return 1;
	default: return 2;
	}
}

/* 32/64-bit addressing (table 2-2): rm 4 brings a SIB; mod 0 with rm 5 is disp32 (RIP-relative
 * in 64-bit mode), mod 0 with SIB base 5 is disp32 with no base. REX.B does not change these
 * special cases, so only the low three bits are looked at. */
static int skip_sib_and_displacement_32(struct cursor *c, u8 modrm)
{
	unsigned int mod = MODRM_MOD(modrm);
	bool no_base = false;

	if (MODRM_RM(modrm) == 4) {
		u8 sib;
		int err = take_byte(c, &sib);

		if (err)
			return err;
		no_base = mod == 0 && SIB_BASE(sib) == 5;
	} else {
		no_base = mod == 0 && MODRM_RM(modrm) == 5;
	}
	if (mod == 1)
		return skip_bytes(c, 1);
	if (mod == 2 || no_base)
		return skip_bytes(c, 4);
	return 0;
}

/* Reads the ModRM byte and skips the memory operand's SIB and displacement. A register operand
 * (mod 3) is no MMIO access: BH_ENOTSUP. */
static int read_memory_modrm(struct cursor *c, unsigned int addr_size, u8 *modrm)
{
	int err = take_byte(c, modrm);

	if (err)
		return err;
	if (MODRM_MOD(*modrm) == 3)
		return BH_ENOTSUP;
	if (addr_size == 2)
		return skip_bytes(c, displacement_size_16(*modrm));
	return skip_sib_and_displacement_32(c, *modrm);
}

/* The full register named by ModRM.reg (with REX.R). */
static enum gpr full_register(const struct prefixes *p, u8 modrm)
{
	return (enum gpr)(MODRM_REG(modrm) | ((p->rex & REX_R) ? 8 : 0));
}

/* Byte registers: without REX, 4-7 are AH, CH, DH, BH (bits 8-15 of RAX..RBX); with any REX
 * they are SPL, BPL, SIL, DIL. */
static void set_byte_register(struct mmio_insn *out, const struct prefixes *p, u8 modrm)
{
	enum gpr reg = full_register(p, modrm);

	if (!p->has_rex && reg >= GPR_RSP && reg <= GPR_RDI) {
		out->reg = (enum gpr)(reg - GPR_RSP);
		out->high_byte = true;
	} else {
		out->reg = reg;
	}
}

/* mov 88/89/8A/8B: register to or from memory, byte or full size. */
static int decode_mov_modrm(struct cursor *c, enum cpu_mode_bits mode, const struct prefixes *p,
			    u8 opcode, struct mmio_insn *out)
{
	bool byte_op = opcode == 0x88 || opcode == 0x8A;
	u8 modrm;
	int err = read_memory_modrm(c, address_size(mode, p), &modrm);

	if (err)
		return err;
	out->op = (opcode == 0x8A || opcode == 0x8B) ? MMIO_LOAD : MMIO_STORE;
	out->size = byte_op ? 1 : operand_size(mode, p);
	if (byte_op)
		set_byte_register(out, p, modrm);
	else
		out->reg = full_register(p, modrm);
	if (out->op == MMIO_LOAD)
		out->dest_size = out->size;
	return 0;
}

/* mov C6 /0 ib and C7 /0 iw/id: immediate to memory. With REX.W the imm32 is sign-extended to
 * 64 bits; other ModRM.reg values are different instructions (or undefined). */
static int decode_mov_immediate(struct cursor *c, enum cpu_mode_bits mode,
				const struct prefixes *p, u8 opcode, struct mmio_insn *out)
{
	u8 modrm;
	u64 imm;
	int err = read_memory_modrm(c, address_size(mode, p), &modrm);

	if (err)
		return err;
	if (MODRM_REG(modrm) != 0)
		return BH_ENOTSUP;
	out->op = MMIO_STORE_IMM;
	out->size = opcode == 0xC6 ? 1 : operand_size(mode, p);
	err = take_le(c, out->size == 8 ? 4 : out->size, &imm);
	if (err)
		return err;
	if (out->size == 8 && (imm & 0x80000000ULL))
		imm |= 0xFFFFFFFF00000000ULL;
	out->imm = imm;
	return 0;
}

/* mov A0-A3: the accumulator to or from an absolute offset whose width is the address size. */
static int decode_mov_moffs(struct cursor *c, enum cpu_mode_bits mode, const struct prefixes *p,
			    u8 opcode, struct mmio_insn *out)
{
	bool byte_op = opcode == 0xA0 || opcode == 0xA2;
	int err = skip_bytes(c, address_size(mode, p));

	if (err)
		return err;
	out->op = opcode <= 0xA1 ? MMIO_LOAD : MMIO_STORE;
	out->size = byte_op ? 1 : operand_size(mode, p);
	out->reg = GPR_RAX; /* AL, AX, EAX or RAX; REX.B does not apply */
	if (out->op == MMIO_LOAD)
		out->dest_size = out->size;
	return 0;
}

/* movzx 0F B6/B7 and movsx 0F BE/BF: a byte or word load widened into a full register. */
static int decode_two_byte(struct cursor *c, enum cpu_mode_bits mode, const struct prefixes *p,
			   struct mmio_insn *out)
{
	u8 opcode, modrm;
	int err = take_byte(c, &opcode);

	if (err)
		return err;
	if (opcode != 0xB6 && opcode != 0xB7 && opcode != 0xBE && opcode != 0xBF)
		return BH_ENOTSUP;
	err = read_memory_modrm(c, address_size(mode, p), &modrm);
	if (err)
		return err;
	out->op = MMIO_LOAD;
	out->size = (opcode & 1) ? 2 : 1;
	out->dest_size = operand_size(mode, p);
	out->sign_extend = opcode >= 0xBE;
	out->reg = full_register(p, modrm);
	return 0;
}

static int decode_opcode(struct cursor *c, enum cpu_mode_bits mode, const struct prefixes *p,
			 u8 opcode, struct mmio_insn *out)
{
	switch (opcode) {
	case 0x88: case 0x89: case 0x8A: case 0x8B:
		return decode_mov_modrm(c, mode, p, opcode, out);
	case 0xC6: case 0xC7:
		return decode_mov_immediate(c, mode, p, opcode, out);
	case 0xA0: case 0xA1: case 0xA2: case 0xA3:
		return decode_mov_moffs(c, mode, p, opcode, out);
	case 0x0F:
		return decode_two_byte(c, mode, p, out);
	default:
		return BH_ENOTSUP;
	}
}

static bool valid_mode(enum cpu_mode_bits mode)
{
	return mode == CPU_MODE_16 || mode == CPU_MODE_32 || mode == CPU_MODE_64;
}

int decode_mmio_insn(const u8 *bytes, size_t n, enum cpu_mode_bits mode, struct mmio_insn *out)
{
	struct cursor c = { bytes, MIN(n, (size_t)INSN_MAX_LENGTH), 0 };
	struct prefixes p = { 0 };
	struct mmio_insn insn = { 0 };
	u8 opcode;
	int err;

	if (!bytes || !out || !valid_mode(mode))
		return BH_EINVAL;
	err = read_prefixes_and_opcode(&c, mode, &p, &opcode);
	if (err)
		return err;
	if (p.rep)
		return BH_ENOTSUP;
	err = decode_opcode(&c, mode, &p, opcode, &insn);
	if (err)
		return err;
	if (p.lock && insn.op == MMIO_LOAD)
		return BH_ENOTSUP;
	insn.length = (u8)c.pos;
	*out = insn;
	return 0;
}

static u64 low_bytes(u64 value, unsigned int size)
{
	return size >= 8 ? value : value & ((1ULL << (8 * size)) - 1);
}

/* Sign-extends the low `size` bytes of value to 64 bits (unsigned arithmetic, no UB). */
static u64 sign_extend_bytes(u64 value, unsigned int size)
{
	u64 sign;

	if (size == 0 || size >= 8)
		return size ? value : 0;
	sign = 1ULL << (8 * size - 1);
	return (low_bytes(value, size) ^ sign) - sign;
}

/* Writes `value` into the part of `old` that a `size`-byte destination covers. */
static u64 merge_register(u64 old, u64 value, unsigned int size, bool high_byte)
{
	switch (size) {
	case 1:
		if (high_byte)
			return (old & ~0xFF00ULL) | (low_bytes(value, 1) << 8);
		return (old & ~0xFFULL) | low_bytes(value, 1);
	case 2:
		return (old & ~0xFFFFULL) | low_bytes(value, 2);
	case 4:
		/* Long mode zero-extends 32-bit results; outside it the upper half does not exist,
		 * so zero-extending is right there too. */
		return low_bytes(value, 4);
	default:
		return value;
	}
}

u64 mmio_load_result(const struct mmio_insn *insn, u64 old_reg, u64 loaded, enum cpu_mode_bits mode)
{
	u64 value = insn->sign_extend ? sign_extend_bytes(loaded, insn->size)
				      : low_bytes(loaded, insn->size);

	(void)mode; /* the result is the same in every mode, see merge_register */
	return merge_register(old_reg, value, insn->dest_size, insn->high_byte);
}

u64 mmio_store_value(const struct mmio_insn *insn, u64 reg_value)
{
	u64 value = insn->op == MMIO_STORE_IMM ? insn->imm : reg_value;

	if (insn->op != MMIO_STORE_IMM && insn->high_byte)
		value >>= 8;
	return low_bytes(value, insn->size);
}
