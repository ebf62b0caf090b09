/*
 * kxctl audit: the audit log, read with the gate's reader (any bytes: a
 * corrupt or torn line is reported and reading goes on).  The human view is
 * gate_audit_format's; --json prints each valid record's line as written.
 * --follow keeps reading as kxd appends (an unterminated last line waits
 * for its newline).  Without --log, the running kxd says where its log is.
 *
 * `kxctl audit verify [--key PUB]... [--live] LOG...` checks the hash chain
 * and the seals of a log and the files rotated out of it (oldest first) with
 * the gate's verifier, and names the first record edited, dropped,
 * reordered or cut off.  `kxctl audit rotate` asks kxd to seal its log and
 * start a new file (after the operator has moved the old one away).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manager/gate/gate.h"
#include "manager/kxctl/kxctl.h"

#define CHUNK ((size_t)64 << 10)
#define FOLLOW_NS 200000000L /* how often --follow looks for more */

struct audit_view {
	bool json;
	const uint8_t *buf; /* the bytes being read (for --json) */
	size_t base_line;   /* lines consumed before this buffer */
	size_t corrupt;
};

static int print_line(void *ctx, const struct gate_audit_line *line)
{
	struct audit_view *v = ctx;
	char text[GATE_AUDIT_LINE_MAX];

	if (!line->record) {
		fprintf(stderr, "kxctl: audit log line %zu: corrupt: %s\n",
			v->base_line + line->lineno, line->error);
		v->corrupt++;
		return 0;
	}
	if (v->json) {
		const uint8_t *s = v->buf + line->offset;
		const uint8_t *nl = memchr(s, '\n', GATE_AUDIT_LINE_MAX);

		fwrite(s, 1, nl ? (size_t)(nl - s) : strlen((const char *)s), stdout);
		fputc('\n', stdout);
	} else {
		gate_audit_format(line->record, GATE_AUDIT_FMT_REASON, text, sizeof(text));
		puts(text);
	}
	return 0;
}

/* The log's path from the running kxd (PING answers with it). */
static int ask_kxd(const char *sock_opt, char *out, size_t size)
{
	char sock[KXD_PATH_MAX];
	struct kxd_req req;
	struct kxd_resp resp;
	int fd, rc = -1;

	if (kxctl_socket_path(sock_opt, sock, sizeof(sock)) != 0) {
		fprintf(stderr, "kxctl: no kxd socket (XDG_RUNTIME_DIR unset): to read a log "
			"without kxd, use --log PATH\n");
		return -1;
	}
	if ((fd = kxd_connect(sock)) < 0) {
		fprintf(stderr, "kxctl: no kxd answers on %s (%s): to read a log without kxd, "
			"use --log PATH\n", sock, strerror(-fd));
		return -1;
	}
	kxctl_req_init(&req, KXD_REQ_PING);
	if (kxctl_request(fd, &req, NULL, 0) == 0 && kxctl_answer(fd, &resp) == 0 &&
	    resp.type == KXD_RESP_OK) {
		snprintf(out, size, "%s", resp.text);
		rc = 0;
	}
	close(fd);
	return rc;
}

/* Feed buf[0..*len) to the reader; keep an unterminated tail for later
 * (unless final).  A tail longer than any record is read as it is (and
 * reported corrupt): it can never become a record. */
static int feed(struct audit_view *v, uint8_t *buf, size_t *len, bool final)
{
	size_t consumed = *len;
	int rc;

	v->buf = buf;
	buf[*len] = '\0';
	rc = gate_audit_read(buf, *len, print_line, v, final ? NULL : &consumed);
	if (rc == 0 && !final && consumed == 0 && *len > GATE_AUDIT_LINE_MAX) {
		consumed = *len;
		rc = gate_audit_read(buf, *len, print_line, v, NULL);
	}
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < consumed; i++)
		v->base_line += buf[i] == '\n';
	memmove(buf, buf + consumed, *len - consumed);
	*len -= consumed;
	fflush(stdout);
	return 0;
}

#define VERIFY_MAX_KEYS 16
#define VERIFY_MAX_FILES 256
#define VERIFY_MAX_BYTES ((size_t)1 << 32) /* one file, read whole */

/* Without --key: kxd's audit-seal.pub beside the (first) log. */
static int key_beside(const char *log, struct kxsig_pubkey *key)
{
	char tmp[KXD_PATH_MAX], path[KXD_PATH_MAX + 32];
	struct kx_error err;

	if (strlen(log) >= sizeof(tmp))
		return -ENAMETOOLONG;
	strcpy(tmp, log);
	snprintf(path, sizeof(path), "%s/audit-seal.pub", dirname(tmp));
	if (kxsig_pubkey_load(path, key, &err) != 0) {
		fprintf(stderr, "kxctl: audit verify: no seal key given and %s: %s: pass --key "
			"(kxd's audit-seal.pub)\n", path, err.msg);
		return -ENOKEY;
	}
	fprintf(stderr, "kxctl: audit verify: seals checked against %s\n", path);
	return 0;
}

