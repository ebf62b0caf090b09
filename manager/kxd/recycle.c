/*
 * `kxctl run --recycle APP_LIB [ARGS...]` (docs/recycle.md): start an app
 * built as a shared library in an empty pVM of its app's pool instead of
 * booting an image.
 *
 * The gate decides gate_recycle with the empty pVM as both the loader and
 * the pVM loaded into (the policy admits no other loader), on the exact
 * bytes kxd then hands over as a sealed memfd.  Nothing is sent before the
 * ALLOW: a denied start leaves the pooled pVM waiting, untouched.  On ALLOW
 * the pVM becomes a pVM of the app (a new family root) for good: it is out
 * of the pool, and the pool is topped up with a freshly booted one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manager/kxd/internal.h"

/* The app: the one asked for, else the name the library is signed with
 * (unverified here: gate_recycle verifies it).  0, or -EINVAL. */
static int app_of(const char *asked, const uint8_t *lib, size_t len, char *app, size_t size)
{
	struct kxsig_meta meta;
	struct kx_error err;

	if (asked[0])
		snprintf(app, size, "%s", asked);
	else if (kxsig_read(lib, len, &meta, &err) == 0 && meta.name[0])
		snprintf(app, size, "%s", meta.name);
	else
		return -EINVAL;
	return 0;
}

/* A pooled pVM of app whose placeholder waits (RECYCLE_READY came). */
static struct kxd_pvm *ready_pvm(struct kxd *d, const char *app)
{
	for (int i = 0; i < KXD_MAX_PVMS; i++) {
		struct kxd_pvm *p = &d->pvms[i];

		if (p->used && p->pooled && p->state == KXD_PVM_POOLED && p->chan >= 0 &&
		    strcmp(p->pool_app, app) == 0)
			return p;
	}
	return NULL;
}

/* argv into a RECYCLE_APP body.  0, or -E2BIG. */
static int pack_args(char *const *argv, struct kxmon_recycle_app *a)
{
	size_t used = 0;

	for (a->argc = 0; argv[a->argc]; a->argc++) {
		size_t n = strlen(argv[a->argc]) + 1;

		if (a->argc == KXMON_RECYCLE_ARGC_MAX || n > sizeof(a->args) - used)
			return -E2BIG;
		memcpy(a->args + used, argv[a->argc], n);
		used += n;
	}
	a->args_len = (uint32_t)used;
	return 0;
}

/* CONSOLE then APP on the pooled pVM's channel.  0 or -errno. */
static int hand_over(struct kxd *d, struct kxd_pvm *p, struct kxmon_msg *app_msg, int memfd,
		     int out_fd, int err_fd)
{
	struct kxmon_msg console;
	int fds[2] = { out_fd, err_fd }, rc;

	memset(&console, 0, sizeof(console));
	console.type = KXMON_MSG_RECYCLE_CONSOLE;
	console.size = sizeof(console);
	rc = kxd_chan_send(d, p, &console, sizeof(console), fds, 2);
	if (rc == 0)
		rc = kxd_chan_send(d, p, app_msg, sizeof(*app_msg), &memfd, 1);
	return rc;
}

int kxd_recycle_run(struct kxd *d, int ci, const char *asked_app, int lib_fd, int out_fd,
		    int err_fd, char *const *argv, struct kxd_pvm **out, char *why, size_t whylen)
{
	struct gate_subject empty;
	struct gate_decision dec;
	struct kxmon_msg msg;
	struct kxd_pvm *p;
	char app[KXD_APP_MAX];
	uint8_t *lib = NULL;
	size_t len = 0;
	int memfd, rc;

	rc = kxd_read_fd(lib_fd, KXD_LIB_MAX, &lib, &len);
	if (rc != 0) {
		snprintf(why, whylen, "%s: %s", argv[0],
			 rc == -EINVAL  ? "not a regular file"
			 : rc == -EFBIG ? "empty, or larger than 64 MiB"
					: strerror(-rc));
		goto out;
	}
	rc = app_of(asked_app, lib, len, app, sizeof(app));
	if (rc != 0) {
		snprintf(why, whylen, "%s: not signed: name its app with --app", argv[0]);
		goto out;
	}
	memset(&msg, 0, sizeof(msg));
	rc = pack_args(argv, &msg.u.recycle);
	if (rc != 0) {
		snprintf(why, whylen, "a recycled start takes at most %d arguments of %d bytes "
			 "in all", KXMON_RECYCLE_ARGC_MAX, KXMON_RECYCLE_ARGS_MAX);
		goto out;
	}
	p = ready_pvm(d, app);
	if (!p) {
		snprintf(why, whylen, "no pooled pVM of app %s is ready (no pool for it, or all "
			 "in use or still booting): start it without --recycle", app);
		rc = -EAGAIN;
		goto out;
	}
	kxd_pvm_subject(p, &empty);
	rc = gate_recycle(d->gate, &empty, &empty, app, lib, len, &dec);
	if (rc != 0 || dec.verdict != KXP_ALLOW) {
		char what[KXD_APP_MAX + 48];

		snprintf(what, sizeof(what), "recycle of pVM %llu into %s",
			 (unsigned long long)p->id, app);
		kxd_describe_denial(&dec, rc, what, why, whylen);
		rc = -EACCES;
		goto out;
	}
	memfd = kxd_lib_memfd(d, &dec.meta, lib, len); /* shared: not ours to close */
	if (memfd < 0) {
		rc = memfd;
		snprintf(why, whylen, "cannot hand %s over: %s", app, strerror(-rc));
		goto out;
	}
	msg.type = KXMON_MSG_RECYCLE_APP;
	msg.size = sizeof(msg);
	msg.seq = d->next_seq++;
	snprintf(msg.u.recycle.name, sizeof(msg.u.recycle.name), "%s", app);
	snprintf(msg.u.recycle.version, sizeof(msg.u.recycle.version), "%s", dec.meta.version);
	memcpy(msg.u.recycle.digest, dec.meta.digest, sizeof(msg.u.recycle.digest));
	/* From here on the pVM is the app's, even if the hand-over fails. */
	snprintf(p->app, sizeof(p->app), "%s", app);
	p->pooled = false;
	kxd_jail_recycled(d, p);
	p->state = KXD_PVM_RUNNING;
	kxd_pool_refill_later(d); /* the pool lost it, whether the hand-over works or not */
	p->started = time(NULL);
	snprintf(p->libs[0].name, sizeof(p->libs[0].name), "%s", dec.meta.name);
	snprintf(p->libs[0].version, sizeof(p->libs[0].version), "%s", dec.meta.version);
	memcpy(p->libs[0].digest, dec.meta.digest, sizeof(p->libs[0].digest));
	p->nlibs = 1;
	rc = hand_over(d, p, &msg, memfd, out_fd, err_fd);
	if (rc != 0) {
		snprintf(why, whylen, "pVM %llu: cannot hand %s over: %s", (unsigned long long)p->id,
			 app, strerror(-rc));
		kxd_pvm_end(d, p, why);
		goto out;
	}
	p->client = ci;
	*out = p;
out:
	free(lib);
	return rc;
}
