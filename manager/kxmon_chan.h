/*
 * kxmon_chan.h — the channel between kxd (the mapper: policy, gate, audit
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
 *          ALLOW); kxmon forks, the child says HELLO on its own channel.
 *   wait   guest kx_wait(id): kxmon -> WAIT_REQ, kxd -> WAIT_RESP once
 *          that child (of the pVM on this channel) has ended.
 *   end    kxmon -> EXIT (status, or the report of how the pVM was ended)
 *          just before it exits; kxd also reaps it with waitpid.
 *
 * C99 only; the layout is pinned below.
 */
#ifndef KX_MANAGER_KXMON_CHAN_H
#define KX_MANAGER_KXMON_CHAN_H

#include <stdint.h>

#define KXMON_CHAN_VERSION 1u

#define KXMON_NAME_MAX   64  /* library name incl. NUL */
#define KXMON_VERSION_MAX 32 /* version text incl. NUL */
#define KXMON_TEXT_MAX   512 /* reason / report incl. NUL */

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
	 * 25..29 online update, 30..34 recycling.  Every body must fit the
	 * union without growing struct kxmon_msg (664 bytes). */
};

enum kxmon_bind { KXMON_BIND_LAZY = 0, KXMON_BIND_NOW = 1 };

struct kxmon_hello {
	uint32_t chan_version; /* KXMON_CHAN_VERSION */
	uint32_t pid;          /* kxmon's pid, for logs (kxd trusts its own fork) */
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
	} u;
};

_Static_assert(sizeof(struct kxmon_hello) == 8, "kxmon_hello layout");
_Static_assert(sizeof(struct kxmon_link_req) == 72, "kxmon_link_req layout");
_Static_assert(sizeof(struct kxmon_link) == 648, "kxmon_link layout");
_Static_assert(sizeof(struct kxmon_link_done) == 584, "kxmon_link_done layout");
_Static_assert(sizeof(struct kxmon_exit) == 528, "kxmon_exit layout");
_Static_assert(sizeof(struct kxmon_fork) == 528, "kxmon_fork layout");
_Static_assert(sizeof(struct kxmon_wait) == 16, "kxmon_wait layout");
_Static_assert(sizeof(struct kxmon_msg) == 664, "kxmon_msg layout");

#endif /* KX_MANAGER_KXMON_CHAN_H */
