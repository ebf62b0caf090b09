/*
 * kxd.h — the control protocol between kxctl and kxd, and the checks both
 * sides (and kxd's channel to each kxmon) apply to what they receive.
 *
 * The control socket is AF_UNIX SOCK_SEQPACKET.  Every request is exactly
 * one struct kxd_req and every answer exactly one struct kxd_resp (fixed
 * size, one datagram each).  File descriptors ride along with SCM_RIGHTS:
 * `run` carries three (the image, then the stdout and stderr the pVM's
 * console goes to).  Who asks is the peer's uid (SO_PEERCRED), never
 * anything in a request.  docs/kxd.md describes the exchanges.
 *
 * Library code (libkxdproto.a, linked by kxd and kxctl): prints nothing,
 * returns 0 or -errno and says why in a caller's buffer.
 */
#ifndef KX_MANAGER_KXD_KXD_H
#define KX_MANAGER_KXD_KXD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "manager/chan/chan.h"

#define KXD_CTL_VERSION 1u
#define KXD_ARGS_MAX 4096   /* run: the pVM's argv, NUL-separated */
#define KXD_ARGC_MAX 256
#define KXD_APP_MAX 64      /* app name incl. NUL */
#define KXD_TEXT_MAX 1024   /* reason, report, list details incl. NUL */
#define KXD_PATH_MAX 512    /* paths kxd reports (audit log) incl. NUL */
#define KXD_MAX_FDS 3       /* the most fds one message carries */

enum kxd_req_type {
	KXD_REQ_PING = 1, /* is a kxd there?  -> OK (text: the audit log path) */
	KXD_REQ_RUN = 2,  /* boot an image (3 fds) -> STARTED, later EXITED; or ERROR */
	KXD_REQ_LIST = 3, /* -> one PVM per pVM, then END */
	KXD_REQ_LINK = 4, /* link `name` into pVM `pvm_id`, asked by the operator or (as_pvm_id)
			   * on behalf of a running pVM -> OK or ERROR */
	KXD_REQ_KILL = 5, /* end pVM `pvm_id` -> OK or ERROR */
	KXD_REQ_STOP = 6, /* end every pVM and kxd itself -> OK */
	/* 7..9 reserved: online update (7), recycling (8, 9); 10..15 policy and
	 * audit (reload, seal); 16..23 files and network; 24..31 the jail. */
	KXD_REQ_UPDATE = 7, /* replace library `name` of pVM `pvm_id` by the file (1 fd)
			     * -> OK or ERROR, once the pVM applied it (docs/update.md) */
	/* 10..12: the policy (manager/kxd/policy.c, docs/kxd.md "Reloading the policy") */
	KXD_REQ_POLICY = 10, /* which policy kxd enforces -> OK, text: KXD_POLICY_INFO lines */
	KXD_REQ_RELOAD = 11, /* load, check and swap in the policy at path args (argc 1), or
			      * re-read the current one (argc 0) -> OK (text: the report) or
			      * ERROR; flags: KXD_RELOAD_ENFORCE */
	/* audit (13..15) */
	KXD_REQ_AUDIT_ROTATE = 13, /* seal the audit log, reopen its path -> OK (text: the
				    * path) or ERROR (docs/audit-log.md) */
	/* Network (docs/network.md): one PVM per pVM with an interface, text
	 * "IFACE TAP ADDR/PREFIX TX RX [KIND=DROPS]...", then END. */
	KXD_REQ_NET = 20,
	KXD_REQ_TYPE_MAX = 31 /* the highest number reserved for a request */
};

struct kxd_req {
	uint32_t type;    /* enum kxd_req_type */
	uint32_t size;    /* sizeof(struct kxd_req) */
	uint64_t pvm_id;  /* LINK, KILL */
	uint64_t as_pvm_id; /* LINK: the pVM the link is asked for; 0 = the operator itself */
	uint32_t flags;   /* per request type; 0 unless a type says otherwise */
	int32_t sig;      /* KILL: the signal to send (0 = end the pVM, as before) */
	uint32_t argc;    /* RUN: strings in args (argv[0] first) */
	uint32_t args_len; /* RUN: bytes of args used, the last one a NUL */
	char app[KXD_APP_MAX];   /* RUN: the app to boot as; "" = the image's signed name */
	char name[KXMON_NAME_MAX]; /* LINK: the library */
	char args[KXD_ARGS_MAX];
};

enum kxd_resp_type {
	KXD_RESP_OK = 1,
	KXD_RESP_ERROR = 2,   /* text: why (a denial names the rule and its file:line) */
	KXD_RESP_STARTED = 3, /* pvm_id, pid, app */
	KXD_RESP_EXITED = 4,  /* pvm_id, status (kxmon's), text: its report */
	KXD_RESP_PVM = 5,     /* one row of LIST (posix-mon: text may end in a
			       * KXD_LIST_ENOSYS line) */
	KXD_RESP_END = 6,     /* end of LIST */
};

enum kxd_pvm_state {
	KXD_PVM_STARTING = 1, /* spawned, no HELLO yet */
	KXD_PVM_RUNNING = 2,
	KXD_PVM_EXITED = 3,
	KXD_PVM_POOLED = 4,   /* empty, in its app's recycle pool, ready (app: the pool's app) */
	KXD_PVM_POOL_BOOTING = 5, /* empty, in its app's pool, placeholder not yet waiting */
};

