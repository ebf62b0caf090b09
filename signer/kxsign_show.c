/*
 * kxsign show: the signed metadata and covered regions of a file, as text or
 * as one JSON object with stable keys.  Nothing here is verified: the
 * metadata is what the section says, the digest is computed from the file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "signer/kxsign_cli.h"

/* A JSON string: quotes, backslashes and every control byte escaped.  Other
 * bytes pass through (names and comments are checked printable ASCII). */
static void json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void utc(uint64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t > (uint64_t)253402300799 /* 9999-12-31 */ || !gmtime_r(&tt, &tm) ||
	    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, size, "(out of range)");
}

static void show_json(const char *file, const struct kxsig_meta *m,
		      const struct kxsig_region_info *r, size_t n)
{
	char keyid[2 * KXSIG_KEYID_BYTES + 1], digest[2 * KXSIG_DIGEST_BYTES + 1];
	char h[2 * KXSIG_DIGEST_BYTES + 1];

	kxsig_keyid_hex(m->keyid, keyid);
	kxsig_digest_hex(m->digest, digest);
	printf("{\"file\": ");
	json_string(file);
	printf(", \"name\": ");
	json_string(m->name);
	printf(", \"version\": ");
	json_string(m->version);
	printf(", \"keyid\": \"%s\", \"timestamp\": %llu, \"trusted_comment\": ", keyid,
	       (unsigned long long)m->timestamp);
	json_string(m->trusted_comment);
	printf(", \"digest\": \"%s\", \"verified\": false, \"regions\": [", digest);
	for (size_t i = 0; i < n; i++) {
		kxsig_digest_hex(r[i].hash, h);
		printf("%s{\"kind\": \"%s\", \"index\": %u, \"offset\": %llu, \"size\": %llu, "
		       "\"hash\": \"%s\"}",
		       i ? ", " : "", r[i].kind, r[i].index, (unsigned long long)r[i].offset,
		       (unsigned long long)r[i].size, h);
	}
	printf("]}\n");
}

static void show_text(const char *file, const struct kxsig_meta *m,
		      const struct kxsig_region_info *r, size_t n)
{
	char keyid[2 * KXSIG_KEYID_BYTES + 1], digest[2 * KXSIG_DIGEST_BYTES + 1];
	char h[2 * KXSIG_DIGEST_BYTES + 1], when[32];

	kxsig_keyid_hex(m->keyid, keyid);
	kxsig_digest_hex(m->digest, digest);
	utc(m->timestamp, when, sizeof(when));
	printf("file:            %s\n", file);
	printf("name:            %s\n", m->name);
	printf("version:         %s\n", m->version);
	printf("key id:          %s\n", keyid);
	printf("signed at:       %s (%llu)\n", when, (unsigned long long)m->timestamp);
	printf("trusted comment: %s\n", m->trusted_comment);
	printf("content digest:  %s\n", digest);
	printf("covered regions (as recorded in the signature; not verified):\n");
	for (size_t i = 0; i < n; i++) {
		char label[48];

		kxsig_digest_hex(r[i].hash, h);
		if (r[i].kind_id == KXSIG_REGION_LOAD)
			snprintf(label, sizeof(label), "%s[%u]", r[i].kind, r[i].index);
		else if (r[i].kind_id >= KXSIG_REGION_SHSTRTAB)
			snprintf(label, sizeof(label), "%s (section %u)", r[i].kind, r[i].index);
		else
			snprintf(label, sizeof(label), "%s", r[i].kind);
		printf("  %-32s offset 0x%-8llx %10llu bytes  %.16s...\n", label,
		       (unsigned long long)r[i].offset, (unsigned long long)r[i].size, h);
	}
}

int kxsign_cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	struct kxsig_region_info regions[KXSIG_MAX_REGIONS];
	struct kxsig_meta meta;
	struct kx_error err = {0};
	uint8_t *buf = NULL;
	size_t len = 0, n = 0;
	int c, json = 0, rc;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (c != 'j')
			return kxsign_usage_error("bad option");
		json = 1;
	}
	if (optind + 1 != argc)
		return kxsign_usage_error("exactly one FILE to show");
	rc = kxsig_read_file(argv[optind], KXSIG_FILE_MAX, &buf, &len, &err);
	if (!rc)
		rc = kxsig_read_regions(buf, len, &meta, regions, &n, &err);
	if (rc) {
		rc = kxsign_report(argv[optind], NULL, rc, &err);
		goto out;
	}
	if (json)
		show_json(argv[optind], &meta, regions, n);
	else
		show_text(argv[optind], &meta, regions, n);
	rc = KXSIGN_EXIT_OK;
out:
	free(buf);
	return rc;
}
