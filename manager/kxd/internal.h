/*
 * kxd internals: the daemon's state, shared by its files
 *   main.c      options, the policy and gate, the control socket, the loop
 *   control.c   control requests from kxctl
 *   registry.c  the pVM table, spawning kxmon, reaping
 *   chan.c      messages on each pVM's channel
 *   libstore.c  libraries: lookup in the libdirs, sealed memfds by digest
 *   policy.c    the policy: serial (anti-replay), reload
 *   audit.c     the audit log: kxd's seal key, seals, rotation
 *   audit_commit.c  group commit: one flush per round of the loop, answers after it
 *   jail.c      the monitors' jail: ids, cgroups, a jail's kill reported
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

/* The network interface kxd attached (net.c), and what its monitor reported. */
struct kxd_pvm_net {
	bool attached;
	char iface[KXP_NET_IFNAME_MAX];
	char tap[16];
	uint32_t addr;
	uint8_t prefix;
	uint64_t tx, rx, drops[KXMON_NET_KINDS];
	uint32_t audited; /* kinds whose first drop is in the audit log */
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
	struct kxd_pvm_net net; /* network (net.c) */
	/* Host directories (files.c): the booting monitor asks mount 0, 1, ...
	 * in order until kxd's "no more" or a denial; then they are settled
	 * and any later FS_MOUNT_REQ is malformed (chan.c). */
	uint32_t mounts_next;
	bool mounts_settled;
	uint32_t boot_links; /* LINK_REQs marked at_boot: chan.c boot_link_expected */
	/* kxd_pvm_end of a networked pVM: its kxmon was asked (SIGTERM) to end
	 * it and reset its TCP peers; SIGKILL if it has not by then. */
	bool ending;
	bool ending_killed;           /* ... and past its grace: SIGKILL sent */
	struct timespec ending_since; /* CLOCK_MONOTONIC */
	/* The audit rate (audit.c): a token bucket of guest requests the gate
	 * would record; refill time 0: not started (full). */
	double audit_tokens;
	struct timespec audit_refill;     /* CLOCK_MONOTONIC */
	uint64_t audit_suppressed;        /* refused, not yet in a "suppressed" record */
	uint64_t audit_suppressed_total;  /* refused over its life (kxctl list) */
	/* posix-mon: system calls its guest's layer answered ENOSYS (bit nr) */
	uint64_t enosys[KXMON_ENOSYS_MAX / 64];
};

/* Answers a client has not read yet (control.c): kxd never blocks on a
 * client.  Room for a whole LIST; a client that lets more pile up is
 * dropped. */
#define KXD_CLIENT_QUEUE_MAX (KXD_MAX_PVMS + 8)

struct kxd_client {
	int fd;          /* -1: free slot; non-blocking */
	uid_t uid;
	bool held;       /* answers queued behind a record not yet durable (audit_commit.c) */
	struct kxd_resp *queue; /* KXD_CLIENT_QUEUE_MAX answers, allocated when first needed */
	size_t qhead, qlen;
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
	/* the policy (policy.c): the admin key, if any, loaded once; the
	 * highest serial ever loaded, kept in serial_path */
	const char *serial_path;  /* --serial-file, else policy.serial beside the audit log */
	char *policy_path_owned;  /* policy_path after a reload named a new file */
	bool has_admin;
	struct kxsig_pubkey admin;
	uint64_t serial;
	uint32_t jail_lo, jail_hi; /* --jail-ids: the monitors' uids/gids */
	bool no_jail;              /* --no-jail: unsafe, debugging only */
	/* network (net.c): where TAPs are made, and the bridge they join */
	const char *net_netns, *net_bridge;
	const char *backend;	 /* --backend: every kxmon's, named in the audit records */
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
	/* The audit log (audit.c): kxd's seal key, the seal interval, the last seal. */
	const char *audit_key_path; /* --audit-key; NULL: audit-seal.key beside the log */
	long audit_seal_ms;         /* --audit-seal */
	struct gate_opts audit_opts; /* --audit-sync; the seal key is added at open */
	struct kxsig_seckey *seal_key;
	char seal_keyid[2 * KXSIG_KEYID_BYTES + 1];
	struct timespec sealed_at;  /* CLOCK_MONOTONIC */
	unsigned audit_rate, audit_burst; /* --audit-rate R/B: per pVM */
	uint64_t denials_before;          /* the gate's DENY count before a guest request */
	uint64_t records_before;          /* and its record count */
	struct timespec suppress_flushed; /* the last write of suppressed counts */
	/* Group commit (audit_commit.c): channel messages waiting for the flush */
	struct kxd_held_msg *held;
	size_t held_len, held_cap;
};

