/*
 * chan/chan.h — the channel between kxd (the mapper: policy, gate, audit
 * log, registry) and one kxmon (the monitor of one pVM).
 *
 * kxd creates a socketpair(AF_UNIX, SOCK_SEQPACKET) per pVM and starts
 * kxmon with one end as `--channel FD`.  Identity is the channel: kxd knows
 * which pVM a message comes from by the socket it arrived on, never by
 * anything in the message.  Each message is exactly one struct kxmon_msg
 * (fixed size, one datagram); file descriptors ride along with SCM_RIGHTS.
 * Each side treats the other's messages as untrusted input: wrong size,
 * unknown type, a string without its NUL, an unexpected fd count — the
 * receiver drops the channel (and kxd ends that pVM).
 *
 * Libraries and images are passed as file descriptors of SEALED memfds
 * (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) holding exactly
 * the bytes the gate verified: kxmon maps what was checked, with no window
 * to swap the file in between (no TOCTOU), and kxd keeps one memfd per
 * content digest, so a library's bytes exist once per host.
 *
 * Flow:
 *   boot   kxd: gate_boot(image) -> spawn kxmon --channel FD, image as a
 *          sealed memfd (--image-fd); kxmon -> HELLO; for every DT_NEEDED
 *          (depth first, as the loader asks) kxmon -> LINK_REQ, kxd ->
 *          LINK_RESP (+1 fd on ALLOW); the pVM starts only if all are
 *          allowed.
 *   run    guest kx_dlopen(name): kxmon -> LINK_REQ (relation self) ->
 *          LINK_RESP; a DENY is an error returned to the guest.
 *   push   operator `kxctl link ID LIB`: kxd decides (operator: relation
 *          any), kxd -> LINK_PUSH (+1 fd); kxmon maps it at its next safe
 *          point and answers LINK_DONE.
 *   fork   guest kx_fork: kxmon -> FORK_REQ, kxd: gate_fork with the
 *          family's counts -> FORK_RESP (+ the child's channel end on
 *          ALLOW); kxmon forks, the child says HELLO on its own channel
 *          and waits for JAIL_READY (its own cgroup, docs/jail.md).
 *   wait   guest kx_wait(id): kxmon -> WAIT_REQ, kxd -> WAIT_RESP once
 *          that child (of the pVM on this channel) has ended.
 *   recycle  a pooled kxmon (--pool) -> RECYCLE_READY once its placeholder
 *          waits; `kxctl run --recycle`: kxd: gate_recycle -> RECYCLE_CONSOLE
 *          (+2 fds) and RECYCLE_APP (+1 fd); DT_NEEDED as LINK_REQ
 *          (docs/recycle.md).
 *   end    kxmon -> EXIT (status, or the report of how the pVM was ended)
 *          just before it exits; kxd also reaps it with waitpid.
 *
 * C99 only; the layout is pinned below.
 */
#ifndef KX_MANAGER_CHAN_CHAN_H
#define KX_MANAGER_CHAN_CHAN_H

#include <stdint.h>

#define KXMON_CHAN_VERSION 1u

#define KXMON_NAME_MAX   64  /* library name incl. NUL */
#define KXMON_VERSION_MAX 32 /* version text incl. NUL */
#define KXMON_TEXT_MAX   512 /* reason / report incl. NUL */
#define KXMON_MAX_FDS    3   /* the most fds one message carries */

