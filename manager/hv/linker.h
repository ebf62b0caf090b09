/*
 * linker.h — private to the monitor's core: the linker's state, which
 * link.c, link_mod.c and the online update (update.c, update_vars.c,
 * update_mod.c)
 * share, the pieces of link.c the update reuses, and the update's own
 * steps.  docs/update.md describes the update; hv.h has its public face
 * (hv_update, struct hv_update_req / hv_update_result).
 */
#ifndef KX_HV_LINKER_H
#define KX_HV_LINKER_H

#include <stdbool.h>

#include "manager/elf/kxelf.h"
#include "manager/hv/internal.h"

/* One library file the manager granted. */
struct link_file {
	char name[KX_HC_NAME_MAX + 1];
	int fd;
	const uint8_t *data;
	size_t len;
	unsigned bind;
};

#define LINK_PUSH_QUEUE 4 /* pushed links that may wait for a safe point */

struct hv_linker {
	struct hv_pvm *p;
	struct hv_guest_mem *mem;    /* &p->mem */
	uint64_t start, end, cursor; /* the window (0..0 before the image); next free page */
	uint64_t resolver;	     /* du_resolve in the image, 0: bind everything now */
	struct link_file files[HV_LINK_MAX_FILES];
	size_t nfiles;
	struct kxelf_tree *trees[KXELF_MAX_MODULES];
	size_t ntrees;
	struct kxelf_module *mods[KXELF_MAX_MODULES]; /* id - 1 */
	size_t nmods;
	int at_boot;
	int denied; /* the last open was denied by the manager */
	int broken; /* the channel broke */
	char why[KX_PAGE_SIZE / 8];
	char denied_name[KX_HC_NAME_MAX + 1]; /* the last denial, for the boot's report */
	char denied_reason[KXMON_TEXT_MAX];
	struct kxmon_msg push[LINK_PUSH_QUEUE]; /* LINK_PUSH waiting for a safe point */
	int push_fd[LINK_PUSH_QUEUE];
	unsigned npush;
};

#define LINK_GAP KX_PAGE_SIZE /* unmapped page between two trees */

/* link.c, shared with the update. */
/* What a pVM is told when the loader refuses a library (rc: kxelf's errno):
 * -ENOMEM when it does not fit the dynamic segment, -EINVAL for anything
 * else wrong with it (kx_dlopen in docs/guest-abi.md; an update's result). */
int linker_refusal(int rc);
/* The dynamic segment [l->start, l->end) as the loader sees it. */
struct kxelf_segment linker_segment(const struct hv_linker *l);
int linker_file_add(struct hv_linker *l, const char *name, int fd, unsigned bind,
		    struct link_file **out);
void linker_file_close(struct link_file *f);
unsigned linker_prot_of(unsigned kxelf_prot);
int linker_check_got_pages(const struct kxelf_module *mod, const char *name, struct kx_error *err);
int linker_protect_got(struct hv_linker *l, const struct kxelf_module *mod);
int linker_share_text(struct hv_linker *l, const struct kxelf_module *mod,
		      const struct link_file *f, struct kx_error *err);
/* Load a dynamic image (untrusted bytes, kept by the caller while the pVM
 * lives) and its DT_NEEDED tree; each library asked of the manager. */
int linker_boot(struct hv_linker *l, const uint8_t *buf, size_t len, const char *name,
		struct image_info *info, struct kx_error *err);
/* kxelf's open callback (ctx: the linker): one LINK_REQ to kxd. */
int linker_open(void *ctx, const char *name, const uint8_t **data, size_t *len,
		struct kx_error *kerr);
/* Load one tree at the cursor; root bytes from the caller. */
int linker_load_tree(struct hv_linker *l, const uint8_t *root, size_t len, const char *name,
		     struct kxelf_tree **out, struct kx_error *err);
/* Link a library given as a sealed memfd (consumed) into the running pVM. */
int linker_link_fd(struct hv_linker *l, const char *name, int fd, unsigned bind,
		   uint64_t *handle, struct kx_error *err);

/* ---- update.c ------------------------------------------------------------ */

/* The vCPU at the safe point, and where its stack lies. */
struct update_cpu {
	uint64_t rip, rsp, rbp;
	uint64_t stack_lo, stack_hi; /* [lo, hi): the guest stack */
	/* A signal handler runs: the state it interrupted, which the monitor
	 * keeps off the guest stack (signal.c) and KX_HC_SIGRETURN resumes. */
	bool in_handler;
	uint64_t int_rip, int_rbp;
};

#define UPDATE_MAX_FRAMES 1024u /* frame-pointer links followed */
#define UPDATE_TOP_WORDS  512u	/* words scanned above rsp, below the first frame */

/*
 * Is the code range [lo, hi) off the guest stack?  Guest memory is
 * untrusted: the walk follows saved frame pointers only upwards inside
 * [stack_lo, stack_hi), at most UPDATE_MAX_FRAMES of them, reading through
 * hv_guest_ptr; it also scans the words between rsp and the first frame
 * (a callee that has not pushed its frame yet, du_resolve's block).  While
 * a signal handler runs, the state it interrupted counts too (its RIP and
 * frame chain).
 * 0: quiescent; -EBUSY with *found = the address in [lo, hi).
 */
int update_quiescent(const struct hv_guest_mem *mem, const struct update_cpu *cpu, uint64_t lo,
		     uint64_t hi, uint64_t *found);

/* Replace library req->old_name by req->fd (see hv_update). */
int linker_update(struct hv_linker *l, const struct update_cpu *cpu,
		  const struct hv_update_req *req, struct hv_update_result *res,
		  struct kx_error *err);

/* ---- update_vars.c -------------------------------------------------------- */

/*
 * Carry the variables of old into new (mapped, not yet visible to the
 * guest): every data object (globals from .dynsym, statics from .symtab)
 * with a counterpart of the same name, kind and size; the words old's
 * pointer map names as pointers, when they point into old, are rebased to
 * the same symbol in new; every other word is copied verbatim.  -EINVAL
 * (size, kind or pointer layout differs, a pointer into old with no
 * counterpart, a union word that may point into old, an ambiguous static)
 * with err naming it; new's variables may then be half written (new is not
 * visible yet and is dropped).
 */
int update_carry_vars(const struct hv_guest_mem *mem, const struct kxelf_module *old,
		      const struct kxelf_module *new, const char *name,
		      struct hv_update_result *res, struct kx_error *err);

#endif /* KX_HV_LINKER_H */
