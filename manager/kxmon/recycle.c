/*
 * kxmon/recycle.c — kxmon's side of recycling (docs/recycle.md): the
 * hv_recycle_source of a pooled pVM.
 *
 * A pooled kxmon runs the placeholder image, which waits in
 * KX_HC_RECYCLE_WAIT.  Only then does kxmon say RECYCLE_READY, so kxd
 * never hands an app to a pVM that is not waiting for one.  kxd answers,
 * once gate_recycle has allowed an app, with RECYCLE_CONSOLE (the client's
 * stdout and stderr, which replace kxmon's own: the app's console and
 * kxmon's reports go to whoever ran `kxctl run --recycle`) and RECYCLE_APP
 * (the app library as a sealed memfd, and its argv).  Both are untrusted
 * input, checked by chan_check_from_kxd before use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "manager/kxmon/kxmon.h"

_Static_assert(KXMON_RECYCLE_ARGS_MAX == HV_RECYCLE_ARGS_MAX &&
		       KXMON_RECYCLE_ARGC_MAX == HV_RECYCLE_ARGC_MAX &&
		       KXMON_NAME_MAX == KX_HC_NAME_MAX + 1,
	       "the channel's recycle limits are the monitor's");

/* The client's console becomes this process's stdout and stderr. */
static int take_console(const int *fds, char *why, size_t whylen)
{
	int rc = 0;

	if (dup2(fds[0], STDOUT_FILENO) < 0 || dup2(fds[1], STDERR_FILENO) < 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot take the console: %s", strerror(errno));
	}
	close(fds[0]);
	close(fds[1]);
	return rc;
}

int kxmon_recycle_take(void *ctx, struct hv_recycle_order *order, struct hv_recycle_work *work,
		       char *why, size_t whylen)
{
	struct kxmon_client *c = ctx;
	struct kxmon_msg m;
	int fds[3], nfds = 0, rc, have_console = 0; /* room for kxmon_client_next's most */

	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_RECYCLE_READY;
	if (kxmon_client_send(c, &m) != 0)
		goto broken;
	for (;;) {
		rc = kxmon_client_next(c, -1, &m, fds, &nfds);
		if (rc <= 0)
			goto broken;
		if (m.type == KXMON_MSG_RECYCLE_CONSOLE && !have_console) {
			rc = take_console(fds, why, whylen);
			if (rc != 0)
				return rc;
			have_console = 1;
			continue;
		}
		if (m.type == KXMON_MSG_RECYCLE_APP && have_console)
			break;
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		snprintf(why, whylen, "channel to kxd: message %u out of turn while waiting for "
			 "an app", m.type);
		return -EPROTO;
	}
	snprintf(order->name, sizeof(order->name), "%s", m.u.recycle.name);
	order->fd = fds[0];
	order->bind = HV_BIND_NOW;
	work->argc = m.u.recycle.argc;
	work->args_len = m.u.recycle.args_len;
	memcpy(work->args, m.u.recycle.args, m.u.recycle.args_len);
	return 0;
broken:
	snprintf(why, whylen, "%s", c->reason);
	return -EPIPE;
}

/* The app runs from here on: kxmon --timeout counts from now, not from the
 * pool pVM's boot. */
void kxmon_recycle_started(void *ctx, int rc, const char *why)
{
	const struct kxmon_client *c = ctx;

	if (rc != 0)
		fprintf(stderr, "kxmon: recycle: %s\n", why);
	else if (c->recycle_timeout)
		alarm(c->recycle_timeout);
}