enum kxmon_msg_type {
	KXMON_MSG_HELLO = 1,     /* kxmon -> kxd: first message; u.hello */
	KXMON_MSG_LINK_REQ = 2,  /* kxmon -> kxd: link a library; u.link_req */
	KXMON_MSG_LINK_RESP = 3, /* kxd -> kxmon: answer to LINK_REQ (same seq); u.link */
	KXMON_MSG_LINK_PUSH = 4, /* kxd -> kxmon: operator link; u.link (always ALLOW) */
	KXMON_MSG_LINK_DONE = 5, /* kxmon -> kxd: outcome of mapping a pushed link; u.done */
	KXMON_MSG_EXIT = 6,      /* kxmon -> kxd: the pVM ended; u.exit */
	/* Families (added without a version bump: an older peer never sends them). */
	KXMON_MSG_FORK_REQ = 7,  /* kxmon -> kxd: the guest called kx_fork; no body */
	KXMON_MSG_FORK_RESP = 8, /* kxd -> kxmon: same seq; u.fork (+1 fd on ALLOW) */
	KXMON_MSG_WAIT_REQ = 9,  /* kxmon -> kxd: the guest called kx_wait; u.wait */
	KXMON_MSG_WAIT_RESP = 10, /* kxd -> kxmon: same seq, when the child ended; u.wait */
	/* Numbers reserved per feature, so features can be added independently:
	 * 11..19 IpC objects (pipe, msgq, shm), 20..24 signals,
	 * 25..29 online update, 30..34 recycling, 40..49 files (mount grants,
	 * the POSIX layer), 50..59 network (TAP and rules), 60..69 the jail
	 * and reports (cgroup, seccomp, unimplemented syscalls), 70..79 audit
	 * (rate limits).  Every body must fit the union without growing struct
	 * kxmon_msg (664 bytes). */
	/* IpC objects (docs/ipc.md): the guest's KX_HC_IPC_GET / DETACH / RM
	 * and its lock token.  kxd decides (gate_ipc) and answers IPC_RESP,
	 * with 1 fd on a GET that maps a new object (a memfd sealed against
	 * shrinking and growing: the object's pages). */
	KXMON_MSG_IPC_REQ = 11,  /* kxmon -> kxd: u.ipc_req */
	KXMON_MSG_IPC_RESP = 12, /* kxd -> kxmon: same seq; u.ipc_resp (+1 fd) */
	/* Recycling (docs/recycle.md): a pooled pVM's kxmon says READY once
	 * its placeholder waits; kxd, after gate_recycle ALLOWs, sends CONSOLE
	 * (+2 fds: the client's stdout, stderr) then APP (+1 fd: a sealed memfd
	 * of the app library).  33 and 34 stay reserved. */
	/* Signals (docs/signals.md).  WAIT_REQ's child_id 0 means any child
	 * (WAIT_RESP then names the one collected); WAIT_CANCEL (seq: the
	 * WAIT_REQ's) makes kxd answer that wait at once, with -EINTR if no
	 * child had ended: kx_wait's no-hang, timeout and interruption. */
	KXMON_MSG_KILL_REQ = 20,    /* kxmon -> kxd: the guest's kx_kill; u.sig (pvm_id, sig) */
	KXMON_MSG_KILL_RESP = 21,   /* kxd -> kxmon: same seq; u.sig.result */
	KXMON_MSG_SIGNAL = 22,      /* kxd -> kxmon: deliver u.sig.sig, sent by u.sig.pvm_id */
	KXMON_MSG_WAIT_CANCEL = 23, /* kxmon -> kxd: no body */
	/* Online update (docs/update.md): kxd, after gate_update ALLOWs, sends
	 * UPDATE_PUSH (+1 fd: a sealed memfd of the new library); kxmon applies
	 * it at a safe point, retrying until the guest is off the old library
	 * or the deadline passes, and answers UPDATE_DONE (same seq). */
	KXMON_MSG_UPDATE_PUSH = 25, /* kxd -> kxmon: u.update, 1 fd */
	KXMON_MSG_UPDATE_DONE = 26, /* kxmon -> kxd: u.update_done */
	KXMON_MSG_RECYCLE_READY = 30,   /* kxmon -> kxd: no body */
	KXMON_MSG_RECYCLE_CONSOLE = 31, /* kxd -> kxmon: no body, 2 fds */
	KXMON_MSG_RECYCLE_APP = 32,     /* kxd -> kxmon: u.recycle, 1 fd */
	/* posix-fs: host directories of the app's `files` rules (docs/posix.md).
	 * While loading the image, kxmon asks for mount 0, 1, ... until kxd
	 * answers -ENOENT; kxd decides each (gate_file, audited) and grants it
	 * with the host directory opened O_PATH|O_DIRECTORY (1 fd), or answers
	 * -EACCES with the reason (the boot fails).  42..44 stay reserved. */
	KXMON_MSG_FS_MOUNT_REQ = 40,  /* kxmon -> kxd: u.fs_mount_req */
	KXMON_MSG_FS_MOUNT_RESP = 41, /* kxd -> kxmon: same seq; u.fs_mount (+1 fd on 0) */
	/* Network (docs/network.md): kxd's first message to every kxmon it
	 * spawns is NET_ATTACH: after gate_net ALLOWs, with 2 fds (the TAP,
	 * then a memfd sealed like a library's holding the interface's struct
	 * kxp_net_rules: it does not fit a message); else with none, iface ""
	 * ("no interface": the guest's NET_INFO waits for this answer); kxmon reports the first drop of each kind (first = kind +
	 * 1: kxd audits it) and its counters (first = 0) in NET_REPORT.
	 * 52..59 stay reserved. */
	KXMON_MSG_NET_ATTACH = 50, /* kxd -> kxmon: u.net_attach, 2 fds */
	KXMON_MSG_NET_REPORT = 51, /* kxmon -> kxd: u.net_report */
	/* posix-mon: the POSIX layer's host half (manager/hv/posix.c).  SELF
	 * asks for this pVM's ids (getpid, getppid); POSIX_ENOSYS tells kxd a
	 * system call the guest's layer does not implement, once per number
	 * (kxctl list shows them).  47..49 and 66..69 stay reserved. */
	KXMON_MSG_SELF_REQ = 45,     /* kxmon -> kxd: no body */
	KXMON_MSG_SELF_RESP = 46,    /* kxd -> kxmon: same seq; u.self */
	KXMON_MSG_POSIX_ENOSYS = 65, /* kxmon -> kxd: u.enosys; no answer */
	/* end posix-mon */
	/* The jail (60..64; docs/jail.md): a forked kxmon's HELLO carries a
	 * seq and waits for JAIL_READY (same seq) before its guest runs on:
	 * kxd has moved it into its own cgroup. */
	KXMON_MSG_JAIL_READY = 60,      /* kxd -> a forked kxmon: no body */
};

