/*
 * share.c — IpC objects on Xen PV: the pages a pVM shares with its forked
 * children.
 *
 * On KVM an IpC object is a memfd kxd owns, mapped into every holder's
 * guest memory.  A PV domain's page tables can only name machine frames
 * of a domain, never a dom0 process's file pages (dom0 could grant pages
 * with gntalloc, but only the guest itself can map a grant, with a
 * GNTTABOP_map_grant_ref kx's runtime does not make).  What dom0 can do
 * is write an entry naming another domain's frame into a domain's page
 * tables (mmu_update, page owner != page-table owner: Xen checks that the
 * frame is that domain's and takes a reference).  So:
 *
 *   - the data area of an object (read-write) becomes frames of the domain
 *     that mapped it first, its bytes copied from the file once; a child
 *     forked later maps the same frames (share_fork), so parent and
 *     children read and write one ring, with the same atomics as on KVM;
 *   - the control page (read-only, written by kxd only) stays a copy in
 *     the pVM's own frame that the monitor refreshes from the file
 *     whenever the run loop turns (after each kx call, at least every
 *     100 ms): the reader and writer counts, end of file, removal;
 *   - an object another pVM already holds (opened by key, not inherited):
 *     its data lives in that pVM's domain, which this monitor cannot name
 *     — refused, "not supported on xen", never a silent copy.
 *
 * What kxd writes into a data area (a sequence bump, a dead holder's
 * lock released) reaches the file, not the frames: a lock a pVM died
 * holding stays held (docs/xen-backend.md).
 *
 * Waits and wakes (KX_HC_NOTIFY_*) cannot use a futex on the guest's word:
 * each monitor sees it through a foreign mapping of its own domain (a
 * VM_PFNMAP range, where the kernel keys no futex, and in a child not even
 * the shared frame).  Each data area gets a doorbell instead: a word of
 * the object's file (dead bytes on Xen, next to the owner's mark) that
 * every holder's monitor maps shared.  A wake bumps it and wakes its
 * futex; a wait sleeps until it differs from its value when the guest got
 * its last answer — taken before the guest read the word it waits on, so
 * a wake after that read is never lost (the runtime makes no kx call
 * between reading the word and waiting on it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guest/kx_hcall_abi.h"
#include "manager/hv/xen/domain.h"

static int unsupported(struct kx_error *err, const char *what, const char *why)
{
	return kx_err(err, -EOPNOTSUPP, "%s: not supported on xen (%s)", what, why);
}

static int read_all(int fd, void *buf, uint64_t size, uint64_t offset)
{
	uint64_t done = 0;

	while (done < size) {
		ssize_t n = pread(fd, (uint8_t *)buf + done, size - done, (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (uint64_t)n;
	}
	return 0;
}

/*
 * Once a domain owns an object's data area, the file's copy of it is dead
 * (nobody reads it on Xen but a later opener).  Its last 16 bytes then say
 * so, for every later opener — also after the owner ended, or detached,
 * when no holder count tells: a copy of the dead bytes would be a silent
 * difference (a message or a segment's contents lost).
 */
#define OWNED_MAGIC 0x6e774f6e6558784bull /* "KxXenOwn" */

struct owned_mark {
	uint64_t magic;
	uint64_t domid;
};

/* The doorbell: the 8 bytes before the mark, in the data area's last page. */
#define BELL_FROM_END (sizeof(struct owned_mark) + 8u)

/* Map the doorbell of a data area at offset, size of fd (page-aligned, as
 * kxd lays objects out); a range that is not gets none and falls back to
 * the bounded wait. */
static void bell_map(struct xen_shared *s, int fd)
{
	void *pg;

	if (s->size < XEN_PAGE || s->offset % XEN_PAGE != 0 || s->size % XEN_PAGE != 0)
		return;
	pg = mmap(NULL, XEN_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		  (off_t)(s->offset + s->size - XEN_PAGE));
	if (pg == MAP_FAILED)
		return;
	s->bell_page = pg;
	s->bell = (uint32_t *)(void *)((uint8_t *)pg + XEN_PAGE - BELL_FROM_END);
	s->bell_seen = __atomic_load_n(s->bell, __ATOMIC_SEQ_CST);
}

static void bell_unmap(struct xen_shared *s)
{
	if (s->bell_page != NULL)
		munmap(s->bell_page, XEN_PAGE);
	s->bell_page = NULL;
	s->bell = NULL;
}

