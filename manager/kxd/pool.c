/*
 * Recycle pools (docs/recycle.md).  For every app whose policy says
 * `recycle: {allow: true, pool: N}`, kxd keeps N (at most --pool-max)
 * empty pVMs booted: each runs only the placeholder image given with
 * --pool-image, signed as app KXD_POOL_APP and booted through gate_boot
 * like any image (one audit record per pool pVM), with the memory of the
 * app it is pooled for.  A pooled pVM has no app ("" in the registry, no
 * app in its gate subject) until `kxctl run --recycle` hands it one
 * (recycle.c); it never returns to a pool.  Pools are filled at start and
 * topped up after each recycled start.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manager/kxd/internal.h"

#define KXD_POOL_APP "kxpool" /* the placeholder's app name, signed and in the policy */

/* One gate_boot of the placeholder, as kxd's own uid. */
static int check_boot(struct kxd *d, char *why, size_t whylen)
{
	struct gate_subject self = { .kind = GATE_SUBJECT_OPERATOR, .uid = d->owner };
	struct gate_decision dec;
	int rc = gate_boot(d->gate, &self, KXD_POOL_APP, d->pool_bytes, d->pool_len, &dec);

	if (rc == 0 && dec.verdict == KXP_ALLOW)
		return 0;
	kxd_describe_denial(&dec, rc, "boot of the pool placeholder " KXD_POOL_APP, why, whylen);
	return -EACCES;
}

int kxd_pool_open(struct kxd *d)
{
	char why[KXD_TEXT_MAX];
	int fd, rc;

	d->pool_memfd = -1;
	if (!d->pool_image || d->pool_max == 0)
		return 0;
	fd = open(d->pool_image, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "kxd: --pool-image %s: %s\n", d->pool_image, strerror(errno));
		return -1;
	}
	rc = kxd_read_fd(fd, KXD_IMAGE_MAX, &d->pool_bytes, &d->pool_len);
	close(fd);
	if (rc != 0) {
		fprintf(stderr, "kxd: --pool-image %s: %s\n", d->pool_image,
			rc == -EINVAL ? "not a regular file" : strerror(-rc));
		return -1;
	}
	if (check_boot(d, why, sizeof(why)) != 0) {
		fprintf(stderr, "kxd: --pool-image %s: %s\n", d->pool_image, why);
		return -1;
	}
	d->pool_memfd = kxd_sealed_memfd(KXD_POOL_APP, d->pool_bytes, d->pool_len);
	if (d->pool_memfd < 0) {
		fprintf(stderr, "kxd: --pool-image %s: %s\n", d->pool_image,
			strerror(-d->pool_memfd));
		return -1;
	}
	return 0;
}

void kxd_pool_close(struct kxd *d)
{
	if (d->pool_bytes && d->pool_memfd >= 0)
		close(d->pool_memfd);
	free(d->pool_bytes);
	d->pool_bytes = NULL;
}

/* Boot one empty pVM for app's pool: console to /dev/null and kxd's log. */
static int pool_boot(struct kxd *d, const char *app, uint64_t memory)
{
	char mem[32], why[KXD_TEXT_MAX];
	char *mon_argv[] = { (char *)d->monitor, (char *)"--channel", (char *)"4",
			     (char *)"--image-fd", (char *)"3", (char *)"--image-name",
			     (char *)KXD_POOL_APP, (char *)"-m", mem, (char *)"--backend",
			     (char *)d->backend, (char *)"--pool",
			     /* --pvm-timeout: counted from the recycled start (kxmon --pool) */
			     (char *)(d->pvm_timeout ? "--timeout" : NULL), (char *)d->pvm_timeout,
			     NULL };
	struct kxd_pvm *p = kxd_pvm_slot(d);
	int null_fd, rc;

	if (!p) {
		kxd_log("pool of %s: no free pVM slot (%d)", app, KXD_MAX_PVMS);
		return -EAGAIN;
	}
	rc = check_boot(d, why, sizeof(why));
	if (rc != 0) {
		kxd_log("pool of %s: %s", app, why);
		return rc;
	}
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)memory);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null_fd < 0) {
		kxd_log("pool of %s: /dev/null: %s", app, strerror(errno));
		return -errno;
	}
	rc = kxd_pvm_spawn(d, p, "", -1, null_fd, STDERR_FILENO, d->pool_memfd, mon_argv, why,
			   sizeof(why));
	close(null_fd);
	if (rc != 0) {
		kxd_log("pool of %s: %s", app, why);
		return rc;
	}
	p->pooled = true;
	snprintf(p->pool_app, sizeof(p->pool_app), "%s", app);
	return 0;
}

void kxd_pool_fill(struct kxd *d)
{
	const char *app;

	if (!d->pool_bytes)
		return;
	for (size_t i = 0; (app = kxp_app_name_at(d->policy, i)) != NULL; i++) {
		struct kxp_app_info info;
		long want, have = 0;

		if (kxp_app_lookup(d->policy, app, &info) != 0 || !info.recycle_allow)
			continue;
		want = info.recycle_pool;
		if (d->pool_max >= 0 && want > d->pool_max)
			want = d->pool_max;
		for (int j = 0; j < KXD_MAX_PVMS; j++) {
			const struct kxd_pvm *p = &d->pvms[j];

			if (p->used && p->pooled && p->state != KXD_PVM_EXITED &&
			    strcmp(p->pool_app, app) == 0)
				have++;
		}
		while (have < want && pool_boot(d, app, info.memory) == 0)
			have++;
	}
}

int kxd_pool_max_parse(const char *text, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || n < 0 || n > KXD_MAX_PVMS)
		return -EINVAL;
	*out = n;
	return 0;
}

#define KXD_POOL_IDLE_MS 2         /* kxd counts as idle after this long without a message */
#define KXD_POOL_REFILL_MAX_MS 100 /* ... but a refill waits no longer than this */

int kxd_pool_timeout(struct kxd *d)
{
	struct timespec now;
	long waited_ms;

	if (!d->pool_refill)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	waited_ms = (now.tv_sec - d->pool_refill_since.tv_sec) * 1000 +
		    (now.tv_nsec - d->pool_refill_since.tv_nsec) / 1000000;
	if (waited_ms < KXD_POOL_REFILL_MAX_MS)
		return KXD_POOL_IDLE_MS;
	kxd_pool_idle(d);
	return -1;
}

void kxd_pool_refill_later(struct kxd *d)
{
	if (d->pool_refill || d->stopping)
		return;
	d->pool_refill = true;
	clock_gettime(CLOCK_MONOTONIC, &d->pool_refill_since);
}

void kxd_pool_idle(struct kxd *d)
{
	d->pool_refill = false;
	kxd_pool_fill(d);
}