#define KXMON_RECYCLE_ARGS_MAX 512 /* argv strings of a recycled app, NULs included */
#define KXMON_RECYCLE_ARGC_MAX 64

enum kxmon_bind { KXMON_BIND_LAZY = 0, KXMON_BIND_NOW = 1 };

struct kxmon_hello {
	uint32_t chan_version; /* KXMON_CHAN_VERSION */
	uint32_t pid;          /* kxmon's pid; a forked child's must be the pid the
				* kernel names as the sender (SO_PASSCRED), or kxd
				* refuses it (kxd/chan.c hello) */
};

struct kxmon_link_req {
	char name[KXMON_NAME_MAX]; /* as in DT_NEEDED or kx_dlopen, NUL-terminated */
	uint32_t at_boot;          /* 1 while loading the image's DT_NEEDED tree */
	uint32_t reserved;
};

/* LINK_RESP and LINK_PUSH.  On ALLOW exactly one fd (sealed memfd of the
 * verified library) is attached; on DENY none. */
struct kxmon_link {
	uint32_t allow;             /* 1 ALLOW, 0 DENY */
	uint32_t bind;              /* enum kxmon_bind, from the policy rule */
	char name[KXMON_NAME_MAX];  /* the name requested (for matching) */
	char version[KXMON_VERSION_MAX]; /* the signed version (ALLOW only) */
	uint8_t digest[32];         /* content digest of the library (ALLOW only) */
	char reason[KXMON_TEXT_MAX]; /* DENY: why, with the rule's file:line */
};

