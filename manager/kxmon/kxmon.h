/*
 * kxmon.h — the monitor program's library (libkxmonitor.a): its end of the
 * channel to kxd (manager/chan), which is the core's manager
 * (struct hv_manager of manager/hv/hv.h).
 *
 * The channel is a SOCK_SEQPACKET socket: one struct kxmon_msg per
 * datagram, file descriptors with SCM_RIGHTS.  Every message from kxd is
 * untrusted input and checked by chan_check_from_kxd before use — and the
 * fds it carries by kind (a sealed memfd, the child's channel) — and a bad
 * one breaks the channel (the pVM then ends: kxd would end it anyway).
 * Messages kxd pushes on its own go to the core (hv_push).  Functions print
 * nothing, except the one report of a recycled start that failed.
 */
#ifndef KX_MANAGER_KXMON_KXMON_H
#define KX_MANAGER_KXMON_KXMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "manager/chan/chan.h"
#include "manager/hv/hv.h"

#define KXMON_CLIENT_WAIT_MS 30000 /* the longest wait for an answer */

struct kxmon_client {
	int fd;		   /* the channel; -1 when none */
	uint64_t next_seq; /* of the next request */
	bool broken;	   /* the channel failed: no more messages */
	char reason[KXMON_TEXT_MAX]; /* why it broke */
	pid_t manager_pid; /* kxd: a forked child must be reparented to it */
	struct hv_pvm *pvm; /* where pushes go (hv_manager_ops.bind) */
	unsigned recycle_timeout; /* a pooled pVM's --timeout: armed when its app starts */
};

/* The core's manager over this client (ctx: the client). */
extern const struct hv_manager_ops kxmon_manager_ops;

/* Start on channel fd: send HELLO.  0 or -errno (reason set). */
int kxmon_client_start(struct kxmon_client *c, int fd);
/* Tell kxd the monitor ends before it had a pVM (EXIT), best effort. */
void kxmon_client_exit(struct kxmon_client *c, int status, const char *report);
/* Close the channel (the core, or kxmon_client_exit, has sent EXIT). */
void kxmon_client_close(struct kxmon_client *c);

/* alarm(secs) by setitimer (the jail allows no alarm(2)); 0 cancels. */
void kxmon_alarm(unsigned secs);

#endif /* KX_MANAGER_KXMON_KXMON_H */
