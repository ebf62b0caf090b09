/*
 * The policy kxd enforces: loading it (with the admin key when one is
 * configured), refusing a replayed one by its serial number, and swapping
 * a new one in while pVMs run (`kxctl reload`, SIGHUP).  docs/kxd.md,
 * "Reloading the policy".
 *
 * The highest serial kxd ever loaded is kept in a small text file (by
 * default policy.serial beside the audit log), rewritten atomically before a
 * higher one takes effect.  A policy with a lower serial is refused, naming
 * both.  The file's content is untrusted text: anything but one decimal
 * number and a newline is an error, never "no serial yet".
 *
 * kxd is one thread: a swap happens between two requests, so every decision
 * after it uses the new policy and none sees half of each.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager/kxd/internal.h"

#define SERIAL_FILE_MAX 32 /* 20 digits and a newline, with room to spare */

int kxd_serial_path(struct kxd *d, char *buf, size_t size)
{
	char tmp[KXD_PATH_MAX];
	int n;

	if (d->serial_path != NULL)
		return 0;
	if (strlen(d->audit_path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	strcpy(tmp, d->audit_path);
	n = snprintf(buf, size, "%s/policy.serial", dirname(tmp));
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	d->serial_path = buf;
	return 0;
}

/* The stored serial: 0 when there is no file yet.  0 or -errno with why. */
static int serial_read(const char *path, uint64_t *out, char *why, size_t whylen)
{
	char buf[SERIAL_FILE_MAX + 1];
	uint64_t v = 0;
	ssize_t n;
	size_t i;
	int fd;

	*out = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -EIO;
	}
	for (i = 0; i < (size_t)n && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (v > (UINT64_MAX - (uint64_t)(buf[i] - '0')) / 10)
			break;
		v = v * 10 + (uint64_t)(buf[i] - '0');
	}
	if (n > SERIAL_FILE_MAX || i == 0 || i + 1 != (size_t)n || buf[i] != '\n') {
		snprintf(why, whylen, "%s is not one serial number and a newline: repair or remove "
			 "it (it guards against replayed policies)", path);
		return -EBADMSG;
	}
	*out = v;
	return 0;
}

static int serial_write(const char *path, uint64_t serial, char *why, size_t whylen)
{
	char buf[SERIAL_FILE_MAX];
	struct kx_error err;
	int n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", serial);
	int rc = kxsig_write_file_atomic(path, buf, (size_t)n, 0600, 1, &err);

	if (rc != 0)
		snprintf(why, whylen, "cannot record serial %" PRIu64 ": %s", serial, err.msg);
	return rc;
}

/* Open path as a policy kxd may enforce: signed by the admin key when one is
 * configured, and not older than the highest serial loaded so far (which is
 * raised, durably, when this one is newer).  0 and *out, or -errno with why. */
static int policy_load(struct kxd *d, const char *path, struct kxp_policy **out, char *why,
		       size_t whylen)
{
	struct kxp_policy *p = NULL;
	struct kx_error err;
	uint64_t serial;
	int rc;

	*out = NULL;
	rc = kxp_open_file(path, d->has_admin ? &d->admin : NULL, &p, &err);
	if (rc != 0) { /* the reader's message names the file */
		snprintf(why, whylen, "%s", err.msg);
		return rc;
	}
	serial = kxp_serial(p);
	if (serial < d->serial) {
		snprintf(why, whylen, "%s: serial %" PRIu64 " is older than serial %" PRIu64
			 " already loaded (%s): refused as a replay", path, serial, d->serial,
			 d->serial_path);
		rc = -ESTALE;
		goto out;
	}
	if (serial > d->serial && (rc = serial_write(d->serial_path, serial, why, whylen)) != 0)
		goto out;
	d->serial = serial;
	*out = p;
	p = NULL;
out:
	kxp_close(p);
	return rc;
}

int kxd_policy_start(struct kxd *d)
{
	struct kx_error err;
	char why[KXD_TEXT_MAX];

	if (kxsig_init() != 0) {
		fprintf(stderr, "kxd: cannot initialise libsodium\n");
		return -1;
	}
	if (d->admin_key) {
		if (kxsig_pubkey_load(d->admin_key, &d->admin, &err) != 0) {
			fprintf(stderr, "kxd: %s: %s\n", d->admin_key, err.msg);
			return -1;
		}
		d->has_admin = true;
	}
	if (serial_read(d->serial_path, &d->serial, why, sizeof(why)) != 0 ||
	    policy_load(d, d->policy_path, &d->policy, why, sizeof(why)) != 0) {
		fprintf(stderr, "kxd: %s\n", why);
		return -1;
	}
	return kxd_audit_open(d); /* audit.c: the seal key, the gate and its log */
}

void kxd_policy_close(struct kxd *d)
{
	kxp_close(d->policy);
	d->policy = NULL;
	free(d->policy_path_owned);
	d->policy_path_owned = NULL;
}

/* Append to the report; a report cut at its buffer's size is fine. */
static void say(char *buf, size_t size, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void say(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used = *used + (size_t)n < size ? *used + (size_t)n : size;
}

int kxd_policy_reload(struct kxd *d, const char *path, bool enforce, char *report, size_t size)
{
	struct kxp_policy *p = NULL, *old = d->policy;
	uint64_t was = kxp_serial(old);
	size_t used = 0, running = 0, vanished = 0;
	char *copy = strdup(path ? path : d->policy_path); /* SIGHUP re-reads it */
	int rc;

	report[0] = '\0';
	if (copy == NULL) {
		snprintf(report, size, "out of memory");
		return -ENOMEM;
	}
	rc = policy_load(d, copy, &p, report, size);
	if (rc != 0) {
		free(copy);
		return rc;
	}
	gate_set_policy(d->gate, p);
	d->policy = p;
	kxp_close(old);
	free(d->policy_path_owned);
	d->policy_path = d->policy_path_owned = copy;
	say(report, size, &used, "policy %s loaded: serial %" PRIu64 " (was %" PRIu64 ")",
	    d->policy_path, kxp_serial(p), was);
	for (int i = 0; i < KXD_MAX_PVMS; i++) {
		struct kxd_pvm *v = &d->pvms[i];
		struct kxp_app_info info;

		if (!v->used || v->state == KXD_PVM_EXITED || v->app[0] == '\0')
			continue;
		running++;
		if (kxp_app_lookup(p, v->app, &info) == 0)
			continue;
		vanished++;
		say(report, size, &used, "\npVM %llu: app %s is not in the new policy%s",
		    (unsigned long long)v->id, v->app, enforce ? ": ended" : "; still running");
		if (enforce)
			kxd_pvm_end(d, v, "its app left the policy (kxctl reload --enforce)");
	}
	say(report, size, &used, "\n%zu pVM%s running an app, %zu of them without one in the "
	    "policy%s", running, running == 1 ? "" : "s", vanished,
	    vanished && !enforce ? " (kxctl reload --enforce ends them)" : "");
	kxd_log("%s", report);
	kxd_pool_fill(d); /* pools of apps the new policy added */
	return 0;
}

int kxd_policy_info(const struct kxd *d, char *buf, size_t size)
{
	uint8_t digest[KXSIG_DIGEST_BYTES];
	char hex[2 * KXSIG_DIGEST_BYTES + 1];

	kxp_body_digest(d->policy, digest);
	kxsig_digest_hex(digest, hex);
	snprintf(buf, size, KXD_POLICY_INFO, (unsigned long long)kxp_serial(d->policy), hex,
		 d->policy_path);
	return 0;
}
