/*
 * fork.c — fork on Xen PV: a new domain whose memory starts as a copy of
 * the parent's.
 *
 * The core forks the monitor process (proc.c) and expects the VM to
 * follow: fork_prepare runs in the parent before the process fork,
 * fork_child in the new process after it.  A domain does not follow a
 * process, and Xen's PV interfaces have no copy-on-write (memory sharing,
 * XENMEM_sharing_op, needs hardware paging: HVM/PVH only), so fork_prepare
 * builds the whole child domain while the parent's is paused:
 *
 *   1. pause the parent's domain (its vCPU waits for the fork call's answer
 *      on the kx ring) and read its vCPU context;
 *   2. a new paused domain of the same size (xen_new_domain: its own
 *      reaper, its mapping handle restricted to it);
 *   3. every frame of the core's memory, the boot page and the ring page
 *      copied through foreign mappings (the ring carries the pending fork
 *      request: the child answers it too, with 0);
 *   4. the page tables rebuilt from the parent's leaves, each naming the
 *      child's frame of the same pfn, shared_info the child's own, and
 *      pinned (Xen validates them);
 *   5. its event channel, at the same port number as the parent's (the
 *      guest keeps the number it read from the ring's ident);
 *   6. the vCPU context set with the page-table base translated.
 *
 * fork_child (the new process) adopts the prepared domain: the foreign
 * mappings did not follow the process fork (privcmd mappings are
 * VM_DONTCOPY), so the core's view, the ring and the boot page are mapped
 * again at the addresses the core and serve.c already hold; the control
 * and hypercall handles are opened anew (hypercall buffers are not
 * inherited either).  The parent lets go of its copies of the child's
 * handles at its next run (xen_fork_release): from then on only the child
 * process holds the child's reaper pipe.  If the fork never happened
 * (kxd denied it), that is the last holder and the reaper destroys the
 * unused domain.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manager/hv/xen/domain.h"

#define PTE_MFN_MASK 0x000ffffffffff000ull

static void free_child(struct hv_vm *c)
{
	if (c == NULL)
		return;
	xen_close_handles(c);
	free(c->p2m);
	free(c->l1);
	free(c);
}

/* In the process that built it: let go without destroying the domain. */
void xen_fork_release(struct hv_vm *vm)
{
	struct hv_vm *c = vm->fork_pending;

	if (c == NULL)
		return;
	vm->fork_pending = NULL;
	if (c->reaper.fd >= 0)
		close(c->reaper.fd);
	/* The reaper is this process's child and ends when the child's monitor
	 * does, long after this: keep its pid and wait for it then
	 * (xen_fork_reap), or every fork leaves a zombie in dom0. */
	if (c->reaper.pid > 0 && waitpid(c->reaper.pid, NULL, WNOHANG) == 0) {
		pid_t *more = realloc(vm->released, (vm->nreleased + 1) * sizeof(*more));

		if (more != NULL) {
			vm->released = more;
			vm->released[vm->nreleased++] = c->reaper.pid;
		}
	}
	free_child(c);
}

void xen_fork_reap(struct hv_vm *vm)
{
	for (unsigned i = 0; i < vm->nreleased;) {
		pid_t r = waitpid(vm->released[i], NULL, WNOHANG);

		/* ECHILD: not ours (a forked monitor inherits the list). */
		if (r == vm->released[i] || (r < 0 && errno != EINTR)) {
			vm->released[i] = vm->released[--vm->nreleased];
			continue;
		}
		i++;
	}
}

/* The pfn whose frame is mfn in the parent, the same pfn's frame in the child. */
static int child_mfn(const struct hv_vm *vm, const struct hv_vm *c, uint64_t mfn, uint64_t *out)
{
	for (uint64_t pfn = 0; pfn < vm->npages; pfn++)
		if (vm->p2m[pfn] == mfn) {
			*out = c->p2m[pfn];
			return 0;
		}
	return -ENOENT;
}

