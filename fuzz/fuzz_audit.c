/*
 * Fuzz harness for the audit-log reader (gate_audit_read) and the human view
 * (gate_audit_format): arbitrary bytes, read once as a whole log and once as
 * `--follow` reads it (the unterminated tail left for later).  Invariants: a
 * line is a record or has an error, never both; `consumed` stays inside the
 * input and ends on a line boundary; the human view of any record holds no
 * control character (it goes to a terminal).  Then the chain verifier
 * (gate_audit_verify) over the same bytes as one log and as two files split
 * where the first byte says, with the seal key of the example key acme (the
 * unit tests seal their logs with it, so the seeds' seals verify):
 * invariants: a problem is named exactly when the log is refused, and where
 * it is lies inside the input.  Seeds: real logs written by the gate's unit
 * tests (fuzz/corpus/audit, chained and sealed ones included); hostile
 * lines: fuzz/regress/audit.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "manager/gate/gate.h"

/* manifests/keys/acme.pub */
static const char acme_pub[] = "untrusted comment: kx example key: acme 8046f4a304ecea27\n"
			       "RWSARvSjBOzqJ0BNW9DQy5CCt1Vxnkeh2N8wWscrO42VTwe+kyMhc0gl\n";

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

static size_t count_lines(const uint8_t *data, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n + 1;
}

static void verify(const uint8_t *data, size_t size)
{
	static struct kxsig_pubkey key;
	static bool have_key;
	struct gate_verify_report rep;
	struct gate_verify_file files[2];
	size_t split = size > 0 ? data[0] % (size + 1) : 0;

	if (!have_key) {
		if (kxsig_pubkey_parse(acme_pub, sizeof(acme_pub) - 1, &key, NULL) != 0)
			__builtin_trap();
		have_key = true;
	}
	files[0] = (struct gate_verify_file){"a.log", data, size};
	if (gate_audit_verify(files, 1, &key, 1, 0, &rep) != 0 ||
	    rep.ok != (rep.problem[0] == '\0') || rep.line > count_lines(data, size) ||
	    (rep.ok && rep.records == 0))
		__builtin_trap();
	files[0].len = split;
	files[1] = (struct gate_verify_file){"b.log", data + split, size - split};
	if (gate_audit_verify(files, 2, &key, 1, GATE_VERIFY_LIVE, &rep) != 0 ||
	    rep.ok != (rep.problem[0] == '\0') || rep.file > 1 ||
	    rep.line > count_lines(files[rep.file].bytes, files[rep.file].len))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t consumed = 0;

	if (gate_audit_read(data, size, check_line, NULL, NULL) != 0)
		__builtin_trap();
	if (gate_audit_read(data, size, check_line, NULL, &consumed) != 0 || consumed > size ||
	    (consumed > 0 && data[consumed - 1] != '\n'))
		__builtin_trap();
	verify(data, size);
	return 0;
}
