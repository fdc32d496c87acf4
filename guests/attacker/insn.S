/* The virtualization instructions the attacker tries, as raw bytes so that the assembler needs
 * no special mode. Each takes its memory operand or address in RDI (moved to RAX, where these
 * instructions want it) and returns if the instruction completes. */
	.code64
	.text

.macro INSN name, bytes:vararg
	.globl insn_\name
	.type insn_\name, @function
insn_\name:
	movq %rdi, %rax
	movq %rsi, %rcx
	.byte \bytes
	ret
	.size insn_\name, . - insn_\name
.endm

/* AMD SVM */
	INSN vmrun,   0x0f, 0x01, 0xd8		/* vmrun rax */
	INSN vmmcall, 0x0f, 0x01, 0xd9
	INSN vmload,  0x0f, 0x01, 0xda		/* vmload rax */
	INSN vmsave,  0x0f, 0x01, 0xdb		/* vmsave rax */
	INSN stgi,    0x0f, 0x01, 0xdc
	INSN clgi,    0x0f, 0x01, 0xdd
	INSN skinit,  0x0f, 0x01, 0xde		/* skinit eax */
	INSN invlpga, 0x0f, 0x01, 0xdf		/* invlpga rax, ecx */

/* Intel VMX */
	INSN vmxon,    0xf3, 0x0f, 0xc7, 0x30	/* vmxon [rax] */
	INSN vmcall,   0x0f, 0x01, 0xc1
	INSN vmlaunch, 0x0f, 0x01, 0xc2
	INSN vmresume, 0x0f, 0x01, 0xc3
	INSN vmxoff,   0x0f, 0x01, 0xc4
	INSN vmptrld,  0x0f, 0xc7, 0x30		/* vmptrld [rax] */
	INSN vmclear,  0x66, 0x0f, 0xc7, 0x30	/* vmclear [rax] */
	INSN vmread,   0x0f, 0x78, 0xc8		/* vmread rax, rcx (field in rcx) */
	INSN vmwrite,  0x0f, 0x79, 0xc8		/* vmwrite rcx, rax (field rcx <- rax) */
	INSN invept,   0x66, 0x0f, 0x38, 0x80, 0x08	/* invept rcx, [rax] */
	INSN invvpid,  0x66, 0x0f, 0x38, 0x81, 0x08	/* invvpid rcx, [rax] */
	INSN vmfunc,   0x0f, 0x01, 0xd4		/* vmfunc: eax = function, ecx = argument */