/* One page of the child's, written from src. */
static int copy_frame(struct hv_vm *c, uint64_t pfn, const void *src, struct kx_error *err)
{
	void *dst = xen_map_frame(c, c->p2m[pfn], PROT_READ | PROT_WRITE);

	if (dst == NULL)
		return kx_err(err, -errno, "d%u: cannot map pfn 0x%llx: %s", c->domid,
			      (unsigned long long)pfn, strerror(errno));
	memcpy(dst, src, XEN_PAGE);
	xenforeignmemory_unmap(c->fmem, dst, 1);
	return 0;
}

/* Step 3: the core's memory, the boot page, the ring page. */
static int copy_memory(struct hv_vm *vm, struct hv_vm *c, struct kx_error *err)
{
	uint64_t n = vm->npages - XEN_MONITOR_PAGES;
	int *errs = calloc(n, sizeof(*errs));
	void *dst = NULL;
	int rc = 0;

	if (errs == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	dst = xenforeignmemory_map(c->fmem, c->domid, PROT_READ | PROT_WRITE, n,
				   c->p2m + XEN_MONITOR_PAGES, errs);
	if (dst == NULL) {
		rc = kx_err(err, -errno, "d%u: cannot map its memory: %s", c->domid,
			    strerror(errno));
		goto out;
	}
	for (uint64_t i = 0; i < n; i++)
		if (errs[i] != 0) {
			rc = kx_err(err, errs[i], "d%u: cannot map pfn 0x%llx", c->domid,
				    (unsigned long long)(i + XEN_MONITOR_PAGES));
			goto out;
		}
	memcpy(dst, vm->host + XEN_MONITOR_PAGES * XEN_PAGE, n * XEN_PAGE);
	rc = copy_frame(c, XEN_PFN_BOOT, (const void *)vm->bootpg, err);
	if (rc == 0)
		rc = copy_frame(c, XEN_PFN_RING, vm->ring, err);
out:
	if (dst != NULL)
		xenforeignmemory_unmap(c->fmem, dst, n);
	free(errs);
	return rc;
}

/* Steps 4 and 5: shared_info, the leaves, the page tables, the event channel. */
static int build_child(struct hv_vm *vm, struct hv_vm *c, struct kx_error *err)
{
	const uint64_t si_index = XEN_VA_SHARED_INFO / XEN_PAGE;
	xc_domaininfo_t info;
	shared_info_t *si;
	int port, rc;

	if (xc_domain_getinfolist(c->xch, c->domid, 1, &info) != 1 || info.domain != c->domid)
		return kx_err(err, -ESRCH, "d%u: gone", c->domid);
	si = xen_map_frame(c, info.shared_info_frame, PROT_READ | PROT_WRITE);
	if (si == NULL)
		return kx_err(err, -errno, "d%u: cannot map its shared_info: %s", c->domid,
			      strerror(errno));
	si->vcpu_info[0].evtchn_upcall_mask = 1; /* the guest polls, as its parent did */
	xenforeignmemory_unmap(c->fmem, si, 1);
	for (uint64_t i = 0; i < vm->npages; i++) {
		uint64_t e = vm->l1[i];

		if (e == 0 || xen_share_frames(vm, i) != NULL)
			c->l1[i] = 0; /* shared frames: named after the pin (below) */
		else if (i == si_index)
			c->l1[i] = xen_leaf(c, info.shared_info_frame,
					    HV_PROT_READ | HV_PROT_WRITE);
		else
			c->l1[i] = (e & ~PTE_MFN_MASK) | (uint64_t)c->p2m[i] << 12;
	}
	rc = xen_write_page_tables(c, err);
	if (rc != 0)
		return rc;
	/* An IpC object's data area: the very frames the parent maps, which
	 * belong to the domain that mapped the object first. */
	for (uint64_t i = 0; i < vm->npages && rc == 0; i++) {
		const struct xen_shared *s = xen_share_frames(vm, i);

		if (s != NULL && vm->l1[i] != 0)
			rc = xen_put_leaf(c, i, vm->l1[i], s->owner, err);
	}
	if (rc != 0)
		return rc;
	port = xc_evtchn_alloc_unbound(c->xch, c->domid, 0);
	if (port < 0)
		return kx_err(err, -errno, "d%u: cannot allocate an event channel: %s", c->domid,
			      strerror(errno));
	if ((evtchn_port_t)port != vm->remote)
		return kx_err(err, -EIO,
			      "d%u: its event channel is port %d, its parent's %u (the guest "
			      "keeps the parent's)",
			      c->domid, port, vm->remote);
	rc = xenevtchn_bind_interdomain(c->xce, c->domid, (evtchn_port_t)port);
	if (rc < 0)
		return kx_err(err, -errno, "d%u: cannot bind its event channel: %s", c->domid,
			      strerror(errno));
	c->local = (evtchn_port_t)rc;
	c->remote = (evtchn_port_t)port;
	return 0;
}

/* Step 6: the parent's vCPU context, its machine frames the child's. */
static int set_child_vcpu(struct hv_vm *vm, struct hv_vm *c, vcpu_guest_context_any_t *ctx,
			  struct kx_error *err)
{
	uint64_t mfn;

	/* x86-64: cr3 = mfn << 12 (xen_pfn_to_cr3); ctrlreg[1] the user table, 0 if none. */
	for (int r = 1; r <= 3; r += 2) {
		if (ctx->c.ctrlreg[r] == 0)
			continue;
		if (child_mfn(vm, c, ctx->c.ctrlreg[r] >> 12, &mfn) != 0)
			return kx_err(err, -EIO, "d%u: its cr%d names a frame not its own",
				      vm->domid, r);
		ctx->c.ctrlreg[r] = mfn << 12;
	}
	if (ctx->c.gdt_ents > 16 * 512)
		return kx_err(err, -EIO, "d%u: %lu GDT entries", vm->domid,
			      (unsigned long)ctx->c.gdt_ents);
	for (unsigned i = 0; i < (ctx->c.gdt_ents + 511) / 512; i++) {
		if (child_mfn(vm, c, ctx->c.gdt_frames[i], &mfn) != 0)
			return kx_err(err, -EIO, "d%u: its GDT names a frame not its own",
				      vm->domid);
		ctx->c.gdt_frames[i] = mfn;
	}
	if (xc_vcpu_setcontext(c->xch, c->domid, 0, ctx) != 0)
		return kx_err(err, -errno, "d%u: cannot set its vCPU: %s", c->domid,
			      strerror(errno));
	return 0;
}

int xen_fork_prepare(struct hv_vm *vm, struct kx_error *err)
{
	vcpu_guest_context_any_t ctx;
	struct hv_vm *c = NULL;
	int rc;

	xen_fork_release(vm); /* an earlier prepare that kxd refused */
	/* The child's monitor opens its own privcmd handle (a handle does not
	 * survive the process fork), and the jail's root holds no device. */
	if (hv_jailed())
		return kx_err(err, -EOPNOTSUPP,
			      "fork is not supported on xen in a jailed monitor: the child's monitor "
			      "must open /dev/xen/privcmd, which the jail's empty root does not hold "
			      "(kxd --no-jail: docs/xen-backend.md)");
	if (!vm->booted)
		return kx_err(err, -EINVAL, "xen: fork before boot");
	rc = xen_set_paused(vm, true, err);
	if (rc != 0)
		return rc;
	if (xc_vcpu_getcontext(vm->xch, vm->domid, 0, &ctx) != 0)
		return kx_err(err, -errno, "d%u: cannot read its vCPU: %s", vm->domid,
			      strerror(errno));
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	c->reaper = (struct xen_reaper){.fd = -1, .pid = -1};
	c->wake[0] = c->wake[1] = -1;
	c->mem_size = vm->mem_size;
	c->npages = vm->npages;
	c->nx = vm->nx;
	c->p2m = calloc(c->npages, sizeof(*c->p2m));
	c->l1 = calloc(c->npages, sizeof(*c->l1));
	if (c->p2m == NULL || c->l1 == NULL) {
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = xen_open_handles(c, err);
	if (rc == 0)
		rc = xen_new_domain(c, err);
	if (rc == 0)
		rc = copy_memory(vm, c, err);
	if (rc == 0)
		rc = build_child(vm, c, err);
	if (rc == 0)
		rc = set_child_vcpu(vm, c, &ctx, err);
	if (rc != 0)
		goto out;
	c->booted = true;
	vm->fork_pending = c;
	c = NULL;
out:
	if (c != NULL) {
		if (c->have_domain)
			xc_domain_destroy(c->xch, c->domid);
		xen_reaper_stop(&c->reaper);
		free_child(c);
	}
	return rc;
}

/* A foreign mapping of count frames of the adopted domain at addr, which the
 * process fork left unmapped. */
static int map_at(struct hv_vm *vm, void *addr, const xen_pfn_t *mfns, uint64_t count,
		  struct kx_error *err)
{
	int *errs = calloc(count, sizeof(*errs));
	void *p;
	int rc = 0;

	if (errs == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	p = xenforeignmemory_map2(vm->fmem, vm->domid, addr, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_FIXED, count, (xen_pfn_t *)mfns, errs);
	if (p != addr)
		rc = kx_err(err, p == NULL ? -errno : -EIO, "d%u: cannot map its memory again: %s",
			    vm->domid, p == NULL ? strerror(errno) : "at another address");
	for (uint64_t i = 0; rc == 0 && i < count; i++)
		if (errs[i] != 0)
			rc = kx_err(err, errs[i], "d%u: cannot map a frame again", vm->domid);
	free(errs);
	return rc;
}

int xen_fork_child(struct hv_vm *vm, struct kx_error *err)
{
	struct hv_vm *c = vm->fork_pending;
	uint64_t n = vm->npages - XEN_MONITOR_PAGES;
	int rc;

	if (c == NULL)
		return kx_err(err, -EINVAL, "xen: fork_child without fork_prepare");
	vm->fork_pending = NULL;
	/* The parent's released reapers are not this process's children. */
	free(vm->released);
	vm->released = NULL;
	vm->nreleased = 0;
	/* The parent's domain stays the parent's: no handle of it here, and
	 * its reaper pipe only in the parent process. */
	xen_close_handles(vm);
	if (vm->reaper.fd >= 0)
		close(vm->reaper.fd);
	for (int i = 0; i < 2; i++)
		if (vm->wake[i] >= 0)
			close(vm->wake[i]);
	vm->wake[0] = vm->wake[1] = -1;
	/* Hypercall buffers (MADV_DONTFORK) stayed with the parent: new
	 * control handles; the mapping and event-channel handles only hold
	 * a descriptor and go on. */
	xc_interface_close(c->xch);
	xencall_close(c->xcall);
	c->xch = NULL;
	c->xcall = NULL;
	vm->fmem = c->fmem;
	vm->xce = c->xce;
	vm->xch = xc_interface_open(&xen_quiet_logger, &xen_quiet_logger, 0);
	vm->xcall = xencall_open(&xen_quiet_logger, 0);
	vm->domid = c->domid;
	/* Without a control handle the reaper destroys the domain when this
	 * process ends: destroy must not use the missing handle. */
	vm->have_domain = vm->xch != NULL;
	free(vm->p2m);
	free(vm->l1);
	vm->p2m = c->p2m;
	vm->l1 = c->l1;
	vm->local = c->local;
	vm->remote = c->remote;
	vm->reaper = c->reaper;
	vm->reaper.pid = -1; /* the parent process's child: not ours to wait for */
	free(c);
	vm->kick_req = vm->pause_req = 0;
	vm->paused = true; /* created paused; run unpauses it */
	vm->dirty = false;
	if (vm->xch == NULL || vm->xcall == NULL)
		return kx_err(err, errno ? -errno : -ENODEV, "cannot open Xen's interfaces: %s",
			      strerror(errno));
	if (pipe2(vm->wake, O_CLOEXEC | O_NONBLOCK) != 0)
		return kx_err(err, -errno, "pipe: %s", strerror(errno));
	rc = map_at(vm, vm->frames, vm->p2m + XEN_MONITOR_PAGES, n, err);
	if (rc == 0)
		rc = map_at(vm, vm->ring, vm->p2m + XEN_PFN_RING, 1, err);
	if (rc == 0)
		rc = map_at(vm, (void *)vm->bootpg, vm->p2m + XEN_PFN_BOOT, 1, err);
	return rc;
}
