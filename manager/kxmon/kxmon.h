/*
 * kxmon/kxmon.h — kxmon's end of the channel to kxd (manager/chan/chan.h):
 * HELLO, LINK_REQ/LINK_RESP round trips for the linker, LINK_PUSH applied at
 * safe points and answered with LINK_DONE, FORK_REQ/WAIT_REQ for kx_fork
 * and kx_wait, EXIT at the end.
 *
 * Every message from kxd is untrusted input and checked by
 * chan_check_from_kxd (manager/chan) before use; a bad one breaks the channel (the pVM is
 * then ended: kxd would end it anyway).  Functions print nothing: the last
 * failure or denial is in client->reason.
 */
#ifndef KX_MANAGER_KXMON_CLIENT_H
#define KX_MANAGER_KXMON_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include "manager/hv/hv.h"
#include "manager/chan/chan.h"

#define KXMON_CLIENT_PUSH_QUEUE 4     /* pushes that may wait for a safe point */
#define KXMON_CLIENT_WAIT_MS	30000 /* the longest wait for a LINK_RESP */

/* Signals of this pVM (kxmon/signal.c, docs/signals.md). */
struct kxmon_sig_state {
	uint32_t pending;	   /* bit N: signal N waits for a safe point */
	uint64_t handler[KX_NSIG]; /* KX_SIG_DFL, KX_SIG_IGN or the guest's handler */
	uint64_t trampoline;	   /* where a handler is entered (the guest runtime's) */
	uint32_t ended_by;	   /* a default action ended the pVM: the signal */
	uint64_t ended_from;	   /* ... sent by this pVM (0: an operator or kxd) */
	uint64_t from[KX_NSIG];	   /* the sender of each pending signal */
	int handled;		   /* a handler ran since kx_pause last returned */
};

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
	unsigned recycle_timeout; /* a pooled pVM's --timeout: armed when its app starts */
	struct kxmon_sig_state sig;
	struct kxmon_update_state *update; /* kxmon/update.c; NULL: none yet */
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
/* kxmon/signal.c: the waitx hook without flags (may be -EINTR) */
int kxmon_client_wait(void *ctx, uint64_t child_id, int64_t *status);

/* Send EXIT (best effort) and close the channel. */
void kxmon_client_finish(struct kxmon_client *c, int status, int by_guest, uint64_t rip,
			 const char *report);


/* Send one message (size filled in); 0 or -EPIPE (broken). */
int kxmon_client_send(struct kxmon_client *c, struct kxmon_msg *m);
/* Receive one unsolicited, checked message (timeout_ms -1: forever): 1 with
 * *m and its fds (the caller owns them; room for 3), 0 if none came in time,
 * -EPIPE. */
int kxmon_client_next(struct kxmon_client *c, int timeout_ms, struct kxmon_msg *m, int *fds,
		      int *nfds);

/* Recycling (kxmon/recycle.c, docs/recycle.md): the hv_recycle_source of a
 * pooled pVM (ctx is the client), and the check of RECYCLE_CONSOLE and
 * RECYCLE_APP bodies (untrusted; 0 or -EBADMSG with why). */
int kxmon_recycle_take(void *ctx, struct hv_recycle_order *order, struct hv_recycle_work *work,
		       char *why, size_t whylen);
void kxmon_recycle_started(void *ctx, int rc, const char *why);

/* One message while the request seq is in flight (seq 0: none), waiting
 * at most timeout_ms (-1: forever; EINTR is not retried).  LINK_PUSH and
 * SIGNAL messages are kept for the safe point: 2.  1 with *m (an answer;
 * its fds are the caller's), 0 when nothing came, -EPIPE (broken). */
int kxmon_client_answer(struct kxmon_client *c, uint64_t seq, int timeout_ms,
			struct kxmon_msg *m, int *fds, int *nfds);

/* Signals (kxmon/signal.c): the hv_sig_source parts (ctx: the client),
 * the check of SIGNAL and KILL_RESP bodies (untrusted: 0 or -EBADMSG with
 * why), keeping a SIGNAL pending, delivering at a safe point, and the
 * report of a pVM a signal ended (its status 128+N). */
extern const struct hv_sig_hooks kxmon_sig_hooks;
int kxmon_signal_interrupted(void *ctx);
void kxmon_signal_queue(struct kxmon_client *c, const struct kxmon_msg *m);
void kxmon_signal_deliver(struct kxmon_client *c, struct hv_vm *vm);
int kxmon_signal_report(const struct kxmon_client *c, char *line, size_t size);
/* Set by kxmon's SIGALRM handler: blocking calls give up (the pVM ends). */
extern volatile sig_atomic_t kxmon_sig_timed_out;

/* Send request m (type and body set; seq is assigned) and wait for its
 * answer of type resp_type (pushes and signals wait for the safe point):
 * 0 with *m and *fd (-1: none came), or -EPIPE. */
int kxmon_client_call(struct kxmon_client *c, struct kxmon_msg *m, uint32_t resp_type, int *fd);

/* IpC objects (kxmon/ipc.c, docs/ipc.md): the hv_ipc_source request (ctx:
 * the client) and the check of an IPC_RESP body (untrusted: 0 or -EBADMSG
 * with why). */
int kxmon_ipc_request(void *ctx, const struct hv_ipc_order *order, struct hv_ipc_grant *grant,
		      char *why, size_t whylen);

/* Online update (kxmon/update.c, docs/update.md): the check of an
 * UPDATE_PUSH body (untrusted: 0 or -EBADMSG with why); keeping one (its
 * fd consumed; a second while one waits breaks the channel); applying it
 * at a safe point, retried (a timer kicks the vCPU) until the guest is off
 * the old library or the deadline passed, then UPDATE_DONE; answering it
 * -ESRCH when the pVM ends first (and freeing what it kept); dropping it in
 * a forked child. */
struct kxmon_update_state;
void kxmon_update_queue(struct kxmon_client *c, const struct kxmon_msg *m, int fd);
void kxmon_update_safe_point(struct kxmon_client *c, struct hv_vm *vm);
void kxmon_update_finish(struct kxmon_client *c);
void kxmon_update_forget(struct kxmon_client *c);


#endif /* KX_MANAGER_KXMON_CLIENT_H */
