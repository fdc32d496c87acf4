/* TEST-ONLY: the kernel the shim starts, built in (PAYLOAD is its path). */
	.section .rodata.payload, "a"
	.balign 16
	.globl payload_start, payload_end
payload_start:
	.incbin PAYLOAD
payload_end:
