/*
 * kxmon_client.h — kxmon's end of the channel to kxd (manager/kxmon_chan.h):
 * HELLO, LINK_REQ/LINK_RESP round trips for the linker, LINK_PUSH applied at
 * safe points and answered with LINK_DONE, FORK_REQ/WAIT_REQ for kx_fork
 * and kx_wait, EXIT at the end.
 *
 * Every message from kxd is untrusted input and checked by
 * kxmon_client_check before use; a bad one breaks the channel (the pVM is
 * then ended: kxd would end it anyway).  Functions print nothing: the last
 * failure or denial is in client->reason.
 */
#ifndef KX_MANAGER_KXMON_CLIENT_H
#define KX_MANAGER_KXMON_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "manager/hv/hv.h"
#include "manager/kxmon_chan.h"

#define KXMON_CLIENT_PUSH_QUEUE 4     /* pushes that may wait for a safe point */
#define KXMON_CLIENT_WAIT_MS	30000 /* the longest wait for a LINK_RESP */

struct kxmon_client {
	int fd;		   /* the channel; -1 when none */
	uint64_t next_seq; /* of the next LINK_REQ */
	int broken;	   /* the channel failed: no more messages */
	const struct hv_ops *ops;
	pid_t manager_pid; /* kxd: a forked child must be reparented to it */
	struct kxmon_msg push[KXMON_CLIENT_PUSH_QUEUE];
	int push_fd[KXMON_CLIENT_PUSH_QUEUE];
	unsigned npush;
	uint64_t requests, denials, pushes; /* for kxmon -v */
	char reason[KXMON_TEXT_MAX];	    /* the last denial or failure */
	char denied[KXMON_NAME_MAX];	    /* the library of the last denial */
};

/* Start: send HELLO.  0 or -errno (reason set). */
int kxmon_client_start(struct kxmon_client *c, int fd, const struct hv_ops *ops);

/* hv_link_source callbacks; ctx is the client. */
int kxmon_client_request(void *ctx, const char *name, int at_boot, struct hv_lib_grant *grant,
			 char *why, size_t whylen);
void kxmon_client_safe_point(void *ctx, struct hv_vm *vm);

/* hv_proc_source callbacks; ctx is the client.  kxmon_client_fork returns
 * in two processes after an ALLOW: *child_id is 0 in the child, which then
 * speaks on its own new channel. */
int kxmon_client_fork(void *ctx, uint64_t *child_id, char *why, size_t whylen);
int kxmon_client_wait(void *ctx, uint64_t child_id, int64_t *status);

/* Send EXIT (best effort) and close the channel. */
void kxmon_client_finish(struct kxmon_client *c, int status, int by_guest, uint64_t rip,
			 const char *report);

/*
 * Check one datagram from kxd (untrusted): len bytes, nfds descriptors,
 * fds[0] the first.  expect_seq is the seq of the LINK_REQ in flight (a
 * LINK_RESP must match it, and `name` when not NULL), 0 when none.
 * 0 when well formed, else -EBADMSG with why.
 */
int kxmon_client_check(const void *buf, size_t len, int nfds, uint64_t expect_seq, const char *name,
		       char *why, size_t whylen);

/* Is fd a sealed memfd (write, shrink, grow)? */
int kxmon_client_sealed(int fd);

#endif /* KX_MANAGER_KXMON_CLIENT_H */
