/*
 * kxd internals: the daemon's state, shared by its files
 *   main.c      options, the policy and gate, the control socket, the loop
 *   control.c   control requests from kxctl
 *   registry.c  the pVM table, spawning kxmon, reaping
 *   chan.c      messages on each pVM's channel
 *   libstore.c  libraries: lookup in the libdirs, sealed memfds by digest
 */
#ifndef KX_MANAGER_KXD_INTERNAL_H
#define KX_MANAGER_KXD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "manager/gate/gate.h"
#include "manager/kxd/kxd.h"

#define KXD_MAX_LIBDIRS 16
#define KXD_MAX_PVMS 256
#define KXD_MAX_CLIENTS 64
#define KXD_MAX_LINKED 32       /* libraries recorded per pVM */
#define KXD_MAX_STORE 1024      /* distinct library contents kept */
#define KXD_IMAGE_MAX ((size_t)256 << 20)
#define KXD_LIB_MAX ((size_t)64 << 20)

struct kxd_linked {
	char name[KXMON_NAME_MAX];
	char version[KXMON_VERSION_MAX];
	uint8_t digest[KXSIG_DIGEST_BYTES];
};

struct kxd_pvm {
	bool used;
	uint64_t id;
	char app[KXD_APP_MAX];
	pid_t pid;       /* kxmon; 0 once reaped */
	int chan;        /* our end of the channel; -1 when closed or none */
	enum kxd_pvm_state state;
	time_t started;
	int status;      /* kxmon's status, 128+N for signal N; -1 while running */
	char report[KXMON_TEXT_MAX]; /* from EXIT, or why kxd ended it */
	int client;      /* the `kxctl run` waiting for the end (index), -1 none */
	struct kxd_linked libs[KXD_MAX_LINKED];
	size_t nlibs;
	uint64_t push_seq;  /* the LINK_PUSH in flight, 0 none */
	int push_client;    /* who waits for its LINK_DONE, -1 none */
	struct kxd_linked push_lib;
	/* Family (docs/kxd.md "Families"): a booted pVM is its family's root. */
	uint64_t parent_id; /* 0: a root */
	uint64_t family_id; /* the root's id */
	uint32_t depth;     /* generations below the root */
	bool forked;        /* made by a fork: pid comes with its HELLO */
	bool waited;        /* its parent collected its status */
	uint64_t wait_seq;  /* a WAIT_REQ of this pVM in flight, 0 none */
	uint64_t wait_child; /* ... for this child */
	uint64_t sig_allowed; /* signal.c: the last pVM the gate let this one signal */
	/* Online update (update.c): the UPDATE_PUSH in flight, 0 none. */
	uint64_t update_seq;
	int update_client;            /* who waits for its UPDATE_DONE, -1 none */
	size_t update_index;          /* the library replaced: libs[update_index] */
	struct kxd_linked update_lib; /* the new one */
	/* Recycling (docs/recycle.md): an empty pVM of pool_app's pool has
	 * app "" and runs only the placeholder until it is recycled. */
	bool pooled;        /* in a pool: not (yet) recycled */
	char pool_app[KXD_APP_MAX];
	/* posix-mon: system calls its guest's layer answered ENOSYS (bit nr) */
	uint64_t enosys[KXMON_ENOSYS_MAX / 64];
};

struct kxd_client {
	int fd;          /* -1: free slot */
	uid_t uid;
};

struct kxd_store_entry {
	uint8_t digest[KXSIG_DIGEST_BYTES]; /* kxsig content digest */
	uint8_t sha[32];                    /* of the exact bytes */
	int memfd;
};

struct kxd {
	/* options */
	const char *policy_path, *admin_key, *socket_path, *audit_path, *monitor;
	const char *libdirs[KXD_MAX_LIBDIRS];
	size_t nlibdirs;
	bool foreground;
	const char *pvm_timeout; /* --pvm-timeout: every kxmon's --timeout; NULL none */
	/* state */
	struct kxp_policy *policy;
	struct gate *gate;
	int listen_fd, signal_fd;
	uid_t owner;
	bool stopping;
	uint64_t next_id, next_seq;
	struct kxd_pvm pvms[KXD_MAX_PVMS];
	struct kxd_client clients[KXD_MAX_CLIENTS];
	struct kxd_store_entry store[KXD_MAX_STORE];
	size_t nstore;
	struct kxd_ipc *ipc; /* IpC objects (ipc.c); NULL until the first */
	/* Pools (pool.c): the placeholder image, read once; -1 = the policy's
	 * pool sizes, else at most pool_max pVMs per app (0: no pools). */
	const char *pool_image;
	long pool_max;
	uint8_t *pool_bytes; /* NULL: no pools */
	size_t pool_len;
	int pool_memfd;      /* sealed copy of pool_bytes, shared by every pooled kxmon */
	bool pool_refill;    /* a pool lost a pVM: top it up when kxd is idle */
	struct timespec pool_refill_since;
};