/* kxd's log lines (stderr): "kxd: ..." */
void kxd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* audit.c: the seal key, the log, seals every audit_seal_ms and at stop */
#define KXD_AUDIT_SEAL_MS 60000L /* --audit-seal default: a minute */
#define KXD_AUDIT_ROOT_DIR "/var/log/kx" /* root's default audit log lives here */
/* The default audit log into buf (d->audit_path then points there): for the
 * kxd on the default socket a persistent place (root: KXD_AUDIT_ROOT_DIR,
 * others: $XDG_STATE_HOME/kx or ~/.local/state/kx), created; for one on a
 * socket of its own, beside it (sock_dir).  0, or -1 (said on stderr). */
int kxd_audit_default(struct kxd *d, const char *sock_dir, char *buf, size_t size);
int kxd_audit_seal_parse(const char *arg, long *ms); /* 1..86400 s; 0 or -EINVAL */
int kxd_audit_open(struct kxd *d);                   /* 0, or -1 (said on stderr) */
int kxd_audit_timeout(struct kxd *d, int other);     /* poll timeout: ms to the next seal */
void kxd_audit_tick(struct kxd *d);                  /* seal when due */
void kxd_audit_rotate(struct kxd *d, int ci);        /* KXD_REQ_AUDIT_ROTATE */
void kxd_audit_close(struct kxd *d);                 /* the closing seal; NULL gate fine */
#define KXD_BOOT_LINKS_MAX 64       /* a pVM holds at most 64 modules (manager/hv/link.c) */
#define KXD_AUDIT_RATE 20            /* --audit-rate default: 20 refusals a second per pVM... */
#define KXD_AUDIT_BURST 100          /* ...at most 100 at once */
#define KXD_AUDIT_ALLOW_COST 0.1     /* an allowed request: a tenth of a token */
#define KXD_AUDIT_SUPPRESS_MS 10000L /* a flooding pVM's count is written this often */
#define KXD_AUDIT_LOCK_TRIES 100     /* 10 s for a stopping kxd to let go of the log */
int kxd_audit_rate_parse(const char *arg, struct kxd *d); /* "R" or "R/B"; 0 or -EINVAL */
/* p's rate and burst: its app's from the policy, at most --audit-rate's */
void kxd_audit_rate_of(const struct kxd *d, const struct kxd_pvm *p, unsigned *rate,
		       unsigned *burst);
/* A guest request the gate would decide and record, from a pVM with no
 * token left: refused here (an error for the guest, counted), true; else
 * false, and kxd_audit_charge() after handling it takes a token for each
 * DENY the gate gave meanwhile. */
bool kxd_audit_limited(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in);
void kxd_audit_charge(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in);
/* "!audit-suppressed N\n" for a LIST row when the pVM was ever limited;
 * the bytes written. */
size_t kxd_audit_list_note(const struct kxd_pvm *p, char *buf, size_t size);

/* audit_commit.c: group commit in the loop.  Whether an answer sent now
 * would go out before a record it depends on is durable; a message on a
 * pVM's channel, sent now or queued until the flush (0 or -errno; a
 * queued one that cannot be sent ends the pVM); flush what was written and
 * send what waited (before each round, and before kxd starts a monitor);
 * at stop. */
bool kxd_audit_holding(struct kxd *d);
int kxd_chan_send(struct kxd *d, const struct kxd_pvm *p, const void *msg, size_t len,
		  const int *fds, int nfds);
int kxd_audit_durable(struct kxd *d); /* 0, or -errno of the failed flush */
void kxd_audit_commit_close(struct kxd *d);