struct kxmon_link_done {
	int32_t result; /* 0 or -errno */
	uint32_t reserved;
	char name[KXMON_NAME_MAX];
	char message[KXMON_TEXT_MAX];
};

struct kxmon_exit {
	int32_t status;   /* kxmon's exit status (see kxmon(1)) */
	uint32_t by_guest; /* 1: the guest exited by itself; 0: it was ended */
	uint64_t rip;     /* where it was ended (0 if by_guest) */
	char report[KXMON_TEXT_MAX]; /* the one-line report, or "" */
};

/* FORK_RESP.  On ALLOW exactly one fd is attached: the child's end of a new
 * channel (a SOCK_SEQPACKET socket), which only the child keeps; the child
 * says HELLO on it with its own pid.  On DENY none. */
struct kxmon_fork {
	uint32_t allow;    /* 1 ALLOW, 0 DENY */
	int32_t error;     /* DENY: -EACCES (policy) or -EAGAIN (no room) */
	uint64_t child_id; /* ALLOW: the child's pVM id */
	char reason[KXMON_TEXT_MAX]; /* DENY: why, with the rule's file:line */
};

/* WAIT_REQ (child_id) and WAIT_RESP (all fields). */
struct kxmon_wait {
	uint64_t child_id;
	int32_t result; /* RESP: 0, or -ECHILD (not a child of this pVM, or waited for) */
	int32_t status; /* RESP: the child's status, as kxd reports it (kxd(8)) */
};

/* KILL_REQ, KILL_RESP, SIGNAL.  pvm_id: the target (KILL_REQ) or the
 * sender (SIGNAL; 0 = an operator or kxd itself). */
struct kxmon_sig {
	uint64_t pvm_id;
	uint32_t sig;	/* 0..KX_NSIG-1 (0: KILL_REQ only, a probe) */
	int32_t result; /* KILL_RESP: 0, -ESRCH, -EACCES, -EINVAL */
};

#define KXMON_UPDATE_LAZY	    1u	  /* UPDATE_PUSH flags: GOT entries back to lazy */
#define KXMON_UPDATE_DEADLINE_MAX 60000u /* ms */
#define KXMON_UPDATE_PHASES	    8	  /* phase_ns slots (hv_update_phase order) */

/* UPDATE_PUSH: replace old_name by the attached library. */
struct kxmon_update {
	uint32_t flags;	      /* KXMON_UPDATE_* */
	uint32_t deadline_ms; /* quiescence: give up after this long, 1..DEADLINE_MAX */
	char old_name[KXMON_NAME_MAX];	 /* the linked library (signed name) */
	char version[KXMON_VERSION_MAX]; /* the new library's signed version */
	uint8_t digest[32];		 /* its content digest */
};

/* UPDATE_DONE: the outcome.  result 0 or -errno: -EBUSY the guest stayed
 * inside the old library until the deadline; any failure leaves the pVM on
 * the old library, its state intact. */
struct kxmon_update_done {
	int32_t result;
	uint32_t attempts; /* quiescence checks made */
	uint32_t got_entries, variables, rebased, reserved;
	uint64_t phase_ns[KXMON_UPDATE_PHASES];
	char message[KXMON_TEXT_MAX];
};

/* RECYCLE_APP: the app library gate_recycle allowed into this pVM. */
struct kxmon_recycle_app {
	char name[KXMON_NAME_MAX];       /* the app (the library's signed name) */
	char version[KXMON_VERSION_MAX]; /* its signed version */
	uint8_t digest[32];              /* its content digest */
	uint32_t argc;                   /* 1..KXMON_RECYCLE_ARGC_MAX strings in args */
	uint32_t args_len;               /* bytes of args used, the last one a NUL */
	char args[KXMON_RECYCLE_ARGS_MAX];
};

