/*
 * kxd's audit plumbing: the seal key (generated at the first start, kept
 * beside the log), the gate's log opened with it, a seal of the chain every
 * --audit-seal seconds when records were written and at stop, and rotation
 * on request (KXD_REQ_AUDIT_ROTATE).  The chain and its seals are the
 * gate's (manager/gate/audit_write.c); docs/audit-log.md section 3.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "manager/kxd/internal.h"

#define SEAL_COMMENT "kxd audit seal key"

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000L + (now.tv_nsec - t->tv_nsec) / 1000000L;
}

int kxd_audit_seal_parse(const char *arg, long *ms)
{
	char *end;
	long secs;

	errno = 0;
	secs = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || secs < 1 || secs > 86400)
		return -EINVAL;
	*ms = secs * 1000L;
	return 0;
}

/* mkdir -p of an absolute path, each new level `mode`. */
static int make_path(const char *path, mode_t mode)
{
	char tmp[KXD_PATH_MAX];

	if (strlen(path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	strcpy(tmp, path);
	for (char *s = tmp + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return -errno;
		if (c == '\0')
			return 0;
		*s = c;
	}
}

int kxd_audit_default(struct kxd *d, const char *sock_dir, char *buf, size_t size)
{
	char def[KXD_PATH_MAX], dir[KXD_PATH_MAX];
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int rc = 0, n;

	if (kxd_default_socket(def, sizeof(def)) != 0 || strcmp(def, d->socket_path) != 0) {
		n = snprintf(dir, sizeof(dir), "%s", sock_dir); /* a kxd of its own */
	} else if (d->owner == 0) {
		n = snprintf(dir, sizeof(dir), "%s", KXD_AUDIT_ROOT_DIR);
	} else if (state != NULL && state[0] == '/') {
		n = snprintf(dir, sizeof(dir), "%s/kx", state);
	} else if (home != NULL && home[0] == '/') {
		n = snprintf(dir, sizeof(dir), "%s/.local/state/kx", home);
	} else {
		fprintf(stderr, "kxd: no default audit log (HOME and XDG_STATE_HOME unset): "
			"use --audit-log\n");
		return -1;
	}
	if (n >= 0 && (size_t)n < sizeof(dir))
		rc = make_path(dir, d->owner == 0 ? 0750 : 0700);
	if (n >= 0 && (size_t)n < sizeof(dir))
		n = snprintf(buf, size, "%s/audit.log", dir);
	if (rc != 0 || n < 0 || (size_t)n >= size) {
		fprintf(stderr, "kxd: default audit log in %.*s: %s: use --audit-log\n",
			(int)sizeof(dir), dir, rc != 0 ? strerror(-rc) : "path too long");
		return -1;
	}
	d->audit_path = buf;
	return 0;
}

/* The key's paths: --audit-key, or audit-seal.key beside the log; the public
 * half is the same name with .pub. */
static int key_paths(struct kxd *d, char *sec, char *pub, size_t size)
{
	char tmp[KXD_PATH_MAX];
	size_t n;
	int w;

	if (d->audit_key_path != NULL) {
		w = snprintf(sec, size, "%s", d->audit_key_path);
	} else {
		if (strlen(d->audit_path) >= sizeof(tmp))
			return -ENAMETOOLONG;
		strcpy(tmp, d->audit_path);
		w = snprintf(sec, size, "%s/audit-seal.key", dirname(tmp));
	}
	if (w < 0 || (size_t)w >= size)
		return -ENAMETOOLONG;
	n = strlen(sec);
	if (n > 4 && strcmp(sec + n - 4, ".key") == 0)
		n -= 4;
	w = snprintf(pub, size, "%.*s.pub", (int)n, sec);
	return w < 0 || (size_t)w >= size ? -ENAMETOOLONG : 0;
}

/* Load kxd's seal key, or make one (atomically, both halves) at the first start. */
static int seal_key(struct kxd *d)
{
	char sec[KXD_PATH_MAX], pub[KXD_PATH_MAX], hex[2 * KXSIG_KEYID_BYTES + 1];
	uint8_t keyid[KXSIG_KEYID_BYTES];
	struct kx_error err;
	bool made = false;
	int rc;

	if (key_paths(d, sec, pub, sizeof(sec)) != 0) {
		fprintf(stderr, "kxd: audit seal key: path too long\n");
		return -1;
	}
	if (access(sec, F_OK) != 0 && errno == ENOENT) {
		rc = kxsig_keygen(pub, sec, SEAL_COMMENT, KXSIG_KEYGEN_NO_PASSPHRASE, keyid, &err);
		if (rc != 0) {
			fprintf(stderr, "kxd: audit seal key %s: %s\n", sec, err.msg);
			return -1;
		}
		made = true;
	}
	rc = kxsig_seckey_open(sec, &d->seal_key, &err);
	if (rc != 0) {
		fprintf(stderr, "kxd: audit seal key %s: %s\n", sec, err.msg);
		return -1;
	}
	kxsig_seckey_keyid(d->seal_key, keyid);
	kxsig_keyid_hex(keyid, hex);
	if (made)
		fprintf(stderr, "kxd: new audit seal key %s: public half %s\n", hex, pub);
	snprintf(d->seal_keyid, sizeof(d->seal_keyid), "%s", hex);
	return 0;
}

int kxd_audit_open(struct kxd *d)
{
	struct gate_opts opts = d->audit_opts;
	struct kx_error err;

	opts.backend = d->backend; /* named in every record */
	if (d->audit_seal_ms == 0)
		d->audit_seal_ms = KXD_AUDIT_SEAL_MS;
	if (seal_key(d) != 0)
		return -1;
	opts.seal_key = d->seal_key;
	if (gate_open(d->policy, d->audit_path, &opts, &d->gate, &err) != 0) {
		fprintf(stderr, "kxd: %s: %s\n", d->audit_path, err.msg);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &d->sealed_at);
	return 0;
}

int kxd_audit_timeout(struct kxd *d, int other)
{
	long left;

	if (d->gate == NULL || gate_unsealed(d->gate) == 0)
		return other;
	left = d->audit_seal_ms - ms_since(&d->sealed_at);
	if (left < 0)
		left = 0;
	return other >= 0 && other < left ? other : (int)left;
}

void kxd_audit_tick(struct kxd *d)
{
	struct kx_error err;

	if (d->gate == NULL || ms_since(&d->sealed_at) < d->audit_seal_ms)
		return;
	if (gate_seal(d->gate, GATE_SEAL_INTERVAL, &err) != 0)
		kxd_log("%s", err.msg); /* tried again at the next interval */
	clock_gettime(CLOCK_MONOTONIC, &d->sealed_at);
}

void kxd_audit_rotate(struct kxd *d, int ci)
{
	struct kx_error err;

	if (gate_rotate(d->gate, &err) != 0) {
		kxd_log("audit rotate: %s", err.msg);
		kxd_reply(d, ci, KXD_RESP_ERROR, NULL, "%s", err.msg);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &d->sealed_at);
	kxd_log("audit log %s: sealed and reopened", d->audit_path);
	kxd_reply(d, ci, KXD_RESP_OK, NULL, "%s", d->audit_path);
}

void kxd_audit_close(struct kxd *d)
{
	struct kx_error err;

	if (d->gate != NULL && gate_seal(d->gate, GATE_SEAL_CLOSE, &err) != 0)
		kxd_log("%s", err.msg);
	gate_close(d->gate);
	d->gate = NULL;
	kxsig_seckey_free(d->seal_key);
	d->seal_key = NULL;
}
