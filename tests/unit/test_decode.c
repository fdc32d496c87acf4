/* Unit tests for arch/x86_64/decode.c, the MMIO instruction decoder.
 *
 * The encodings in the table below were checked with binutils, e.g.
 *   printf '\x8b\x04\x25\x00\x00\xe0\xfe' > insn.bin
 *   objdump -D -b binary -mi386:x86-64 -Mintel insn.bin        (64-bit mode)
 *   objdump -D -b binary -mi386 -Mintel insn.bin               (32-bit mode)
 *   objdump -D -b binary -mi386 -Maddr16,data16,intel insn.bin (16-bit mode)
 * and the text after each entry is what objdump prints for it (prefixes it shows separately
 * are kept, so the listing says where a REX was ignored). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "types.h"
#include "lib/error.h"
#include "arch/decode.h"

/* ---------------------------------------------------------------------------------------- */
/* helpers */

#define M16 CPU_MODE_16
#define M32 CPU_MODE_32
#define M64 CPU_MODE_64
#define LD  MMIO_LOAD
#define ST  MMIO_STORE
#define SI  MMIO_STORE_IMM

struct decode_case {
	enum cpu_mode_bits mode;
	const char *hex;      /* the instruction, exactly; its byte count is the expected length */
	enum mmio_op op;
	u8 size;
	enum gpr reg;
	bool high_byte;
	u8 dest_size;
	bool sign_extend;
	u64 imm;
	const char *objdump;  /* objdump -Mintel's reading, for the human */
};

/* Parses "8b 04 25" into bytes; returns the count. */
static size_t parse_hex(const char *hex, u8 *out, size_t max)
{
	size_t n = 0;

	while (*hex) {
		char digits[3] = { 0 };
		char *end;

		if (*hex == ' ') {
			hex++;
			continue;
		}
		assert_true(n < max);
		digits[0] = hex[0];
		digits[1] = hex[1];
		out[n++] = (u8)strtoul(digits, &end, 16);
		assert_true(end == digits + 2);
		hex += 2;
	}
	return n;
}

/* Decodes exactly `n` bytes from a heap buffer of that size, so that ASan catches any read
 * past the end. */
static int decode_exact(const u8 *bytes, size_t n, enum cpu_mode_bits mode, struct mmio_insn *out)
{
	u8 *copy = malloc(n ? n : 1);
	int err;

	assert_non_null(copy);
	memcpy(copy, bytes, n);
	err = decode_mmio_insn(copy, n, mode, out);
	free(copy);
	return err;
}

static int decode_hex(const char *hex, enum cpu_mode_bits mode, struct mmio_insn *out)
{
	u8 bytes[64];
	size_t n = parse_hex(hex, bytes, sizeof(bytes));

	return decode_exact(bytes, n, mode, out);
}

static void expect_insn(const struct decode_case *c, const struct mmio_insn *got, size_t length)
{
	if (got->length != length || got->op != c->op || got->size != c->size ||
	    got->reg != c->reg || got->high_byte != c->high_byte ||
	    got->dest_size != c->dest_size || got->sign_extend != c->sign_extend ||
	    got->imm != c->imm)
		fail_msg("%u-bit \"%s\" (%s): got length %u op %d size %u reg %d high %d dest %u "
			 "sx %d imm %#llx", c->mode, c->hex, c->objdump, got->length, got->op,
			 got->size, got->reg, got->high_byte, got->dest_size, got->sign_extend,
			 (unsigned long long)got->imm);
}

/* ---------------------------------------------------------------------------------------- */
/* the table of valid encodings */