/* IPC_REQ: what the guest asked (op: enum kxmon_ipc_op), unchecked beyond
 * the ranges chan_check_from_kxmon knows. */
enum kxmon_ipc_op { KXMON_IPC_GET = 1, KXMON_IPC_DETACH = 2, KXMON_IPC_RM = 3 };
struct kxmon_ipc_req {
	uint32_t op;
	uint32_t kind;	/* GET: enum kx_ipc_kind */
	uint32_t flags; /* GET: KX_IPC_CREAT | KX_IPC_EXCL */
	uint32_t ends;	/* DETACH of a pipe: the ends dropped */
	uint64_t key;	/* GET */
	uint64_t size;	/* GET */
	uint64_t id;	/* DETACH, RM */
};

/* IPC_RESP.  result 0 or -errno (-EACCES: denied, reason says by which
 * rule).  A GET that maps a new object carries its fd (map = 1); a GET of
 * an object this pVM already holds carries none (map = 0). */
struct kxmon_ipc_resp {
	int32_t result;
	uint32_t kind;
	uint64_t id;
	uint64_t data_size; /* the object's data area; its fd holds one page more */
	uint32_t ends;	    /* the ends this pVM now holds (pipe) */
	uint32_t map;	    /* 1: fd attached */
	char reason[KXMON_TEXT_MAX];
};

/* posix-fs: FS_MOUNT_REQ and FS_MOUNT_RESP. */
#define KXMON_FS_GUEST_MAX 120 /* a mount point incl. NUL */
struct kxmon_fs_mount_req {
	uint32_t index; /* 0.. */
	uint32_t reserved;
};
struct kxmon_fs_mount {
	int32_t result;	     /* 0 granted (1 fd), -ENOENT no more, -EACCES denied */
	uint32_t writable;   /* 0 or 1 */
	uint64_t max;	     /* writable: the most bytes the mount may hold (>= 1) */
	char guest[KXMON_FS_GUEST_MAX]; /* absolute, normalised, not "/" */
	char reason[KXMON_TEXT_MAX];	/* -EACCES: why, with the rule's file:line */
};

/* Network (50..59). */
#define KXMON_NET_KINDS	  12  /* drop kinds a report carries (hv.h HV_NET_KINDS) */
#define KXMON_NET_WHAT_MAX 160 /* the frame a first drop was, incl. NUL */
struct kxmon_net_attach {
	char iface[16];	 /* the rule's interface name (kxp_net_rules.iface) */
	uint8_t mac[6];	 /* unicast, locally administered: the pVM's */
	uint8_t index;	 /* 0: one interface per pVM today */
	uint8_t reserved;
};
struct kxmon_net_report {
	uint32_t first; /* 0: counters only; k + 1: the first drop of kind k */
	/* first: the policy question the drop answered (enum kxp_net_query:
	 * 1 listen on proto/port, 2 connect to addr:port), 0 none. */
	uint8_t query, proto;
	uint16_t port;
	uint32_t addr;
	uint32_t reserved;
	char iface[16];
	uint64_t tx_frames, rx_frames;
	uint64_t drops[KXMON_NET_KINDS];
	char what[KXMON_NET_WHAT_MAX];
};

/* posix-mon: SELF_RESP.  pvm_id is never 0; parent_id 0: a family's root. */
struct kxmon_self {
	uint64_t pvm_id;
	uint64_t parent_id;
};

/* posix-mon: POSIX_ENOSYS.  nr < KXMON_ENOSYS_MAX, reserved 0. */
#define KXMON_ENOSYS_MAX 512u
struct kxmon_enosys {
	uint32_t nr;
	uint32_t reserved;
};

