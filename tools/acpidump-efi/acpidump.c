/* acpidump.efi: prints every ACPI table the firmware publishes, then powers the machine off.
 *
 * A developer tool for capturing the table dumps under tests/data/acpi/ (see
 * tools/acpi-capture.py). Each table becomes one console line
 *     ACPIDUMP <SIG> <hex phys addr> <decimal length> <hex bytes...>
 * and OVMF mirrors the console on the serial port, where the capture script reads it. The RSDP
 * is printed with the signature RSDP. Tables are read from memory as-is, checksums unchecked:
 * the point is to record what the firmware really hands over. */
#include <efi.h>
#include <efilib.h>

#define MAX_TABLES 128
/* Longer than any table a virtual machine should publish; guards against a bogus length. */
#define MAX_TABLE_LENGTH (4u * 1024 * 1024)
#define OUT_CHUNK 256

struct seen {
	UINT64 addr[MAX_TABLES];
	UINTN count;
};

static EFI_SYSTEM_TABLE *sys;

static void out(const CHAR16 *s)
{
	uefi_call_wrapper(sys->ConOut->OutputString, 2, sys->ConOut, (CHAR16 *)s);
}

static CHAR16 hex_digit(unsigned v)
{
	return (CHAR16)(v < 10 ? L'0' + v : L'a' + v - 10);
}

/* Formats v into buf (at least 21 characters) in base 10 or 16; returns buf. */
static CHAR16 *format_number(CHAR16 *buf, UINT64 v, unsigned base)
{
	CHAR16 tmp[21];
	UINTN n = 0, i = 0;

	do {
		tmp[n++] = hex_digit((unsigned)(v % base));
		v /= base;
	} while (v != 0);
	while (n > 0)
		buf[i++] = tmp[--n];
	buf[i] = 0;
	return buf;
}

static void out_number(UINT64 v, unsigned base)
{
	CHAR16 buf[21];

	out(format_number(buf, v, base));
}

/* The console driver may have a bounded buffer, so the hex is sent in pieces; the line itself
 * is only ended after the last byte. */
static void out_hex_bytes(const UINT8 *p, UINT32 len)
{
	CHAR16 buf[OUT_CHUNK * 2 + 1];
	UINTN n = 0;

	for (UINT32 i = 0; i < len; i++) {
		buf[n++] = hex_digit(p[i] >> 4);
		buf[n++] = hex_digit(p[i] & 0xf);
		if (n == OUT_CHUNK * 2) {
			buf[n] = 0;
			out(buf);
			n = 0;
		}
	}
	buf[n] = 0;
	out(buf);
}

static BOOLEAN already_dumped(struct seen *seen, UINT64 addr)
{
	for (UINTN i = 0; i < seen->count; i++)
		if (seen->addr[i] == addr)
			return TRUE;
	if (seen->count < MAX_TABLES)
		seen->addr[seen->count++] = addr;
	return FALSE;
}

static void dump_bytes(const char sig[4], UINT64 addr, UINT32 len)
{
	CHAR16 name[5];

	for (int i = 0; i < 4; i++) {
		char c = sig[i];
		/* keep the line parseable whatever the firmware put there */
		name[i] = (CHAR16)((c >= '!' && c <= '~') ? c : '_');
	}
	name[4] = 0;
	out(L"ACPIDUMP ");
	out(name);
	out(L" ");
	out_number(addr, 16);
	out(L" ");
	out_number(len, 10);
	out(L" ");
	out_hex_bytes((const UINT8 *)(UINTN)addr, len);
	out(L"\r\n");
}

/* Dumps the table with a standard header (signature, then 32-bit length) at addr. Returns its
 * length, or 0 when nothing was dumped. */
static UINT32 dump_table(struct seen *seen, UINT64 addr)
{
	const UINT8 *p = (const UINT8 *)(UINTN)addr;
	UINT32 len;

	if (addr == 0 || already_dumped(seen, addr))
		return 0;
	len = *(const UINT32 *)(p + 4);
	if (len < 8 || len > MAX_TABLE_LENGTH) {
		out(L"ACPIDUMP-SKIP bad length at ");
		out_number(addr, 16);
		out(L"\r\n");
		return 0;
	}
	dump_bytes((const char *)p, addr, len);
	return len;
}

