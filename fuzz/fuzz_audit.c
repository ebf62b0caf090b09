/*
 * Fuzz harness for the audit-log reader (gate_audit_read) and the human view
 * (gate_audit_format): arbitrary bytes, read once as a whole log and once as
 * `--follow` reads it (the unterminated tail left for later).  Invariants: a
 * line is a record or has an error, never both; `consumed` stays inside the
 * input and ends on a line boundary; the human view of any record holds no
 * control character (it goes to a terminal).  Seeds: real logs written by
 * the gate's unit tests (fuzz/corpus/audit); hostile lines: fuzz/regress/audit.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "manager/gate/gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_line(void *ctx, const struct gate_audit_line *line)
{
	char human[512];
	size_t n;

	(void)ctx;
	if ((line->record == NULL) == (line->error == NULL))
		__builtin_trap();
	if (line->record == NULL)
		return 0;
	n = gate_audit_format(line->record, GATE_AUDIT_FMT_REASON, human, sizeof(human));
	if (strlen(human) != (n < sizeof(human) ? n : sizeof(human) - 1))
		__builtin_trap();
	for (const unsigned char *p = (const unsigned char *)human; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			__builtin_trap();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t consumed = 0;

	if (gate_audit_read(data, size, check_line, NULL, NULL) != 0)
		__builtin_trap();
	if (gate_audit_read(data, size, check_line, NULL, &consumed) != 0 || consumed > size ||
	    (consumed > 0 && data[consumed - 1] != '\n'))
		__builtin_trap();
	return 0;
}