/* kxd's log lines (stderr): "kxd: ..." */
void kxd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* control.c */
void kxd_client_accept(struct kxd *d);
void kxd_client_readable(struct kxd *d, int ci);
void kxd_client_close(struct kxd *d, int ci);
int kxd_reply(struct kxd *d, int ci, enum kxd_resp_type type, const struct kxd_pvm *p,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* registry.c */
struct kxd_pvm *kxd_pvm_find(struct kxd *d, uint64_t id);
void kxd_pvm_subject(const struct kxd_pvm *p, struct gate_subject *out);
/* Boot image (fd image_fd) as app with argv (and env, NULL-terminated,
 * for kxmon -e; posix-mon); the console to out_fd/err_fd.  0 and *out on
 * success; else -errno/-EACCES with why. */
int kxd_pvm_run(struct kxd *d, int ci, const char *app, int image_fd, int out_fd, int err_fd,
		char *const *argv, char *const *env, struct kxd_pvm **out, char *why,
		size_t whylen);
void kxd_pvm_end(struct kxd *d, struct kxd_pvm *p, const char *why);
/* A fork of parent, allowed by the gate: the child's slot (STARTING, no
 * pid yet) and *child_fd, its end of a new channel (the caller closes it).
 * 0, or -errno with why. */
int kxd_pvm_fork(struct kxd *d, struct kxd_pvm *parent, struct kxd_pvm **child, int *child_fd,
		 char *why, size_t whylen);
/* The parent's counts for gate_fork: its live children, its family's live members. */
void kxd_family_counts(const struct kxd *d, const struct kxd_pvm *parent,
		       struct gate_family_counts *out);
/* A forked pVM whose channel closed before its HELLO: it never started. */
void kxd_pvm_lost(struct kxd *d, struct kxd_pvm *p);
void kxd_reap(struct kxd *d);
void kxd_pvm_forget_client(struct kxd *d, int ci);

/* chan.c */
/* Handle one message; 1 if one was handled, 0 if none was waiting (or the
 * channel closed / was dropped). */
int kxd_chan_readable(struct kxd *d, struct kxd_pvm *p);
/* `kxctl link`: decide for the requester (the running pVM `as`, or the
 * operator when NULL), then LINK_PUSH; the client gets its answer on
 * LINK_DONE.  0, or -errno with why. */
/* Answer p's WAIT_REQ in flight (if any) for child c, which ended. */
void kxd_wait_answer(struct kxd *d, struct kxd_pvm *p, struct kxd_pvm *c);
int kxd_link_push(struct kxd *d, int ci, struct kxd_pvm *p, const struct kxd_pvm *as,
		  const char *lib, char *why, size_t whylen);

/* registry.c: a free slot (or NULL); start kxmon (mon_argv) for a new root
 * pVM of app in slot p, on a new channel, with the console on out_fd and
 * err_fd and the image img_fd; ci the client waiting for it (-1 none).
 * 0, or -errno with why. */
struct kxd_pvm *kxd_pvm_slot(struct kxd *d);
int kxd_pvm_spawn(struct kxd *d, struct kxd_pvm *p, const char *app, int ci, int out_fd,
		  int err_fd, int img_fd, char *const *mon_argv, char *why, size_t whylen);

/* pool.c: read the placeholder and check that the gate boots it (0, or -1
 * after saying why on stderr); boot what every pool lacks (at start, and
 * after each recycled start); free the placeholder. */
int kxd_pool_open(struct kxd *d);
void kxd_pool_fill(struct kxd *d);
void kxd_pool_close(struct kxd *d);
/* The poll timeout of kxd's loop (ms, -1: none): a pending refill waits
 * until kxd is idle (or at most KXD_POOL_REFILL_MAX_MS), so that it never
 * delays the recycled start that caused it.  kxd_pool_idle: poll timed out. */
int kxd_pool_timeout(struct kxd *d);
void kxd_pool_idle(struct kxd *d);
/* A pVM left its pool (recycled, or an idle one ended): refill when idle. */
void kxd_pool_refill_later(struct kxd *d);
/* --pool-max N: 0..KXD_MAX_PVMS.  0 or -EINVAL. */
int kxd_pool_max_parse(const char *text, long *out);

/* recycle.c: `kxctl run --recycle`: gate_recycle, then hand the app to a
 * pooled pVM of its app.  0 and *out, or -errno with why. */
int kxd_recycle_run(struct kxd *d, int ci, const char *app, int lib_fd, int out_fd, int err_fd,
		    char *const *argv, struct kxd_pvm **out, char *why, size_t whylen);

/* signal.c (docs/signals.md): EXIT (the pVM ended: its status is final
 * before its kxmon has torn its VM down), a guest's KILL_REQ (gate_ipc decides),
 * WAIT_CANCEL, a WAIT_REQ for any child (p->wait_seq set), SIGCHLD to the
 * parent of a child that ended, `kxctl kill --signal`; and whether p is a
 * zombie (ended, its running parent has not waited for it): it keeps its
 * slot and counts toward the fork limits. */
void kxd_sig_kill_req(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in);
void kxd_sig_exit_msg(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in);
/* registry.c, for signal.c: p ended with wstatus (as waitpid's) */
void kxd_pvm_ended(struct kxd *d, struct kxd_pvm *p, int wstatus);
void kxd_sig_wait_cancel(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in);
void kxd_sig_wait_any(struct kxd *d, struct kxd_pvm *p);
void kxd_sig_child_ended(struct kxd *d, struct kxd_pvm *child);
void kxd_sig_operator(struct kxd *d, int ci, const struct kxd_req *req);
bool kxd_pvm_zombie(const struct kxd *d, const struct kxd_pvm *p);

/* ipc.c: IpC objects (docs/ipc.md).  An IPC_REQ of p, answered; before a
 * fork of parent, gate_ipc for each object the child would inherit (0, or
 * -EACCES / -EAGAIN with why); after it, the child holds what the parent
 * holds; p ended: its holds go, sleepers wake; everything freed at exit. */
void kxd_ipc_req(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in);
int kxd_ipc_fork_check(struct kxd *d, struct kxd_pvm *parent, char *why, size_t whylen);
void kxd_ipc_fork(struct kxd *d, struct kxd_pvm *parent, struct kxd_pvm *child);
void kxd_ipc_gone(struct kxd *d, struct kxd_pvm *p);
void kxd_ipc_close(struct kxd *d);

/* update.c (docs/update.md): `kxctl update` (gate_update, then
 * UPDATE_PUSH; the client is answered on UPDATE_DONE: 0, or -EBADMSG when
 * none was pushed), and a pVM that ended with an update in flight. */
void kxd_update_request(struct kxd *d, int ci, const struct kxd_req *req, int lib_fd);
int kxd_update_done(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in);
void kxd_update_ended(struct kxd *d, struct kxd_pvm *p);
void kxd_update_forget_client(struct kxd_pvm *p, int ci);

/* libstore.c */
/* Read library `name` from the libdirs into *buf (malloc'd).  -ENOENT etc. */
int kxd_lib_read(struct kxd *d, const char *name, uint8_t **buf, size_t *len, char *why,
		 size_t whylen);
/* The sealed memfd holding exactly bytes (shared: do not close).  -errno. */
int kxd_lib_memfd(struct kxd *d, const struct kxsig_meta *meta, const uint8_t *bytes, size_t len);
/* A new sealed memfd of bytes (the caller closes it).  fd or -errno. */
int kxd_sealed_memfd(const char *name, const uint8_t *bytes, size_t len);
/* Read a whole regular file from fd, at most max bytes.  0 or -errno. */
int kxd_read_fd(int fd, size_t max, uint8_t **buf, size_t *len);
/* Decide a link of lib into pVM p for requester; fill *dec; on ALLOW the
 * verified bytes' memfd in *memfd (shared: do not close).  0 if decided
 * (look at dec->verdict; a DENY is described in why). */
int kxd_lib_decide(struct kxd *d, const struct gate_subject *requester, struct kxd_pvm *p,
		   const char *lib, struct gate_decision *dec, int *memfd, char *why,
		   size_t whylen);
void kxd_store_close(struct kxd *d);
/* "WHAT denied: REASON (rule FILE:LINE)" from a decision (rc: gate's). */
void kxd_describe_denial(const struct gate_decision *dec, int rc, const char *what, char *why,
			 size_t whylen);

#endif /* KX_MANAGER_KXD_INTERNAL_H */