int xen_share_map(struct hv_vm *vm, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
		  unsigned prot, struct kx_error *err)
{
	struct kx_ipc_ctl ctl;
	struct owned_mark mark;
	struct xen_shared *s;
	int rc;

	if (read_all(fd, &ctl, sizeof(ctl), 0) != 0 || ctl.magic != KX_IPC_CTL_MAGIC)
		return unsupported(err, "mapping a file that can change",
				   "a domain's frames cannot be a host file's pages");
	if (ctl.holders > 1)
		return unsupported(err, "an IpC object another pVM already holds",
				   "its pages are that pVM's domain's; only a pVM's forked "
				   "children share its objects");
	if ((prot & HV_PROT_WRITE) && size >= sizeof(mark) &&
	    read_all(fd, &mark, sizeof(mark), offset + size - sizeof(mark)) == 0 &&
	    mark.magic == OWNED_MAGIC)
		return kx_err(err, -EOPNOTSUPP,
			      "an IpC object whose data area another pVM mapped first: not "
			      "supported on xen (its pages are d%llu's; only a pVM's forked "
			      "children share its objects)",
			      (unsigned long long)mark.domid);
	if (vm->nshared >= XEN_SHARED_MAX)
		return kx_err(err, -ENOSPC, "xen: more than %u shared ranges", XEN_SHARED_MAX);
	rc = read_all(fd, vm->host + gpa, size, offset);
	if (rc != 0)
		return kx_err(err, rc, "map_fd: cannot read the file: %s", strerror(-rc));
	rc = xen_set_leaves(vm, gpa, size, prot, err);
	if (rc != 0)
		return rc;
	if ((prot & HV_PROT_WRITE) && size >= sizeof(mark)) {
		mark = (struct owned_mark){.magic = OWNED_MAGIC, .domid = vm->domid};
		if (pwrite(fd, &mark, sizeof(mark), (off_t)(offset + size - sizeof(mark))) !=
		    (ssize_t)sizeof(mark))
			return kx_err(err, -errno, "map_fd: cannot mark the object as owned: %s",
				      strerror(errno));
	}
	s = &vm->shared[vm->nshared];
	*s = (struct xen_shared){.gpa = gpa, .size = size, .owner = vm->domid, .fd = -1,
				 .offset = offset};
	if (!(prot & HV_PROT_WRITE)) {
		s->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (s->fd < 0)
			return kx_err(err, -errno, "dup: %s", strerror(errno));
	} else {
		bell_map(s, fd);
	}
	vm->nshared++;
	return 0;
}

/* New frames for [gpa, gpa + size), zeroed: the old ones go when the last
 * domain mapping them lets go (a child may still use them), unzeroed, since
 * this monitor cannot tell when that is — Xen does not scrub them while this
 * domain lives, so every kx domain zeroes the frames it is given
 * (xen_zero_frames); a non-kx domain on the host could still get them. */
