/*
 * kxmon/update.c — kxmon's part of an online library update
 * (docs/update.md): UPDATE_PUSH from kxd is kept until a safe point, where
 * hv_ops.update tries it; while the guest is inside the old library
 * (-EBUSY) a one-shot timer raises SIGIO — the signal that already kicks
 * the vCPU out to a safe point when kxd writes — and it is tried again,
 * until the push's deadline.  Then UPDATE_DONE goes back with the outcome,
 * the phase timings and the counts.
 *
 * TEST ONLY: KXMON_TEST_FAIL_UPDATE=STEP (quiesce, load, resolve,
 * variables, share, got, unmap) makes the first update of this kxmon that
 * reaches STEP fail there; kxd passes its environment on to kxmon.  It
 * exists so that every failure path is exercised by the tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manager/kxmon/kxmon.h"

#define RETRY_NS      2000000L /* between two quiescence checks */
#define FAIL_STEP_MAX 16

struct kxmon_update_state {
	bool pending;
	struct kxmon_msg push;
	int fd;
	uint32_t attempts;
	struct timespec start;
	timer_t timer;
	bool has_timer;
	char fail_step[FAIL_STEP_MAX]; /* "" none */
};

static struct kxmon_update_state *state(struct kxmon_client *c)
{
	const char *step;

	if (c->update != NULL)
		return c->update;
	c->update = calloc(1, sizeof(*c->update));
	if (c->update == NULL)
		return NULL;
	c->update->fd = -1;
	step = getenv("KXMON_TEST_FAIL_UPDATE");
	if (step != NULL)
		snprintf(c->update->fail_step, sizeof(c->update->fail_step), "%s", step);
	return c->update;
}

static void answer(struct kxmon_client *c, int rc, const struct hv_update_result *res,
		   const char *text)
{
	struct kxmon_update_state *st = c->update;
	struct kxmon_msg m;

	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_UPDATE_DONE;
	m.seq = st->push.seq;
	m.u.update_done.result = rc;
	m.u.update_done.attempts = st->attempts;
	if (res != NULL) {
		m.u.update_done.got_entries = res->got_entries;
		m.u.update_done.variables = res->variables;
		m.u.update_done.rebased = res->rebased;
		for (unsigned i = 0; i < HV_UPD_PHASES && i < KXMON_UPDATE_PHASES; i++)
			m.u.update_done.phase_ns[i] = res->phase_ns[i];
	}
	snprintf(m.u.update_done.message, sizeof(m.u.update_done.message), "%s", text);
	kxmon_client_send(c, &m);
	close(st->fd);
	st->fd = -1;
	st->pending = false;
}

void kxmon_update_queue(struct kxmon_client *c, const struct kxmon_msg *m, int fd)
{
	struct kxmon_update_state *st = state(c);

	if (st == NULL || st->pending) {
		close(fd);
		snprintf(c->reason, sizeof(c->reason), "channel to kxd: %s",
			 st ? "a second UPDATE_PUSH while one waits" : "out of memory");
		c->broken = 1;
		return;
	}
	st->pending = true;
	st->push = *m;
	st->fd = fd;
	st->attempts = 0;
	clock_gettime(CLOCK_MONOTONIC, &st->start);
}

static uint64_t elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)((now.tv_sec - since->tv_sec) * 1000 +
			  (now.tv_nsec - since->tv_nsec) / 1000000);
}

/* Kick the vCPU out again in RETRY_NS (SIGIO: kxmon's kick). */
static int arm_retry(struct kxmon_update_state *st)
{
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGIO};
	struct itimerspec when = {.it_value = {.tv_nsec = RETRY_NS}};

	if (!st->has_timer) {
		if (timer_create(CLOCK_MONOTONIC, &ev, &st->timer) != 0)
			return -errno;
		st->has_timer = true;
	}
	return timer_settime(st->timer, 0, &when, NULL) != 0 ? -errno : 0;
}

void kxmon_update_safe_point(struct kxmon_client *c, struct hv_vm *vm)
{
	struct kxmon_update_state *st = c->update;
	struct hv_update_result res = {0}; /* a backend may fail before filling it */
	struct hv_error err = {{0}};
	char text[KXMON_TEXT_MAX];
	int rc;

	if (st == NULL || !st->pending || c->broken)
		return;
	struct hv_update_req req = {
		.old_name = st->push.u.update.old_name,
		.fd = st->fd,
		.bind = (st->push.u.update.flags & KXMON_UPDATE_LAZY) ? HV_BIND_LAZY : HV_BIND_NOW,
		.fail_step = st->fail_step[0] ? st->fail_step : NULL,
	};
	if (c->ops->update == NULL) {
		answer(c, -ENOTSUP, NULL, "this backend cannot update libraries");
		return;
	}
	st->attempts++;
	rc = c->ops->update(vm, &req, &res, &err);
	if (rc == -EBUSY && elapsed_ms(&st->start) < st->push.u.update.deadline_ms &&
	    arm_retry(st) == 0)
		return;
	if (rc == -ECANCELED)
		st->fail_step[0] = '\0'; /* the hook fails one update only */
	if (rc == -EBUSY)
		snprintf(text, sizeof(text),
			 "not quiescent: gave up after %u checks in %llu ms; %.400s", st->attempts,
			 (unsigned long long)elapsed_ms(&st->start), err.msg);
	else if (rc == 0)
		snprintf(text, sizeof(text),
			 "%u GOT entries (%u back to lazy), %u variables (%u pointers rebased)",
			 res.got_entries, res.lazy_entries, res.variables, res.rebased);
	else
		snprintf(text, sizeof(text), "%.500s", err.msg);
	answer(c, rc, &res, text);
	if (rc == -EIO)
		c->ops->pause(vm); /* could not be restored: the pVM cannot go on */
}

void kxmon_update_finish(struct kxmon_client *c)
{
	if (c->update == NULL)
		return;
	if (c->update->pending)
		answer(c, -ESRCH, NULL, "the pVM ended first");
	if (c->update->has_timer)
		timer_delete(c->update->timer);
	free(c->update);
	c->update = NULL;
}

void kxmon_update_forget(struct kxmon_client *c)
{
	if (c->update == NULL)
		return;
	if (c->update->pending)
		close(c->update->fd);
	c->update->fd = -1;
	c->update->pending = false;
	c->update->has_timer = false; /* timers are not inherited by fork() */
}