/* control.c */
void kxd_client_accept(struct kxd *d);
void kxd_client_readable(struct kxd *d, int ci);
void kxd_client_close(struct kxd *d, int ci);
/* The client has answers queued (poll it for POLLOUT); send what it takes. */
bool kxd_client_pending(const struct kxd *d, int ci);
void kxd_client_writable(struct kxd *d, int ci);
int kxd_reply(struct kxd *d, int ci, enum kxd_resp_type type, const struct kxd_pvm *p,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* policy.c (docs/kxd.md "Reloading the policy"): where the serial lives
 * (sets d->serial_path unless given; 0 or -ENAMETOOLONG); load the policy
 * at start and open the gate over it (0, or -1 after saying why on
 * stderr); swap in the policy at path (NULL: re-read the current one),
 * reporting -- or with enforce ending -- pVMs whose app it lacks (0 and the
 * report, or -errno and why, the old policy kept); the text of a POLICY
 * answer; free. */
int kxd_serial_path(struct kxd *d, char *buf, size_t size);
int kxd_policy_start(struct kxd *d);
int kxd_policy_reload(struct kxd *d, const char *path, bool enforce, char *report, size_t size);
int kxd_policy_info(const struct kxd *d, char *buf, size_t size);
void kxd_policy_close(struct kxd *d);

/* registry.c */
struct kxd_pvm *kxd_pvm_find(struct kxd *d, uint64_t id);
void kxd_pvm_subject(const struct kxd_pvm *p, struct gate_subject *out);
/* Boot image (fd image_fd) as app with argv (and env, NULL-terminated,
 * for kxmon -e; posix-mon); the console to out_fd/err_fd.  0 and *out on
 * success; else -errno/-EACCES with why. */
int kxd_pvm_run(struct kxd *d, int ci, const char *app, int image_fd, int out_fd, int err_fd,
		char *const *argv, char *const *env, struct kxd_pvm **out, char *why,
		size_t whylen);
/* End pVM p (why: its report).  A pVM with a network interface gets
 * KXD_PVM_END_GRACE_MS to end through its kxmon (which resets its open TCP
 * connections, docs/network.md); every other one, or one asked twice, is
 * killed at once.  kxd_pvm_end_now: at once, whatever it is (kxd stopping). */
#define KXD_PVM_END_GRACE_MS 2000L
void kxd_pvm_end(struct kxd *d, struct kxd_pvm *p, const char *why);
void kxd_pvm_end_now(struct kxd *d, struct kxd_pvm *p, const char *why);
/* The poll timeout of kxd's loop (ms, -1: none) for the pVMs ending
 * through their kxmon, given the other timeouts' other; and the kill of
 * those past their grace (called each round). */
int kxd_pvm_end_timeout(struct kxd *d, int other);
void kxd_pvm_end_tick(struct kxd *d);
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

/* jail.c: the monitors' jail (docs/jail.md) */
struct kxd_jail_args {
	char *argv[KXD_ARGC_MAX + 32];
	char id[16], cgroup[64], pids[16], cpu[16];
};
/* kxmon's command line: mon_argv with the jail's options for pVM p of app
 * (p->id and p->family_id set).  0 or -E2BIG. */
int kxd_jail_argv(struct kxd *d, const struct kxd_pvm *p, const char *app,
		  char *const *mon_argv, struct kxd_jail_args *out);
/* The cgroup kx/NAME of pVM p. */
void kxd_jail_name(const struct kxd_pvm *p, char *out, size_t size);
/* A fork was allowed: make the child's cgroup while the parent forks. */
void kxd_jail_forked(struct kxd *d, struct kxd_pvm *p);
/* A forked monitor (pid known, from its HELLO): into its own cgroup.  0,
 * or -errno with why (the caller ends it). */
int kxd_jail_child(struct kxd *d, struct kxd_pvm *p, char *why, size_t whylen);
/* A pooled pVM became its app's: the app's limits on its cgroup. */
void kxd_jail_recycled(struct kxd *d, struct kxd_pvm *p);
/* p was reaped: its report says so if its jail killed it (SIGSYS). */
void kxd_jail_report(struct kxd_pvm *p, int wstatus);
/* p ended: remove its cgroup. */
void kxd_jail_gone(struct kxd *d, struct kxd_pvm *p);

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

/* files.c (posix-fs): answer FS_MOUNT_REQ — decide, audit, pass the directory. */
void kxd_fs_mount_req(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in);
/* net.c (docs/network.md): before kxmon runs, on its channel chan, the
 * first message: the interface of pVM id running app (gate_net, a TAP,
 * NET_ATTACH), or "none" (also for app "": a pooled pVM); *net what was
 * attached.  A NET_REPORT of its monitor
 * (counters; the first drop of a kind is audited through the gate); the
 * rows of `kxctl list`'s network table (KXD_REQ_NET). */
void kxd_net_spawn(struct kxd *d, uint64_t id, const char *app, int chan,
		   struct kxd_pvm_net *net);
void kxd_net_report(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in);
void kxd_net_list(struct kxd *d, int ci);

#endif /* KX_MANAGER_KXD_INTERNAL_H */