static const struct decode_case cases[] = {
	/* 64-bit mode: plain forms and operand sizes */
	{ M64, "8b 00", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [rax]" },
	{ M64, "89 08", ST, 4, GPR_RCX, 0, 0, 0, 0, "mov DWORD PTR [rax],ecx" },
	{ M64, "88 10", ST, 1, GPR_RDX, 0, 0, 0, 0, "mov BYTE PTR [rax],dl" },
	{ M64, "8a 18", LD, 1, GPR_RBX, 0, 1, 0, 0, "mov bl,BYTE PTR [rax]" },
	{ M64, "48 8b 00", LD, 8, GPR_RAX, 0, 8, 0, 0, "mov rax,QWORD PTR [rax]" },
	{ M64, "48 89 08", ST, 8, GPR_RCX, 0, 0, 0, 0, "mov QWORD PTR [rax],rcx" },
	{ M64, "66 8b 00", LD, 2, GPR_RAX, 0, 2, 0, 0, "mov ax,WORD PTR [rax]" },
	{ M64, "66 89 30", ST, 2, GPR_RSI, 0, 0, 0, 0, "mov WORD PTR [rax],si" },
	{ M64, "66 48 8b 00", LD, 8, GPR_RAX, 0, 8, 0, 0, "data16 mov rax,QWORD PTR [rax]" },
	{ M64, "67 8b 00", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [eax]" },
	{ M64, "67 48 89 00", ST, 8, GPR_RAX, 0, 0, 0, 0, "mov QWORD PTR [eax],rax" },
	/* REX.R / REX.B / REX.X */
	{ M64, "4c 8b 00", LD, 8, GPR_R8, 0, 8, 0, 0, "mov r8,QWORD PTR [rax]" },
	{ M64, "44 8b 38", LD, 4, GPR_R15, 0, 4, 0, 0, "mov r15d,DWORD PTR [rax]" },
	{ M64, "44 89 58 08", ST, 4, GPR_R11, 0, 0, 0, 0, "mov DWORD PTR [rax+0x8],r11d" },
	{ M64, "41 8b 00", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [r8]" },
	{ M64, "45 8b 00", LD, 4, GPR_R8, 0, 4, 0, 0, "mov r8d,DWORD PTR [r8]" },
	{ M64, "46 8b 04 08", LD, 4, GPR_R8, 0, 4, 0, 0, "mov r8d,DWORD PTR [rax+r9*1]" },
	{ M64, "66 44 89 28", ST, 2, GPR_R13, 0, 0, 0, 0, "mov WORD PTR [rax],r13w" },
	/* SIB, displacements, RIP-relative */
	{ M64, "8b 04 24", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [rsp]" },
	{ M64, "8b 44 24 08", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [rsp+0x8]" },
	{ M64, "8b 84 24 00 01 00 00", LD, 4, GPR_RAX, 0, 4, 0, 0,
	  "mov eax,DWORD PTR [rsp+0x100]" },
	{ M64, "8b 04 25 00 00 e0 fe", LD, 4, GPR_RAX, 0, 4, 0, 0,
	  "mov eax,DWORD PTR ds:0xfffffffffee00000" },
	{ M64, "8b 05 78 56 34 12", LD, 4, GPR_RAX, 0, 4, 0, 0,
	  "mov eax,DWORD PTR [rip+0x12345678]" },
	{ M64, "67 8b 05 78 56 34 12", LD, 4, GPR_RAX, 0, 4, 0, 0,
	  "mov eax,DWORD PTR [eip+0x12345678]" },
	{ M64, "8b 40 10", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [rax+0x10]" },
	{ M64, "8b 80 00 03 00 00", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [rax+0x300]" },
	{ M64, "41 8b 45 00", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [r13+0x0]" },
	{ M64, "41 8b 04 24", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [r12]" },
	{ M64, "43 8b 04 2c", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [r12+r13*1]" },
	{ M64, "42 8b 04 2d 00 10 00 00", LD, 4, GPR_RAX, 0, 4, 0, 0,
	  "mov eax,DWORD PTR [r13*1+0x1000]" },
	{ M64, "41 8b 04 25 00 10 00 00", LD, 4, GPR_RAX, 0, 4, 0, 0,
	  "mov eax,DWORD PTR ds:0x1000" },
	{ M64, "8b 44 8d f0", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [rbp+rcx*4-0x10]" },
	{ M64, "8b 0c cd 00 00 00 00", LD, 4, GPR_RCX, 0, 4, 0, 0,
	  "mov ecx,DWORD PTR [rcx*8+0x0]" },
	{ M64, "48 89 94 c8 80 00 00 00", ST, 8, GPR_RDX, 0, 0, 0, 0,
	  "mov QWORD PTR [rax+rcx*8+0x80],rdx" },
	/* byte registers: AH..BH without REX, SPL..DIL and R8B.. with one */
	{ M64, "88 20", ST, 1, GPR_RAX, 1, 0, 0, 0, "mov BYTE PTR [rax],ah" },
	{ M64, "88 28", ST, 1, GPR_RCX, 1, 0, 0, 0, "mov BYTE PTR [rax],ch" },
	{ M64, "88 30", ST, 1, GPR_RDX, 1, 0, 0, 0, "mov BYTE PTR [rax],dh" },
	{ M64, "88 38", ST, 1, GPR_RBX, 1, 0, 0, 0, "mov BYTE PTR [rax],bh" },
	{ M64, "8a 20", LD, 1, GPR_RAX, 1, 1, 0, 0, "mov ah,BYTE PTR [rax]" },
	{ M64, "8a 3c 24", LD, 1, GPR_RBX, 1, 1, 0, 0, "mov bh,BYTE PTR [rsp]" },
	{ M64, "40 88 20", ST, 1, GPR_RSP, 0, 0, 0, 0, "mov BYTE PTR [rax],spl" },
	{ M64, "40 8a 38", LD, 1, GPR_RDI, 0, 1, 0, 0, "mov dil,BYTE PTR [rax]" },
	{ M64, "41 88 20", ST, 1, GPR_RSP, 0, 0, 0, 0, "mov BYTE PTR [r8],spl" },
	{ M64, "44 88 00", ST, 1, GPR_R8, 0, 0, 0, 0, "mov BYTE PTR [rax],r8b" },
	{ M64, "44 8a 38", LD, 1, GPR_R15, 0, 1, 0, 0, "mov r15b,BYTE PTR [rax]" },
	{ M64, "66 88 20", ST, 1, GPR_RAX, 1, 0, 0, 0, "data16 mov BYTE PTR [rax],ah" },
	/* a REX not directly before the opcode is ignored; of two REX, the last one counts */
	{ M64, "40 66 88 20", ST, 1, GPR_RAX, 1, 0, 0, 0, "rex data16 mov BYTE PTR [rax],ah" },
	{ M64, "48 66 8b 00", LD, 2, GPR_RAX, 0, 2, 0, 0, "rex.W mov ax,WORD PTR [rax]" },
	{ M64, "4c 2e 8b 00", LD, 4, GPR_RAX, 0, 4, 0, 0, "rex.WR cs mov eax,DWORD PTR [rax]" },
	{ M64, "41 48 8b 00", LD, 8, GPR_RAX, 0, 8, 0, 0, "rex.B mov rax,QWORD PTR [rax]" },
	{ M64, "48 41 8b 00", LD, 4, GPR_RAX, 0, 4, 0, 0, "rex.W mov eax,DWORD PTR [r8]" },
	/* moffs: the offset is as wide as the address size */
	{ M64, "a1 00 00 e0 fe 00 00 00 00", LD, 4, GPR_RAX, 0, 4, 0, 0,
	  "movabs eax,ds:0xfee00000" },
	{ M64, "a0 00 00 e0 fe 00 00 00 00", LD, 1, GPR_RAX, 0, 1, 0, 0,
	  "movabs al,ds:0xfee00000" },
	{ M64, "a2 00 00 e0 fe 00 00 00 00", ST, 1, GPR_RAX, 0, 0, 0, 0,
	  "movabs ds:0xfee00000,al" },
	{ M64, "a3 00 00 e0 fe 00 00 00 00", ST, 4, GPR_RAX, 0, 0, 0, 0,
	  "movabs ds:0xfee00000,eax" },
	{ M64, "48 a1 00 00 e0 fe 00 00 00 00", LD, 8, GPR_RAX, 0, 8, 0, 0,
	  "movabs rax,ds:0xfee00000" },
	{ M64, "66 a3 00 00 e0 fe 00 00 00 00", ST, 2, GPR_RAX, 0, 0, 0, 0,
	  "movabs ds:0xfee00000,ax" },
	{ M64, "67 a1 00 00 e0 fe", LD, 4, GPR_RAX, 0, 4, 0, 0, "addr32 mov eax,ds:0xfee00000" },
	{ M64, "67 48 a3 00 00 e0 fe", ST, 8, GPR_RAX, 0, 0, 0, 0, "addr32 mov ds:0xfee00000,rax" },
	{ M64, "41 a0 00 00 e0 fe 00 00 00 00", LD, 1, GPR_RAX, 0, 1, 0, 0,
	  "rex.B movabs al,ds:0xfee00000" },
	{ M64, "65 48 8b 04 25 28 00 00 00", LD, 8, GPR_RAX, 0, 8, 0, 0,
	  "mov rax,QWORD PTR gs:0x28" },
	/* immediates; C7 with REX.W sign-extends its imm32 */
	{ M64, "c6 00 ab", SI, 1, GPR_RAX, 0, 0, 0, 0xab, "mov BYTE PTR [rax],0xab" },
	{ M64, "c7 00 78 56 34 12", SI, 4, GPR_RAX, 0, 0, 0, 0x12345678,
	  "mov DWORD PTR [rax],0x12345678" },
	{ M64, "c7 00 00 00 00 80", SI, 4, GPR_RAX, 0, 0, 0, 0x80000000,
	  "mov DWORD PTR [rax],0x80000000" },
	{ M64, "66 c7 00 34 12", SI, 2, GPR_RAX, 0, 0, 0, 0x1234, "mov WORD PTR [rax],0x1234" },
	{ M64, "48 c7 00 ff ff ff ff", SI, 8, GPR_RAX, 0, 0, 0, 0xffffffffffffffffULL,
	  "mov QWORD PTR [rax],0xffffffffffffffff" },
	{ M64, "48 c7 00 00 00 00 80", SI, 8, GPR_RAX, 0, 0, 0, 0xffffffff80000000ULL,
	  "mov QWORD PTR [rax],0xffffffff80000000" },
	{ M64, "48 c7 00 ff ff ff 7f", SI, 8, GPR_RAX, 0, 0, 0, 0x7fffffff,
	  "mov QWORD PTR [rax],0x7fffffff" },
	{ M64, "66 48 c7 00 78 56 34 12", SI, 8, GPR_RAX, 0, 0, 0, 0x12345678,
	  "data16 mov QWORD PTR [rax],0x12345678" },
	{ M64, "49 c7 00 fe ff ff ff", SI, 8, GPR_RAX, 0, 0, 0, 0xfffffffffffffffeULL,
	  "mov QWORD PTR [r8],0xfffffffffffffffe" },
	{ M64, "c7 05 10 00 00 00 01 00 00 00", SI, 4, GPR_RAX, 0, 0, 0, 1,
	  "mov DWORD PTR [rip+0x10],0x1" },
	{ M64, "c7 84 24 00 01 00 00 78 56 34 12", SI, 4, GPR_RAX, 0, 0, 0, 0x12345678,
	  "mov DWORD PTR [rsp+0x100],0x12345678" },
	{ M64, "c6 44 24 08 01", SI, 1, GPR_RAX, 0, 0, 0, 1, "mov BYTE PTR [rsp+0x8],0x1" },
	{ M64, "66 c7 44 24 f8 ff 7f", SI, 2, GPR_RAX, 0, 0, 0, 0x7fff,
	  "mov WORD PTR [rsp-0x8],0x7fff" },
	/* every legacy prefix, alone and combined, in any order */
	{ M64, "26 89 00", ST, 4, GPR_RAX, 0, 0, 0, 0, "es mov DWORD PTR [rax],eax" },
	{ M64, "2e 89 00", ST, 4, GPR_RAX, 0, 0, 0, 0, "cs mov DWORD PTR [rax],eax" },
	{ M64, "36 89 00", ST, 4, GPR_RAX, 0, 0, 0, 0, "ss mov DWORD PTR [rax],eax" },
	{ M64, "3e 89 00", ST, 4, GPR_RAX, 0, 0, 0, 0, "ds mov DWORD PTR [rax],eax" },
	{ M64, "64 89 00", ST, 4, GPR_RAX, 0, 0, 0, 0, "mov DWORD PTR fs:[rax],eax" },
	{ M64, "65 89 00", ST, 4, GPR_RAX, 0, 0, 0, 0, "mov DWORD PTR gs:[rax],eax" },
	{ M64, "f0 89 00", ST, 4, GPR_RAX, 0, 0, 0, 0, "lock mov DWORD PTR [rax],eax" },
	{ M64, "f0 c6 00 01", SI, 1, GPR_RAX, 0, 0, 0, 1, "lock mov BYTE PTR [rax],0x1" },
	{ M64, "f0 a3 00 00 e0 fe 00 00 00 00", ST, 4, GPR_RAX, 0, 0, 0, 0,
	  "lock movabs ds:0xfee00000,eax" },
	{ M64, "66 67 89 00", ST, 2, GPR_RAX, 0, 0, 0, 0, "mov WORD PTR [eax],ax" },
	{ M64, "67 66 89 00", ST, 2, GPR_RAX, 0, 0, 0, 0, "mov WORD PTR [eax],ax" },
	{ M64, "2e 67 66 f0 48 89 00", ST, 8, GPR_RAX, 0, 0, 0, 0,
	  "cs data16 lock mov QWORD PTR [eax],rax" },
	{ M64, "f0 66 65 67 44 89 08", ST, 2, GPR_R9, 0, 0, 0, 0,
	  "lock mov WORD PTR gs:[eax],r9w" },
	{ M64, "66 66 66 8b 00", LD, 2, GPR_RAX, 0, 2, 0, 0, "data16 data16 mov ax,WORD PTR [rax]" },
	/* exactly 15 bytes */
	{ M64, "64 67 f0 48 c7 84 24 00 01 00 00 78 56 34 12", SI, 8, GPR_RAX, 0, 0, 0,
	  0x12345678, "lock mov QWORD PTR fs:[esp+0x100],0x12345678" },
	{ M64, "2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 8b 00", LD, 4, GPR_RAX, 0, 4, 0, 0,
	  "cs cs cs cs cs cs cs cs cs cs cs cs cs mov eax,DWORD PTR [rax]" },
	/* movzx / movsx to 16, 32 and 64 bits */
	{ M64, "0f b6 00", LD, 1, GPR_RAX, 0, 4, 0, 0, "movzx eax,BYTE PTR [rax]" },
	{ M64, "66 0f b6 00", LD, 1, GPR_RAX, 0, 2, 0, 0, "movzx ax,BYTE PTR [rax]" },
	{ M64, "48 0f b6 00", LD, 1, GPR_RAX, 0, 8, 0, 0, "movzx rax,BYTE PTR [rax]" },
	{ M64, "0f b7 00", LD, 2, GPR_RAX, 0, 4, 0, 0, "movzx eax,WORD PTR [rax]" },
	{ M64, "66 0f b7 00", LD, 2, GPR_RAX, 0, 2, 0, 0, "movzx ax,WORD PTR [rax]" },
	{ M64, "48 0f b7 00", LD, 2, GPR_RAX, 0, 8, 0, 0, "movzx rax,WORD PTR [rax]" },
	{ M64, "0f be 00", LD, 1, GPR_RAX, 0, 4, 1, 0, "movsx eax,BYTE PTR [rax]" },
	{ M64, "66 0f be 00", LD, 1, GPR_RAX, 0, 2, 1, 0, "movsx ax,BYTE PTR [rax]" },
	{ M64, "48 0f be 00", LD, 1, GPR_RAX, 0, 8, 1, 0, "movsx rax,BYTE PTR [rax]" },
	{ M64, "0f bf 00", LD, 2, GPR_RAX, 0, 4, 1, 0, "movsx eax,WORD PTR [rax]" },
	{ M64, "48 0f bf 00", LD, 2, GPR_RAX, 0, 8, 1, 0, "movsx rax,WORD PTR [rax]" },
	{ M64, "0f b6 20", LD, 1, GPR_RSP, 0, 4, 0, 0, "movzx esp,BYTE PTR [rax]" },
	{ M64, "44 0f b6 20", LD, 1, GPR_R12, 0, 4, 0, 0, "movzx r12d,BYTE PTR [rax]" },
	{ M64, "4c 0f bf 7c 24 08", LD, 2, GPR_R15, 0, 8, 1, 0, "movsx r15,WORD PTR [rsp+0x8]" },
	{ M64, "0f b7 05 00 01 00 00", LD, 2, GPR_RAX, 0, 4, 0, 0,
	  "movzx eax,WORD PTR [rip+0x100]" },

	/* 32-bit mode */
	{ M32, "8b 00", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [eax]" },
	{ M32, "66 8b 00", LD, 2, GPR_RAX, 0, 2, 0, 0, "mov ax,WORD PTR [eax]" },
	{ M32, "89 1d 00 00 e0 fe", ST, 4, GPR_RBX, 0, 0, 0, 0, "mov DWORD PTR ds:0xfee00000,ebx" },
	{ M32, "8b 04 24", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [esp]" },
	{ M32, "8b 04 25 00 00 e0 fe", LD, 4, GPR_RAX, 0, 4, 0, 0,
	  "mov eax,DWORD PTR [eiz*1-0x1200000]" },
	{ M32, "8b 44 8d f0", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [ebp+ecx*4-0x10]" },
	{ M32, "8b 83 00 03 00 00", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [ebx+0x300]" },
	{ M32, "67 8b 00", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [bx+si]" },
	{ M32, "67 8b 06 34 12", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR ds:0x1234" },
	{ M32, "67 8b 47 10", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [bx+0x10]" },
	{ M32, "67 8b 87 34 12", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [bx+0x1234]" },
	{ M32, "a1 00 00 e0 fe", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,ds:0xfee00000" },
	{ M32, "67 a1 34 12", LD, 4, GPR_RAX, 0, 4, 0, 0, "addr16 mov eax,ds:0x1234" },
	{ M32, "66 a3 00 00 e0 fe", ST, 2, GPR_RAX, 0, 0, 0, 0, "mov ds:0xfee00000,ax" },
	{ M32, "a2 00 00 e0 fe", ST, 1, GPR_RAX, 0, 0, 0, 0, "mov ds:0xfee00000,al" },
	{ M32, "88 20", ST, 1, GPR_RAX, 1, 0, 0, 0, "mov BYTE PTR [eax],ah" },
	{ M32, "8a 3b", LD, 1, GPR_RBX, 1, 1, 0, 0, "mov bh,BYTE PTR [ebx]" },
	{ M32, "c7 00 78 56 34 12", SI, 4, GPR_RAX, 0, 0, 0, 0x12345678,
	  "mov DWORD PTR [eax],0x12345678" },
	{ M32, "66 c7 00 34 12", SI, 2, GPR_RAX, 0, 0, 0, 0x1234, "mov WORD PTR [eax],0x1234" },
	{ M32, "0f b7 00", LD, 2, GPR_RAX, 0, 4, 0, 0, "movzx eax,WORD PTR [eax]" },
	{ M32, "66 0f be 00", LD, 1, GPR_RAX, 0, 2, 1, 0, "movsx ax,BYTE PTR [eax]" },
	{ M32, "64 f0 67 66 89 07", ST, 2, GPR_RAX, 0, 0, 0, 0, "lock mov WORD PTR fs:[bx],ax" },

	/* 16-bit mode */
	{ M16, "8b 00", LD, 2, GPR_RAX, 0, 2, 0, 0, "mov ax,WORD PTR [bx+si]" },
	{ M16, "66 8b 00", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [bx+si]" },
	{ M16, "8b 06 34 12", LD, 2, GPR_RAX, 0, 2, 0, 0, "mov ax,WORD PTR ds:0x1234" },
	{ M16, "8b 46 00", LD, 2, GPR_RAX, 0, 2, 0, 0, "mov ax,WORD PTR [bp+0x0]" },
	{ M16, "8b 87 34 12", LD, 2, GPR_RAX, 0, 2, 0, 0, "mov ax,WORD PTR [bx+0x1234]" },
	{ M16, "89 0c", ST, 2, GPR_RCX, 0, 0, 0, 0, "mov WORD PTR [si],cx" },
	{ M16, "89 94 fe ff", ST, 2, GPR_RDX, 0, 0, 0, 0, "mov WORD PTR [si-0x2],dx" },
	{ M16, "67 8b 00", LD, 2, GPR_RAX, 0, 2, 0, 0, "mov ax,WORD PTR [eax]" },
	{ M16, "67 8b 04 24", LD, 2, GPR_RAX, 0, 2, 0, 0, "mov ax,WORD PTR [esp]" },
	{ M16, "67 8b 05 78 56 34 12", LD, 2, GPR_RAX, 0, 2, 0, 0,
	  "addr32 mov ax,WORD PTR ds:0x12345678" },
	{ M16, "67 66 8b 44 24 04", LD, 4, GPR_RAX, 0, 4, 0, 0, "mov eax,DWORD PTR [esp+0x4]" },
	{ M16, "a1 34 12", LD, 2, GPR_RAX, 0, 2, 0, 0, "mov ax,ds:0x1234" },
	{ M16, "67 a1 00 00 e0 fe", LD, 2, GPR_RAX, 0, 2, 0, 0, "addr32 mov ax,ds:0xfee00000" },
	{ M16, "66 67 a3 00 00 e0 fe", ST, 4, GPR_RAX, 0, 0, 0, 0, "addr32 mov ds:0xfee00000,eax" },
	{ M16, "c7 06 34 12 cd ab", SI, 2, GPR_RAX, 0, 0, 0, 0xabcd,
	  "mov WORD PTR ds:0x1234,0xabcd" },
	{ M16, "66 c7 06 34 12 78 56 34 12", SI, 4, GPR_RAX, 0, 0, 0, 0x12345678,
	  "mov DWORD PTR ds:0x1234,0x12345678" },
	{ M16, "c6 47 05 ff", SI, 1, GPR_RAX, 0, 0, 0, 0xff, "mov BYTE PTR [bx+0x5],0xff" },
	{ M16, "0f b6 07", LD, 1, GPR_RAX, 0, 2, 0, 0, "movzx ax,BYTE PTR [bx]" },
	{ M16, "66 0f bf 07", LD, 2, GPR_RAX, 0, 4, 1, 0, "movsx eax,WORD PTR [bx]" },
	{ M16, "88 27", ST, 1, GPR_RAX, 1, 0, 0, 0, "mov BYTE PTR [bx],ah" },
	{ M16, "26 8b 07", LD, 2, GPR_RAX, 0, 2, 0, 0, "mov ax,WORD PTR es:[bx]" },
};

static void test_valid_encodings(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct decode_case *c = &cases[i];
		struct mmio_insn got;
		u8 bytes[32];
		size_t n = parse_hex(c->hex, bytes, sizeof(bytes));
		int err;

		assert_true(n <= INSN_MAX_LENGTH);
		memset(&got, 0xA5, sizeof(got));
		err = decode_exact(bytes, n, c->mode, &got);
		if (err)
			fail_msg("%u-bit \"%s\" (%s): %s", c->mode, c->hex, c->objdump,
				 bh_strerror(err));
		expect_insn(c, &got, n);
	}
}

/* Bytes after the instruction (the next instruction, or junk) change nothing. */
static void test_trailing_bytes_ignored(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct decode_case *c = &cases[i];
		struct mmio_insn got;
		u8 bytes[32];
		size_t n = parse_hex(c->hex, bytes, sizeof(bytes));

		for (size_t fill = 0; fill < 2; fill++) {
			memset(bytes + n, fill ? 0x66 : 0x0f, sizeof(bytes) - n);
			assert_int_equal(decode_exact(bytes, sizeof(bytes), c->mode, &got), 0);
			expect_insn(c, &got, n);
		}
	}
}

/* Every proper prefix of every valid encoding is truncated input; `out` stays untouched. */
static void test_truncation(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct decode_case *c = &cases[i];
		u8 bytes[32];
		size_t n = parse_hex(c->hex, bytes, sizeof(bytes));

		for (size_t k = 0; k < n; k++) {
			struct mmio_insn got, before;
			int err;

			memset(&got, 0xA5, sizeof(got));
			before = got;
			err = decode_exact(bytes, k, c->mode, &got);
			if (err != BH_EINVAL)
				fail_msg("%u-bit \"%s\" cut to %zu bytes: %s", c->mode, c->hex, k,
					 bh_strerror(err));
			assert_memory_equal(&got, &before, sizeof(got));
		}
	}
}

/* ---------------------------------------------------------------------------------------- */
/* rejects */

struct reject_case {
	enum cpu_mode_bits mode;
	const char *hex;
	int err;
	const char *why;
};

static const struct reject_case rejects[] = {
	/* register-direct ModRM: no memory operand */
	{ M64, "8b c0", BH_ENOTSUP, "mov eax,eax" },
	{ M64, "89 c8", BH_ENOTSUP, "mov eax,ecx" },
	{ M64, "88 e0", BH_ENOTSUP, "mov al,ah" },
	{ M64, "8a c4", BH_ENOTSUP, "mov al,ah" },
	{ M64, "48 8b c0", BH_ENOTSUP, "mov rax,rax" },
	{ M64, "c6 c0 01", BH_ENOTSUP, "mov al,0x1" },
	{ M64, "c7 c0 01 00 00 00", BH_ENOTSUP, "mov eax,0x1" },
	{ M64, "0f b6 c0", BH_ENOTSUP, "movzx eax,al" },
	{ M64, "0f bf c8", BH_ENOTSUP, "movsx ecx,ax" },
	{ M32, "8b c0", BH_ENOTSUP, "mov eax,eax" },
	{ M16, "8b c0", BH_ENOTSUP, "mov ax,ax" },
	{ M64, "c7 f8 00 00 00 00", BH_ENOTSUP, "xbegin" },
	/* F2 / F3 */
	{ M64, "f3 89 00", BH_ENOTSUP, "xrelease mov (HLE hint)" },
	{ M64, "f2 8b 00", BH_ENOTSUP, "repne mov" },
	{ M64, "f3 48 89 00", BH_ENOTSUP, "rep mov with REX" },
	{ M64, "66 f3 89 00", BH_ENOTSUP, "rep after 66" },
	{ M64, "f3 0f b6 00", BH_ENOTSUP, "rep movzx" },
	{ M64, "f2 c7 00 01 00 00 00", BH_ENOTSUP, "repnz mov imm" },
	{ M64, "f3 a1 00 00 e0 fe 00 00 00 00", BH_ENOTSUP, "rep mov moffs" },
	{ M64, "f3 0f b8 00", BH_ENOTSUP, "popcnt" },
	{ M32, "f3 8b 00", BH_ENOTSUP, "rep mov" },
	/* lock on a load: not in the contract */
	{ M64, "f0 8b 00", BH_ENOTSUP, "lock mov load" },
	{ M64, "f0 0f b6 00", BH_ENOTSUP, "lock movzx" },
	{ M64, "f0 a1 00 00 e0 fe 00 00 00 00", BH_ENOTSUP, "lock mov moffs load" },
	/* other opcodes */
	{ M64, "90", BH_ENOTSUP, "nop" },
	{ M64, "01 00", BH_ENOTSUP, "add" },
	{ M64, "ff 00", BH_ENOTSUP, "inc" },
	{ M64, "8d 00", BH_ENOTSUP, "lea" },
	{ M64, "86 00", BH_ENOTSUP, "xchg" },
	{ M64, "87 00", BH_ENOTSUP, "xchg" },
	{ M64, "a4", BH_ENOTSUP, "movsb" },
	{ M64, "a5", BH_ENOTSUP, "movsd" },
	{ M64, "ab", BH_ENOTSUP, "stosd" },
	{ M64, "8c 00", BH_ENOTSUP, "mov from sreg" },
	{ M64, "8e 00", BH_ENOTSUP, "mov to sreg" },
	{ M64, "c6 08 01", BH_ENOTSUP, "C6 /1" },
	{ M64, "c7 38 01 00 00 00", BH_ENOTSUP, "C7 /7" },
	{ M64, "0f 05", BH_ENOTSUP, "syscall" },
	{ M64, "0f b8 00", BH_ENOTSUP, "0F B8 without F3" },
	{ M64, "0f 10 00", BH_ENOTSUP, "movups" },
	{ M64, "0f c3 00", BH_ENOTSUP, "movnti" },
	{ M64, "c5 f9 6f 00", BH_ENOTSUP, "VEX vmovdqa" },
	{ M64, "62 f1 7d 48 6f 00", BH_ENOTSUP, "EVEX vmovdqa32" },
	{ M64, "0f 38 f0 00", BH_ENOTSUP, "movbe" },
	{ M32, "40 8b 00", BH_ENOTSUP, "inc eax: no REX outside 64-bit mode" },
	{ M16, "48 8b 00", BH_ENOTSUP, "dec ax: no REX outside 64-bit mode" },
	{ M32, "a6", BH_ENOTSUP, "cmpsb" },
	/* too long: more than 15 bytes */
	{ M64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66", BH_EINVAL, "16 prefixes" },
	{ M64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 8b 00", BH_EINVAL,
	  "16 prefixes and a mov" },
	{ M64, "2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 8b 00", BH_EINVAL, "16 bytes" },
	{ M64, "40 40 40 40 40 40 40 40 40 40 40 40 40 40 40 8b 00", BH_EINVAL, "15 REX" },
	{ M64, "26 2e 36 3e 64 65 66 67 f0 48 c7 84 24 00 01 00 00 78 56 34 12", BH_EINVAL,
	  "21 bytes" },
	{ M16, "26 26 26 26 26 26 26 26 26 26 26 26 26 26 26 26 8b 00", BH_EINVAL,
	  "16 prefixes, 16-bit" },
	/* nothing at all */
	{ M64, "", BH_EINVAL, "empty" },
};

static void test_rejects(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rejects); i++) {
		const struct reject_case *r = &rejects[i];
		struct mmio_insn got, before;
		int err;

		memset(&got, 0x5A, sizeof(got));
		before = got;
		err = decode_hex(r->hex, r->mode, &got);
		if (err != r->err)
			fail_msg("%u-bit \"%s\" (%s): expected %s, got %s", r->mode, r->hex, r->why,
				 bh_strerror(r->err), bh_strerror(err));
		assert_memory_equal(&got, &before, sizeof(got));
	}
}

/* 15 bytes of prefixes with n = 15: the decoder never looks at a 16th byte. */
static void test_length_limit_stops_reading(void **state)
{
	u8 bytes[INSN_MAX_LENGTH];
	struct mmio_insn got;

	(void)state;
	memset(bytes, 0x66, sizeof(bytes));
	assert_int_equal(decode_exact(bytes, sizeof(bytes), M64, &got), BH_EINVAL);
	/* 13 prefixes + "8b 00" is 15 bytes: fine; one more prefix is one too many. */
	memset(bytes, 0x3e, 13);
	bytes[13] = 0x8b;
	bytes[14] = 0x00;
	assert_int_equal(decode_exact(bytes, 15, M64, &got), 0);
	assert_int_equal(got.length, 15);
}

static void test_bad_arguments(void **state)
{
	static const u8 mov[] = { 0x8b, 0x00 };
	struct mmio_insn got;

	(void)state;
	assert_int_equal(decode_mmio_insn(NULL, 2, M64, &got), BH_EINVAL);
	assert_int_equal(decode_mmio_insn(mov, 2, M64, NULL), BH_EINVAL);
	assert_int_equal(decode_mmio_insn(mov, 2, (enum cpu_mode_bits)0, &got), BH_EINVAL);
	assert_int_equal(decode_mmio_insn(mov, 2, (enum cpu_mode_bits)8, &got), BH_EINVAL);
	assert_int_equal(decode_mmio_insn(mov, 2, (enum cpu_mode_bits)63, &got), BH_EINVAL);
}

/* Random bytes: never a crash or an over-read; what decodes must be self-consistent. */
static u64 rng_state;

static u64 rng(void)
{
	u64 z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Biased toward the interesting bytes so that many random strings decode. */
static u8 random_insn_byte(void)
{
	static const u8 interesting[] = { 0x66, 0x67, 0xf0, 0x2e, 0x65, 0x40, 0x48, 0x4c,
					  0x41, 0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7, 0xa0,
					  0xa1, 0xa2, 0xa3, 0x0f, 0xb6, 0xb7, 0xbe, 0xbf };
	u64 r = rng();

	return (r & 1) ? interesting[(r >> 8) % sizeof(interesting)] : (u8)(r >> 8);
}

static void test_random_bytes(void **state)
{
	static const enum cpu_mode_bits modes[] = { M16, M32, M64 };
	unsigned int decoded = 0;

	(void)state;
	rng_state = 42;
	for (unsigned int iter = 0; iter < 200000; iter++) {
		u8 bytes[20];
		size_t n = rng() % (sizeof(bytes) + 1);
		enum cpu_mode_bits mode = modes[rng() % 3];
		struct mmio_insn got, again;
		int err;

		for (size_t i = 0; i < n; i++)
			bytes[i] = random_insn_byte();
		err = decode_exact(bytes, n, mode, &got);
		assert_true(err == 0 || err == BH_EINVAL || err == BH_ENOTSUP);
		if (err)
			continue;
		decoded++;
		assert_true(got.length >= 2 && got.length <= MIN(n, (size_t)INSN_MAX_LENGTH));
		assert_true(got.size == 1 || got.size == 2 || got.size == 4 || got.size == 8);
		assert_true(got.reg < GPR_COUNT);
		assert_true(!got.high_byte || (got.size == 1 && got.reg <= GPR_RBX));
		/* exactly its own bytes decode the same; one fewer is truncated */
		assert_int_equal(decode_exact(bytes, got.length, mode, &again), 0);
		assert_memory_equal(&got, &again, sizeof(got));
		assert_int_equal(decode_exact(bytes, got.length - 1u, mode, &again), BH_EINVAL);
	}
	assert_true(decoded > 1000);
}

/* ---------------------------------------------------------------------------------------- */
/* applying results */

#define OLD 0x1122334455667788ULL

static u64 load(const char *hex, enum cpu_mode_bits mode, u64 old, u64 loaded)
{
	struct mmio_insn insn;

	assert_int_equal(decode_hex(hex, mode, &insn), 0);
	assert_int_equal(insn.op, MMIO_LOAD);
	return mmio_load_result(&insn, old, loaded, mode);
}

static void test_load_result_mov(void **state)
{
	(void)state;
	/* partial writes keep the rest; a device returning stray upper bits is masked */
	assert_int_equal(load("8a 00", M64, OLD, 0xffffffffffffffabULL), 0x11223344556677abULL);
	assert_int_equal(load("8a 20", M64, OLD, 0xab), 0x112233445566ab88ULL);     /* ah */
	assert_int_equal(load("8a 38", M64, OLD, 0x1ab), 0x112233445566ab88ULL);    /* bh */
	assert_int_equal(load("40 8a 20", M64, OLD, 0xab), 0x11223344556677abULL);  /* spl */
	assert_int_equal(load("66 8b 00", M64, OLD, 0xabcd), 0x112233445566abcdULL);
	assert_int_equal(load("a0 00 00 00 00 00 00 00 00", M64, OLD, 0xcd),
			 0x11223344556677cdULL);
	/* 32-bit destinations zero-extend */
	assert_int_equal(load("8b 00", M64, OLD, 0xdeadbeef), 0xdeadbeefULL);
	assert_int_equal(load("8b 00", M64, OLD, 0xffffffffdeadbeefULL), 0xdeadbeefULL);
	assert_int_equal(load("8b 00", M32, OLD, 0xdeadbeef), 0xdeadbeefULL);
	assert_int_equal(load("66 8b 00", M16, OLD, 0xdeadbeef), 0xdeadbeefULL);
	assert_int_equal(load("8b 00", M16, OLD, 0xdeadbeef), 0x112233445566beefULL);
	/* 64-bit */
	assert_int_equal(load("48 8b 00", M64, OLD, 0x8877665544332211ULL),
			 0x8877665544332211ULL);
}

static void test_load_result_widening(void **state)
{
	(void)state;
	/* movzx */
	assert_int_equal(load("0f b6 00", M64, OLD, 0x80), 0x80);
	assert_int_equal(load("66 0f b6 00", M64, OLD, 0x80), 0x1122334455660080ULL);
	assert_int_equal(load("48 0f b6 00", M64, OLD, 0xff80), 0x80);
	assert_int_equal(load("0f b7 00", M64, OLD, 0x18000), 0x8000);
	assert_int_equal(load("48 0f b7 00", M64, OLD, 0x8000), 0x8000);
	/* movsx */
	assert_int_equal(load("66 0f be 00", M64, OLD, 0x80), 0x112233445566ff80ULL);
	assert_int_equal(load("0f be 00", M64, OLD, 0x80), 0xffffff80ULL);
	assert_int_equal(load("48 0f be 00", M64, OLD, 0x80), 0xffffffffffffff80ULL);
	assert_int_equal(load("48 0f be 00", M64, OLD, 0x7f), 0x7f);
	assert_int_equal(load("0f bf 00", M64, OLD, 0x8000), 0xffff8000ULL);
	assert_int_equal(load("48 0f bf 00", M64, OLD, 0x8000), 0xffffffffffff8000ULL);
	assert_int_equal(load("48 0f bf 00", M64, OLD, 0x17fff), 0x7fff);
	assert_int_equal(load("0f be 00", M32, OLD, 0xfe), 0xfffffffeULL);
	assert_int_equal(load("0f be 00", M16, OLD, 0xfe), 0x112233445566fffeULL);
	assert_int_equal(load("66 0f bf 00", M16, OLD, 0x8001), 0xffff8001ULL);
}

static u64 store(const char *hex, u64 reg_value)
{
	struct mmio_insn insn;

	assert_int_equal(decode_hex(hex, M64, &insn), 0);
	assert_true(insn.op != MMIO_LOAD);
	return mmio_store_value(&insn, reg_value);
}

static void test_store_value(void **state)
{
	(void)state;
	assert_int_equal(store("88 00", OLD), 0x88);             /* al */
	assert_int_equal(store("88 20", OLD), 0x77);             /* ah */
	assert_int_equal(store("88 38", OLD), 0x77);             /* bh, from rbx's value */
	assert_int_equal(store("40 88 20", OLD), 0x88);          /* spl */
	assert_int_equal(store("66 89 00", OLD), 0x7788);
	assert_int_equal(store("89 00", OLD), 0x55667788);
	assert_int_equal(store("48 89 00", OLD), OLD);
	assert_int_equal(store("a2 00 00 00 00 00 00 00 00", OLD), 0x88);
	/* immediates ignore the register */
	assert_int_equal(store("c6 00 ab", OLD), 0xab);
	assert_int_equal(store("66 c7 00 34 12", OLD), 0x1234);
	assert_int_equal(store("c7 00 00 00 00 80", OLD), 0x80000000ULL);
	assert_int_equal(store("48 c7 00 00 00 00 80", OLD), 0xffffffff80000000ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_encodings),
		cmocka_unit_test(test_trailing_bytes_ignored),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_length_limit_stops_reading),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_load_result_mov),
		cmocka_unit_test(test_load_result_widening),
		cmocka_unit_test(test_store_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