/* kxd_req.flags of UPDATE: KXD_UPDATE_LAZY (GOT entries go back to lazy
 * binding instead of being resolved at once) | the quiescence deadline in
 * ms << KXD_UPDATE_DEADLINE_SHIFT (0: KXD_UPDATE_DEADLINE_DEFAULT). */
#define KXD_UPDATE_LAZY		    1u
#define KXD_UPDATE_DEADLINE_SHIFT   16
#define KXD_UPDATE_DEADLINE_DEFAULT 2000u
#define KXD_UPDATE_FLAGS	    (KXD_UPDATE_LAZY | 0xffff0000u)

/* kxd_req.flags of RELOAD: end the pVMs whose app the new policy no longer
 * has (default: they keep running and the answer names them). */
#define KXD_RELOAD_ENFORCE 1u
/* The text of the answer to POLICY: "serial N\ndigest HEX\npath PATH\n", HEX
 * the policy's body digest (bytes 32..63 of the .kxp header), in hex. */
#define KXD_POLICY_INFO "serial %llu\ndigest %s\npath %s\n"

/* kxd_req.flags of RUN: start the app library (fds[0]) in a pooled pVM of
 * its app instead of booting an image (docs/recycle.md). */
#define KXD_RUN_RECYCLE 1u
/* posix-mon: args holds argc argv strings and then the pVM's environment,
 * "NAME=VALUE" strings (kxctl run -e), at most KXD_ENVC_MAX. */
#define KXD_RUN_ENV 2u
#define KXD_ENVC_MAX 256u

/* posix-mon: a LIST row's last text line "enosys: N N ...": the system
 * calls the pVM's POSIX layer answered ENOSYS. */
#define KXD_LIST_ENOSYS "!enosys:" /* a note line: "!" sets notes apart from libraries */

struct kxd_resp {
	uint32_t type;   /* enum kxd_resp_type */
	uint32_t size;   /* sizeof(struct kxd_resp) */
	uint64_t pvm_id;
	int64_t pid;     /* the pVM's kxmon */
	int64_t started; /* seconds since the epoch */
	int32_t status;  /* EXITED/PVM: kxmon's exit status, 128+N for signal N; -1 running */
	uint32_t state;  /* enum kxd_pvm_state */
	uint32_t nlibs;
	uint32_t parent_id; /* PVM: the pVM it was forked from, 0 for a family's root */
	char app[KXD_APP_MAX];
	/* ERROR, EXITED: the message; PVM: the libraries linked, one per line,
	 * "NAME VERSION DIGEST"; OK to PING: the audit log's path. */
	char text[KXD_TEXT_MAX];
};

_Static_assert(sizeof(struct kxd_req) == 40 + KXD_APP_MAX + KXMON_NAME_MAX + KXD_ARGS_MAX,
	       "kxd_req layout");
_Static_assert(sizeof(struct kxd_resp) == 48 + KXD_APP_MAX + KXD_TEXT_MAX, "kxd_resp layout");

/* The default control socket: $XDG_RUNTIME_DIR/kx/kxd.sock, or
 * /run/kx/kxd.sock for root.  -ENOENT when neither applies, -ENAMETOOLONG. */
int kxd_default_socket(char *buf, size_t size);

/* Is s a NUL-terminated string within its n-byte field? */
int kxd_str_ok(const char *s, size_t n);

/* A library name as kxd looks it up in its libdirs: not empty, no '/', not
 * starting with '.', printable ASCII.  Untrusted input (a guest's request). */
int kxd_libname_ok(const char *name);

/* Check one datagram (untrusted) of len bytes that arrived with nfds file
 * descriptors.  Return 0 when it is well formed, else -EBADMSG with why. */
int kxd_check_req(const void *buf, size_t len, int nfds, char *why, size_t whylen);
int kxd_check_resp(const void *buf, size_t len, int nfds, char *why, size_t whylen);

/* posix-mon: the environment of a RUN request with KXD_RUN_ENV that passed
 * kxd_check_req (the strings after the argc argv ones): into env (room for
 * KXD_ENVC_MAX + 1, NULL-terminated); their count. */
uint32_t kxd_split_env(char *args, uint32_t args_len, uint32_t argc, char **env);

/* The argv of a RUN request that passed kxd_check_req: argv[i] points at
 * the i-th NUL-terminated string of args (i < argc), argv[argc] = NULL;
 * argv has room for argc + 1.  Reads nothing past the args_len bytes the
 * check covered. */
void kxd_split_args(char *args, uint32_t argc, char **argv);

/* Send one datagram with up to KXD_MAX_FDS fds.  0 or -errno. */
int kxd_send(int sock, const void *msg, size_t len, const int *fds, int nfds);
/* Receive one datagram of at most size bytes: *len its length (0 = the peer
 * closed), up to KXD_MAX_FDS fds into fds (close-on-exec), *nfds their
 * count.  A datagram longer than size, or with more fds, is -EMSGSIZE (any
 * fds received are closed).  0 or -errno. */
int kxd_recv(int sock, void *buf, size_t size, size_t *len, int *fds, int *nfds);
/* The same; *sender: the sending process's pid as the kernel reports it
 * (sock needs SO_PASSCRED), 0 when it reports none. */
int kxd_recv_from(int sock, void *buf, size_t size, size_t *len, int *fds, int *nfds,
		  pid_t *sender);

/* Connect to the control socket at path.  The fd, or -errno. */
int kxd_connect(const char *path);

#endif /* KX_MANAGER_KXD_KXD_H */