static UINT32 read32(const UINT8 *p)
{
	return *(const UINT32 *)p;
}

static UINT64 read64(const UINT8 *p)
{
	return *(const UINT64 *)p;
}

/* The FADT points to the DSDT and FACS instead of listing them in the root table. */
static void dump_fadt_children(struct seen *seen, UINT64 fadt, UINT32 len)
{
	const UINT8 *p = (const UINT8 *)(UINTN)fadt;

	if (len >= 40)
		dump_table(seen, read32(p + 36));  /* FIRMWARE_CTRL (FACS) */
	if (len >= 44)
		dump_table(seen, read32(p + 40));  /* DSDT */
	if (len >= 140)
		dump_table(seen, read64(p + 132)); /* X_FIRMWARE_CTRL */
	if (len >= 148)
		dump_table(seen, read64(p + 140)); /* X_DSDT */
}

/* Dumps the RSDT (entry_size 4) or XSDT (8) at root and every table it lists. */
static void dump_root(struct seen *seen, UINT64 root, UINTN entry_size)
{
	const UINT8 *p = (const UINT8 *)(UINTN)root;
	UINT32 len = dump_table(seen, root);

	/* Tables already listed by the other root table were dumped there; still follow them. */
	if (len == 0)
		len = root ? read32(p + 4) : 0;
	if (len < 36 || len > MAX_TABLE_LENGTH)
		return;
	for (UINT32 off = 36; off + entry_size <= len; off += (UINT32)entry_size) {
		UINT64 addr = entry_size == 8 ? read64(p + off) : read32(p + off);
		const UINT8 *t = (const UINT8 *)(UINTN)addr;
		UINT32 tlen;

		if (addr == 0)
			continue;
		tlen = dump_table(seen, addr);
		if (t[0] == 'F' && t[1] == 'A' && t[2] == 'C' && t[3] == 'P')
			dump_fadt_children(seen, addr, tlen ? tlen : read32(t + 4));
	}
}

static void *find_rsdp(void)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID;
	EFI_GUID acpi10 = ACPI_TABLE_GUID;
	void *v1 = NULL;

	for (UINTN i = 0; i < sys->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &sys->ConfigurationTable[i];

		if (CompareGuid(&t->VendorGuid, &acpi20) == 0)
			return t->VendorTable;
		if (CompareGuid(&t->VendorGuid, &acpi10) == 0)
			v1 = t->VendorTable;
	}
	return v1;
}

/* Names what the configuration table does hold, to tell "no ACPI at all" from "ACPI under a GUID
 * this tool does not know". */
static void list_configuration_table(void)
{
	for (UINTN i = 0; i < sys->NumberOfTableEntries; i++) {
		EFI_GUID *g = &sys->ConfigurationTable[i].VendorGuid;

		out(L"ACPIDUMP-INFO configuration table entry ");
		out_number(g->Data1, 16);
		out(L"-");
		out_number(g->Data2, 16);
		out(L"-");
		out_number(g->Data3, 16);
		out(L"\r\n");
	}
}

static void dump_all(void)
{
	static struct seen seen;
	const UINT8 *rsdp = find_rsdp();
	UINT8 revision;

	if (rsdp == NULL) {
		out(L"ACPIDUMP-ERROR no RSDP in the EFI configuration table\r\n");
		list_configuration_table();
		return;
	}
	revision = rsdp[15];
	dump_bytes("RSDP", (UINT64)(UINTN)rsdp, revision >= 2 ? read32(rsdp + 20) : 20);
	if (revision >= 2)
		dump_root(&seen, read64(rsdp + 24), 8);
	dump_root(&seen, read32(rsdp + 16), 4);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *system_table)
{
	InitializeLib(image, system_table);
	sys = system_table;
	uefi_call_wrapper(sys->BootServices->SetWatchdogTimer, 4, 0, 0, 0, NULL);
	out(L"\r\nACPIDUMP-BEGIN\r\n");
	dump_all();
	out(L"ACPIDUMP-END\r\n");
	uefi_call_wrapper(sys->RuntimeServices->ResetSystem, 4, EfiResetShutdown, EFI_SUCCESS, 0,
			  NULL);
	return EFI_SUCCESS;
}
