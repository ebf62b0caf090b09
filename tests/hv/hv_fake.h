/*
 * hv_fake.h — the monitor's core without a hypervisor, for unit tests and
 * the hypercall fuzz harness: a backend over plain memory (every primitive
 * succeeds and is counted; run is -ENOSYS) and a scripted manager (answers
 * chosen by the test, pushes delivered through hv_push as kxd's would be).
 */
#ifndef KX_TESTS_HV_FAKE_H
#define KX_TESTS_HV_FAKE_H

#include <stdbool.h>

#include "manager/hv/backend.h"

/* The fake backend's VM: guest memory and what was asked of it. */
struct hv_vm {
	uint8_t *host;
	uint64_t size;
	struct hv_vcpu vcpu;
	unsigned protects, maps, unmaps, flushes, pauses, kicks;
	struct hv_exit script[8]; /* what run returns, in order; then -ENOSYS */
	unsigned nscript, next_script;
};

extern const struct hv_backend hv_fake_backend;

#define FAKE_PUSHES 8

struct fake_mgr {
	struct hv_pvm *p;
	/* call: fills the answer to request m (its type in m->type) and its
	 * fds; return 0, or -EPIPE for a broken channel.  NULL: -EPIPE. */
	int (*answer)(struct fake_mgr *f, struct kxmon_msg *m, uint32_t resp_type, int *fds,
		      int *nfds);
	void *ctx;
	/* next, once the pushes are all handed over: the answer to request
	 * seq (1), or 0; NULL: 0 when timeout_ms >= 0, else -EPIPE (nothing
	 * will ever come). */
	int (*next)(struct fake_mgr *f, uint64_t seq, int timeout_ms, struct kxmon_msg *m,
		    int *fds, int *nfds);
	bool broken;
	/* posix-fs: FS_MOUNT_REQ goes to answer (counted) only when set; else
	 * it is answered -ENOENT (no mounts), not counted. */
	bool answer_mounts;
	struct kxmon_msg push[FAKE_PUSHES]; /* what next() hands over, in order */
	int push_fds[FAKE_PUSHES][KXMON_MAX_FDS];
	int push_nfds[FAKE_PUSHES];
	unsigned npush, next_push;
	uint64_t seq;
	unsigned calls, sends;
	struct kxmon_msg last_call, last_sent;
	int recycled_rc;
	unsigned recycled, consoles;
};

extern const struct hv_manager_ops fake_mgr_ops;

/* A pVM of mem_size bytes on the fake backend (with the scripted manager
 * mgr when not NULL, pooled as said); the test sets rights in
 * hv_pvm_mem(p)->page_prot.  fake_pvm_with takes any manager. */
struct hv_pvm *fake_pvm(uint64_t mem_size, struct fake_mgr *mgr, bool pool);
struct hv_pvm *fake_pvm_with(uint64_t mem_size, const struct hv_manager *mgr, bool pool);
/* Load an image file of directory dir (the guest build) into p. */
void fake_load(struct hv_pvm *p, const char *dir, const char *image);
/* The fake VM behind a pVM made by fake_pvm. */
struct hv_vm *fake_vm_of(struct hv_pvm *p);

/* The file at path as a memfd sealed against write, shrink and grow (the
 * form kxd hands a library to kxmon), or -1.  When bytes is not NULL the
 * caller also gets a malloc'ed copy (*bytes, *len) to free. */
int fake_sealed_file(const char *path, uint8_t **bytes, size_t *len);

/* A fake_mgr answer standing in for kxd: LINK_REQ for NAME is granted (bind
 * lazy) with a sealed memfd of DIR/NAME, or denied when it cannot be read;
 * shared_name, when set and shared_fd is open, is granted as dups of
 * shared_fd (one memfd for every pVM, as kxd keeps it); before that, from
 * the file as any other.  f->ctx: a struct fake_serve. */
struct fake_serve {
	const char *dir;
	const char *shared_name;
	int shared_fd;
};
int fake_serve_answer(struct fake_mgr *f, struct kxmon_msg *m, uint32_t resp_type, int *fds,
		      int *nfds);

#endif /* KX_TESTS_HV_FAKE_H */