static int audit_verify(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "live", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct kxsig_pubkey keys[VERIFY_MAX_KEYS];
	struct gate_verify_file files[VERIFY_MAX_FILES];
	struct gate_verify_report rep;
	struct kx_error err;
	size_t nkeys = 0, nfiles = 0;
	unsigned flags = 0;
	int c, rc = KXCTL_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "k:l", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (nkeys == VERIFY_MAX_KEYS) {
				fprintf(stderr, "kxctl: at most %d --key\n", VERIFY_MAX_KEYS);
				return KXCTL_EXIT_USAGE;
			}
			if (kxsig_pubkey_load(optarg, &keys[nkeys], &err) != 0) {
				fprintf(stderr, "kxctl: %s: %s\n", optarg, err.msg);
				return KXCTL_EXIT_USAGE;
			}
			nkeys++;
			break;
		case 'l': flags |= GATE_VERIFY_LIVE; break;
		default: return kxctl_usage(cmd, stderr);
		}
	}
	if (optind == argc || argc - optind > VERIFY_MAX_FILES)
		return kxctl_usage(cmd, stderr);
	if (nkeys == 0) {
		if (key_beside(argv[optind], &keys[0]) != 0)
			return KXCTL_EXIT_USAGE;
		nkeys = 1;
	}
	for (int i = optind; i < argc; i++, nfiles++) {
		uint8_t *buf = NULL;
		size_t len = 0;

		if (kxsig_read_file(argv[i], VERIFY_MAX_BYTES, &buf, &len, &err) != 0) {
			fprintf(stderr, "kxctl: %s\n", err.msg);
			goto out;
		}
		files[nfiles] = (struct gate_verify_file){ .name = argv[i], .bytes = buf, .len = len };
	}
	if (gate_audit_verify(files, nfiles, keys, nkeys, flags, &rep) != 0) {
		fprintf(stderr, "kxctl: out of memory\n");
		goto out;
	}
	if (rep.continues)
		printf("note: the first record continues the chain of an earlier file not given\n");
	if (!rep.ok) {
		fprintf(stderr, "kxctl: audit verify: %s\n", rep.problem);
		rc = KXCTL_EXIT_REJECTED;
		goto out;
	}
	printf("ok: %llu records, %llu seals, %zu file%s\n", (unsigned long long)rep.records,
	       (unsigned long long)rep.seals, nfiles, nfiles == 1 ? "" : "s");
	if (rep.unsealed > 0)
		printf("note: the last %llu records are chained but not sealed yet (kxd seals "
		       "them at its next interval or when it stops)\n",
		       (unsigned long long)rep.unsealed);
	rc = KXCTL_EXIT_OK;
out:
	for (size_t i = 0; i < nfiles; i++)
		free((void *)files[i].bytes);
	return rc;
}

static int audit_rotate(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	char sock[KXD_PATH_MAX];
	const char *sock_opt = NULL;
	struct kxd_req req;
	int c, fd, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "S:", longopts, NULL)) != -1) {
		if (c != 'S')
			return kxctl_usage(cmd, stderr);
		sock_opt = optarg;
	}
	if (optind != argc)
		return kxctl_usage(cmd, stderr);
	if (kxctl_socket_path(sock_opt, sock, sizeof(sock)) != 0 || (fd = kxctl_connect(sock)) < 0)
		return KXCTL_EXIT_USAGE;
	kxctl_req_init(&req, KXD_REQ_AUDIT_ROTATE);
	rc = kxctl_simple(fd, &req);
	close(fd);
	return rc;
}

int kxctl_audit(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, 'f' },
		{ "log", required_argument, NULL, 'l' },
		{ "socket", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct audit_view v = { 0 };
	const char *log = NULL, *sock = NULL;
	char path[KXD_TEXT_MAX];
	bool follow = false;
	uint8_t *buf = NULL;
	size_t len = 0;
	int c, fd = -1, rc = KXCTL_EXIT_USAGE;

	if (argc > 1 && strcmp(argv[1], "verify") == 0)
		return audit_verify(cmd, argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "rotate") == 0)
		return audit_rotate(cmd, argc - 1, argv + 1);
	optind = 1;
	while ((c = getopt_long(argc, argv, "jfl:S:", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': v.json = true; break;
		case 'f': follow = true; break;
		case 'l': log = optarg; break;
		case 'S': sock = optarg; break;
		default: return kxctl_usage(cmd, stderr);
		}
	}
	if (optind != argc)
		return kxctl_usage(cmd, stderr);
	if (!log) {
		if (ask_kxd(sock, path, sizeof(path)) != 0)
			return KXCTL_EXIT_USAGE;
		log = path;
	}
	fd = open(log, O_RDONLY | O_CLOEXEC);
	/* room for a chunk beside the longest tail kept, and a NUL */
	buf = malloc(GATE_AUDIT_LINE_MAX + CHUNK + 2);
	if (fd < 0 || !buf) {
		fprintf(stderr, "kxctl: %s: %s\n", log, strerror(fd < 0 ? errno : ENOMEM));
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "kxctl: %s: %s\n", log, strerror(errno));
			goto out;
		}
		if (n == 0 && !follow)
			break;
		if (n == 0) {
			struct timespec ts = { 0, FOLLOW_NS };

			nanosleep(&ts, NULL);
			continue;
		}
		len += (size_t)n;
		if (feed(&v, buf, &len, false) != 0)
			goto nomem;
	}
	if (feed(&v, buf, &len, true) != 0)
		goto nomem;
	rc = v.corrupt ? KXCTL_EXIT_REJECTED : KXCTL_EXIT_OK;
	goto out;
nomem:
	fprintf(stderr, "kxctl: out of memory\n");
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}