struct kxmon_msg {
	uint32_t type; /* enum kxmon_msg_type */
	uint32_t size; /* sizeof(struct kxmon_msg), a cheap version check */
	uint64_t seq;  /* LINK_REQ/LINK_RESP and LINK_PUSH/LINK_DONE pairs share it */
	union {
		struct kxmon_hello hello;
		struct kxmon_link_req link_req;
		struct kxmon_link link;
		struct kxmon_link_done done;
		struct kxmon_exit exit;
		struct kxmon_fork fork;
		struct kxmon_wait wait;
		struct kxmon_sig sig;
		struct kxmon_ipc_req ipc_req;
		struct kxmon_ipc_resp ipc_resp;
		struct kxmon_recycle_app recycle;
		struct kxmon_update update;
		struct kxmon_update_done update_done;
		struct kxmon_fs_mount_req fs_mount_req; /* posix-fs */
		struct kxmon_fs_mount fs_mount;
		struct kxmon_net_attach net_attach; /* network */
		struct kxmon_net_report net_report;
		/* posix-mon */
		struct kxmon_self self;
		struct kxmon_enosys enosys;
	} u;
};

_Static_assert(sizeof(struct kxmon_hello) == 8, "kxmon_hello layout");
_Static_assert(sizeof(struct kxmon_link_req) == 72, "kxmon_link_req layout");
_Static_assert(sizeof(struct kxmon_link) == 648, "kxmon_link layout");
_Static_assert(sizeof(struct kxmon_link_done) == 584, "kxmon_link_done layout");
_Static_assert(sizeof(struct kxmon_exit) == 528, "kxmon_exit layout");
_Static_assert(sizeof(struct kxmon_fork) == 528, "kxmon_fork layout");
_Static_assert(sizeof(struct kxmon_wait) == 16, "kxmon_wait layout");
_Static_assert(sizeof(struct kxmon_sig) == 16, "kxmon_sig layout");
_Static_assert(sizeof(struct kxmon_ipc_req) == 40, "kxmon_ipc_req layout");
_Static_assert(sizeof(struct kxmon_ipc_resp) == 544, "kxmon_ipc_resp layout");
_Static_assert(sizeof(struct kxmon_recycle_app) == 648, "kxmon_recycle_app layout");
_Static_assert(sizeof(struct kxmon_update) == 136, "kxmon_update layout");
_Static_assert(sizeof(struct kxmon_update_done) == 600, "kxmon_update_done layout");
_Static_assert(sizeof(struct kxmon_fs_mount_req) == 8, "kxmon_fs_mount_req layout");
_Static_assert(sizeof(struct kxmon_fs_mount) == 648, "kxmon_fs_mount layout");
_Static_assert(sizeof(struct kxmon_net_attach) == 24, "kxmon_net_attach layout");
_Static_assert(sizeof(struct kxmon_net_report) == 304, "kxmon_net_report layout");
_Static_assert(sizeof(struct kxmon_self) == 16, "kxmon_self layout");
_Static_assert(sizeof(struct kxmon_enosys) == 8, "kxmon_enosys layout");
_Static_assert(sizeof(struct kxmon_msg) == 664, "kxmon_msg layout");

/* ---- the checks of both directions (check.c) ------------------------------
 * Every datagram is untrusted input for the side that receives it.  Each
 * check returns 0, or -EBADMSG with a reason in why. */

/* A message from kxmon (kxd's side): exactly one struct kxmon_msg, no fds. */
int chan_check_from_kxmon(const void *buf, size_t len, int nfds, char *why, size_t whylen);

/* A message from kxd (kxmon's side): len bytes with nfds descriptors.
 * expect_seq is the seq of the request in flight (an answer must match it,
 * and for a LINK_RESP `name` when not NULL), 0 when none. */
int chan_check_from_kxd(const void *buf, size_t len, int nfds, uint64_t expect_seq,
			const char *name, char *why, size_t whylen);

#endif /* KX_MANAGER_CHAN_CHAN_H */