static int replace_frames(struct hv_vm *vm, uint64_t gpa, uint64_t size, struct kx_error *err)
{
	uint64_t first = gpa / XEN_PAGE, n = size / XEN_PAGE;
	int *errs = NULL;
	void *p;
	int rc = 0;

	if (xc_domain_decrease_reservation_exact(vm->xch, vm->domid, n, 0, vm->p2m + first) != 0)
		return kx_err(err, -errno, "d%u: cannot give back shared frames: %s", vm->domid,
			      strerror(errno));
	for (uint64_t i = 0; i < n; i++)
		vm->p2m[first + i] = first + i;
	if (xc_domain_populate_physmap_exact(vm->xch, vm->domid, n, 0, 0, vm->p2m + first) != 0)
		return kx_err(err, -errno, "d%u: cannot populate new frames: %s", vm->domid,
			      strerror(errno));
	errs = calloc(n, sizeof(*errs));
	if (errs == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	p = xenforeignmemory_map2(vm->fmem, vm->domid, vm->host + gpa, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_FIXED, n, vm->p2m + first, errs);
	if (p != vm->host + gpa)
		rc = kx_err(err, p == NULL ? -errno : -EIO, "d%u: cannot map its new frames",
			    vm->domid);
	for (uint64_t i = 0; rc == 0 && i < n; i++)
		if (errs[i] != 0)
			rc = kx_err(err, errs[i], "d%u: cannot map a new frame", vm->domid);
	/* Fresh frames may hold what another live domain gave back. */
	if (rc == 0)
		memset(vm->host + gpa, 0, size);
	free(errs);
	return rc;
}

int xen_share_unmap(struct hv_vm *vm, uint64_t gpa, uint64_t size, struct kx_error *err)
{
	bool owned = false;

	for (unsigned i = 0; i < vm->nshared;) {
		struct xen_shared *s = &vm->shared[i];

		if (s->gpa < gpa + size && gpa < s->gpa + s->size) {
			owned |= s->fd < 0 && s->owner == vm->domid;
			if (s->fd >= 0)
				close(s->fd);
			bell_unmap(s);
			*s = vm->shared[--vm->nshared];
			continue;
		}
		i++;
	}
	if (owned)
		return replace_frames(vm, gpa, size, err);
	memset(vm->host + gpa, 0, size);
	return 0;
}

void xen_share_refresh(struct hv_vm *vm)
{
	for (unsigned i = 0; i < vm->nshared; i++) {
		const struct xen_shared *s = &vm->shared[i];

		if (s->fd >= 0 && read_all(s->fd, vm->host + s->gpa, s->size, s->offset) != 0) {
			/* The file cannot shrink (sealed by kxd): keep the last copy. */
		}
	}
}

void xen_share_sample(struct hv_vm *vm)
{
	for (unsigned i = 0; i < vm->nshared; i++)
		if (vm->shared[i].bell != NULL)
			vm->shared[i].bell_seen =
				__atomic_load_n(vm->shared[i].bell, __ATOMIC_SEQ_CST);
}

/* The data range holding the word at gpa (the core checked it lies in one). */
static struct xen_shared *data_range(struct hv_vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < vm->nshared; i++) {
		struct xen_shared *s = &vm->shared[i];

		if (s->fd < 0 && gpa >= s->gpa && gpa + 4 <= s->gpa + s->size)
			return s;
	}
	return NULL;
}

static void count(struct hv_vm *vm, bool woken)
{
	if (vm->bootpg == NULL)
		return;
	if (woken)
		vm->bootpg->ipc_waits_woken++;
	else
		vm->bootpg->ipc_waits_timed_out++;
}

int xen_share_wait(struct hv_vm *vm, uint64_t gpa, uint32_t value, uint64_t timeout_ns)
{
	struct xen_shared *s = data_range(vm, gpa);
	struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000ull),
			      .tv_nsec = (long)(timeout_ns % 1000000000ull)};
	uint32_t *w;
	uint32_t expect;

	/* Without a doorbell: the word in this monitor's view, and a futex
	 * the kernel may refuse there — the guest then simply looks again. */
	w = s != NULL && s->bell != NULL ? s->bell : (uint32_t *)(void *)(vm->host + gpa);
	expect = s != NULL && s->bell != NULL ? s->bell_seen : value;
	if (syscall(SYS_futex, w, FUTEX_WAIT, expect, &ts, NULL, 0) == 0 || errno == EAGAIN) {
		count(vm, true);
		return 0;
	}
	if (errno == ETIMEDOUT) {
		count(vm, false);
		return -ETIMEDOUT;
	}
	return errno == EINTR ? -EINTR : 0;
}

int xen_share_wake(struct hv_vm *vm, uint64_t gpa, uint32_t count_max)
{
	struct xen_shared *s = data_range(vm, gpa);
	long n;

	if (s == NULL || s->bell == NULL)
		return 0; /* nobody can sleep on it but at their time limit */
	__atomic_add_fetch(s->bell, 1, __ATOMIC_SEQ_CST);
	/* Every sleeper: each waits on the whole area, not on this word. */
	(void)count_max;
	n = syscall(SYS_futex, s->bell, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	return n < 0 ? 0 : (int)(n > INT_MAX ? INT_MAX : n);
}

const struct xen_shared *xen_share_frames(const struct hv_vm *vm, uint64_t pfn)
{
	for (unsigned i = 0; i < vm->nshared; i++) {
		const struct xen_shared *s = &vm->shared[i];

		if (s->fd < 0 && pfn >= s->gpa / XEN_PAGE && pfn < (s->gpa + s->size) / XEN_PAGE)
			return s;
	}
	return NULL;
}

void xen_share_close(struct hv_vm *vm)
{
	for (unsigned i = 0; i < vm->nshared; i++) {
		if (vm->shared[i].fd >= 0)
			close(vm->shared[i].fd);
		bell_unmap(&vm->shared[i]);
	}
	vm->nshared = 0;
}
