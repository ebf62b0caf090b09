/*
 * update_mod.c — the module "update": online library update as kxd orders
 * it (docs/update.md).  kxd, after gate_update allowed it, pushes
 * UPDATE_PUSH with a sealed memfd of the new library; at the next safe
 * point the core tries hv_update, and while the guest is still inside the
 * old library (-EBUSY) it tries again every RETRY_NS (a timer kicks the
 * vCPU out to a safe point) until the push's deadline; then it answers
 * UPDATE_DONE.  The update itself is update.c and update_vars.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manager/hv/linker.h"

#define RETRY_NS      2000000L /* between two quiescence checks */
#define FAIL_STEP_MAX 16

struct hv_update_state {
	bool pending;
	struct kxmon_msg push;
	int fd;
	uint32_t attempts;
	struct timespec start;
	timer_t timer;
	bool has_timer;
	char fail_step[FAIL_STEP_MAX]; /* "" none */
};

int hv_update(struct hv_pvm *p, const struct hv_update_req *req, struct hv_update_result *res,
	      struct kx_error *err)
{
	struct update_cpu cpu;
	struct hv_vcpu st;
	int rc;

	memset(res, 0, sizeof(*res));
	if (p->linker == NULL || p->linker->end == 0)
		return kx_err(err, -EPERM, "this pVM has no linker (started without a channel)");
	rc = hv_get_vcpu(p, &st, HV_VCPU_REGS, err);
	if (rc != 0)
		return rc;
	cpu = (struct update_cpu){
		.rip = st.rip,
		.rsp = st.gpr[4],
		.rbp = st.gpr[5],
		.stack_lo = p->stack_base,
		.stack_hi = p->stack_base + p->stack_size,
	};
	/* While a handler runs, the state it interrupted is resumed by
	 * KX_HC_SIGRETURN: it must stay valid. */
	cpu.in_handler = hv_signal_interrupted_state(p, &cpu.int_rip, &cpu.int_rbp);
	return linker_update(p->linker, &cpu, req, res, err);
}

static struct hv_update_state *state_of(struct hv_pvm *p)
{
	if (p->update != NULL)
		return p->update;
	p->update = calloc(1, sizeof(*p->update));
	if (p->update == NULL)
		return NULL;
	p->update->fd = -1;
	if (p->update_fail_step != NULL)
		snprintf(p->update->fail_step, sizeof(p->update->fail_step), "%s",
			 p->update_fail_step);
	return p->update;
}

static void answer(struct hv_pvm *p, int rc, const struct hv_update_result *res,
		   const char *text)
{
	struct hv_update_state *st = p->update;
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
	hv_mgr_send(p, &m);
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	st->pending = false;
}

/* One UPDATE_PUSH at a time: a second while one waits breaks the channel. */
static int update_push(struct hv_pvm *p, const struct kxmon_msg *m, const int *fds, int nfds)
{
	struct hv_update_state *st = state_of(p);

	if (st == NULL || st->pending || nfds != 1) {
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		return -EPROTO;
	}
	st->pending = true;
	st->push = *m;
	st->fd = fds[0];
	st->attempts = 0;
	clock_gettime(CLOCK_MONOTONIC, &st->start);
	return 0;
}

static uint64_t elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)((now.tv_sec - since->tv_sec) * 1000 +
			  (now.tv_nsec - since->tv_nsec) / 1000000);
}

/* Come back to a safe point in RETRY_NS: the monitor's kick signal. */
static int arm_retry(struct hv_pvm *p, struct hv_update_state *st)
{
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = p->kick_signal};
	struct itimerspec when = {.it_value = {.tv_nsec = RETRY_NS}};

	if (p->kick_signal == 0)
		return -ENOSYS;
	if (!st->has_timer) {
		if (timer_create(CLOCK_MONOTONIC, &ev, &st->timer) != 0)
			return -errno;
		st->has_timer = true;
	}
	return timer_settime(st->timer, 0, &when, NULL) != 0 ? -errno : 0;
}

static void update_safe_point(struct hv_pvm *p)
{
	struct hv_update_state *st = p->update;
	struct hv_update_result res = {0}; /* the update may fail before filling it */
	struct kx_error err = {{0}};
	char text[KXMON_TEXT_MAX];
	int rc;

	if (st == NULL || !st->pending)
		return;
	struct hv_update_req req = {
		.old_name = st->push.u.update.old_name,
		.fd = st->fd,
		.bind = (st->push.u.update.flags & KXMON_UPDATE_LAZY) ? HV_BIND_LAZY : HV_BIND_NOW,
		.fail_step = st->fail_step[0] ? st->fail_step : NULL,
	};
	st->attempts++;
	rc = hv_update(p, &req, &res, &err);
	if (rc == -EBUSY && elapsed_ms(&st->start) < st->push.u.update.deadline_ms &&
	    arm_retry(p, st) == 0)
		return;
	if (rc == -ECANCELED)
		st->fail_step[0] = '\0'; /* the hook fails one update only */
	if (rc == -EBUSY)
		snprintf(text, sizeof(text),
			 "not quiescent: gave up after %u checks in %llu ms; %.400s", st->attempts,
			 (unsigned long long)elapsed_ms(&st->start), err.msg);
	else if (rc == 0 && res.no_ptrmap)
		snprintf(text, sizeof(text),
			 "%u GOT entries (%u back to lazy), %u variables (copied verbatim: the old "
			 "library has no pointer map)",
			 res.got_entries, res.lazy_entries, res.variables);
	else if (rc == 0)
		snprintf(text, sizeof(text),
			 "%u GOT entries (%u back to lazy), %u variables (%u pointers rebased, "
			 "%u untyped copied verbatim)",
			 res.got_entries, res.lazy_entries, res.variables, res.rebased, res.untyped);
	else
		snprintf(text, sizeof(text), "%.500s", err.msg);
	answer(p, rc, &res, text);
	if (rc == -EIO) /* could not be restored: the pVM cannot go on */
		hv_stop(p, &(struct hv_end){.reason = HV_END_INTERNAL,
					    .detail = "an update could not be undone"});
}

static void update_finish(struct hv_pvm *p)
{
	if (p->update != NULL && p->update->pending)
		answer(p, -ESRCH, NULL, "the pVM ended first");
}

/* A forked child: the parent's update is the parent's (and timers are not
 * inherited by fork()). */
static void update_fork_child(struct hv_pvm *p)
{
	if (p->update == NULL)
		return;
	if (p->update->pending && p->update->fd >= 0)
		close(p->update->fd);
	p->update->fd = -1;
	p->update->pending = false;
	p->update->has_timer = false;
}

static void update_destroy(struct hv_pvm *p)
{
	if (p->update == NULL)
		return;
	if (p->update->has_timer)
		timer_delete(p->update->timer);
	if (p->update->fd >= 0)
		close(p->update->fd);
	free(p->update);
	p->update = NULL;
}

static const uint32_t pushes[] = {KXMON_MSG_UPDATE_PUSH};

const struct hv_module hv_mod_update = {
	.name = "update",
	.push_types = pushes,
	.npush_types = sizeof(pushes) / sizeof(pushes[0]),
	.push = update_push,
	.safe_point = update_safe_point,
	.fork_child = update_fork_child,
	.finish = update_finish,
	.destroy = update_destroy,
};
