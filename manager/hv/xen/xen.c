/*
 * xen.c — the Xen backend: a pVM as a 64-bit PV domain that the monitor (a
 * dom0 process) builds and serves itself, through libxenctrl,
 * libxenforeignmemory and libxenevtchn (Debian's libxen-dev).
 *
 * create: an empty PV domain (no XenStore entry, no device, no console:
 *   nothing kx does not use), mem_size bytes of frames populated in pfn
 *   order, and one host mapping of them for the core (the frames below
 *   LAYOUT_MONITOR_END stay the backend's and are not in it); the event
 *   channel to the guest and the kx ring page (serve.c) are set up before
 *   the guest can run.
 * protect, unmap, map_fd: entries of the page tables the backend builds
 *   (guest address == pfn * 4096, the core's layout); after boot, written
 *   into the domain's L1 tables with mmu_update, and flush asks the guest
 *   to flush its TLB after its next kx call (struct kx_ring_boot's
 *   flush_seq): a PV guest owns its page tables, so these rights are the
 *   guest's own protection (docs/xen-backend.md).  map_fd copies a
 *   write-sealed file's bytes into the domain's frames (no host file can
 *   back them) and refuses any other file (-EOPNOTSUPP).
 * boot: the page tables written into the backend's frames and pinned, the
 *   vCPU context (entry, stack, %rdi = the core's argument, %rsi = the boot
 *   page, struct kx_ring_boot) set; the domain is unpaused by run.
 * run: answer the last request, take the next from the ring, sleep on the
 *   event channel; kick and pause write a self-pipe (async-signal-safe) and
 *   the loop pauses the domain; the domain's shutdown ends the pVM.
 * fork: a new domain whose memory starts as a copy of the parent's (fork.c).
 * set_vcpu: not supported on Xen PV (-EOPNOTSUPP, "not supported on xen"):
 *   a running PV vCPU's context cannot be replaced.  Signal handlers go
 *   through signal_mark instead: the boot page names the handler and the
 *   guest enters it after its next answer.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <xencall.h>
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>

#include "manager/hv/xen/domain.h"

#define POPULATE_BATCH 4096u


static int unsupported(struct kx_error *err, const char *what, const char *why)
{
	return kx_err(err, -EOPNOTSUPP, "%s: not supported on xen (%s)", what, why);
}

/* ---- probe --------------------------------------------------------------------- */

static int xen_probe(struct kx_error *err)
{
	xc_interface *xch = xc_interface_open(&xen_quiet_logger, &xen_quiet_logger, 0);
	xenevtchn_handle *xce = NULL;
	xen_capabilities_info_t caps;
	int rc = 0;

	if (xch == NULL) {
		rc = kx_err(err, -errno ? -errno : -ENODEV,
			    "cannot open Xen's control interface (/dev/xen/privcmd): %s "
			    "(kx runs Xen pVMs from dom0)",
			    strerror(errno));
		goto out;
	}
	xce = xenevtchn_open(&xen_quiet_logger, 0);
	if (xce == NULL) {
		rc = kx_err(err, -errno ? -errno : -ENODEV,
			    "cannot open Xen's event channels (/dev/xen/evtchn): %s", strerror(errno));
		goto out;
	}
	memset(caps, 0, sizeof(caps));
	if (xc_version(xch, XENVER_capabilities, &caps) < 0) {
		rc = kx_err(err, -errno ? -errno : -EIO, "xc_version: %s", strerror(errno));
		goto out;
	}
	caps[sizeof(caps) - 1] = '\0';
	if (strstr(caps, "xen-3.0-x86_64") == NULL)
		rc = kx_err(err, -ENODEV, "this Xen runs no 64-bit PV guests (capabilities: %s)",
			    caps);
out:
	if (xce != NULL)
		xenevtchn_close(xce);
	if (xch != NULL)
		xc_interface_close(xch);
	return rc;
}

/* ---- create ---------------------------------------------------------------------- */

static bool cpu_has_nx(void)
{
	unsigned a, b, c, d;

	/* dom0 sees Xen's CPUID view, the one the guest's page tables face. */
	return __get_cpuid(0x80000001, &a, &b, &c, &d) && (d & (1u << 20));
}

/* One machine frame mapped for the backend (not restricted to a range). */
void *xen_map_frame(struct hv_vm *vm, xen_pfn_t mfn, int prot)
{
	int e = 0;
	void *p = xenforeignmemory_map(vm->fmem, vm->domid, prot, 1, &mfn, &e);

	if (p != NULL && e != 0) {
		xenforeignmemory_unmap(vm->fmem, p, 1);
		errno = -e;
		p = NULL;
	}
	return p;
}

static void xen_destroy(struct hv_vm *vm);

int xen_open_handles(struct hv_vm *vm, struct kx_error *err)
{
	vm->xch = xc_interface_open(&xen_quiet_logger, &xen_quiet_logger, 0);
	vm->xcall = xencall_open(&xen_quiet_logger, 0);
	vm->fmem = xenforeignmemory_open(&xen_quiet_logger, 0);
	vm->xce = xenevtchn_open(&xen_quiet_logger, 0);
	if (vm->xch == NULL || vm->xcall == NULL || vm->fmem == NULL || vm->xce == NULL)
		return kx_err(err, errno ? -errno : -ENODEV,
			      "cannot open Xen's interfaces (kx runs Xen pVMs from dom0): %s",
			      strerror(errno));
	return 0;
}

void xen_close_handles(struct hv_vm *vm)
{
	if (vm->xce != NULL)
		xenevtchn_close(vm->xce);
	if (vm->fmem != NULL)
		xenforeignmemory_close(vm->fmem);
	if (vm->xch != NULL)
		xc_interface_close(vm->xch);
	if (vm->xcall != NULL)
		xencall_close(vm->xcall);
	vm->xce = NULL;
	vm->fmem = NULL;
	vm->xch = NULL;
	vm->xcall = NULL;
}


int xen_new_domain(struct hv_vm *vm, struct kx_error *err)
{
	struct xen_domctl_createdomain cfg = {
		.flags = 0, /* PV */
		.max_vcpus = 1,
		.max_evtchn_port = 63,
		.max_grant_frames = 1,
		.max_maptrack_frames = 0,
		.grant_opts = XEN_DOMCTL_GRANT_version(1),
	};
	uint32_t domid = 0;
	int rc;

	/* The reaper tells this domain from a later one with the same id. */
	if (getrandom(cfg.handle, sizeof(cfg.handle), 0) != (ssize_t)sizeof(cfg.handle))
		return kx_err(err, -EIO, "getrandom: %s", strerror(errno));
	if (xc_domain_create(vm->xch, &domid, &cfg) != 0)
		return kx_err(err, -errno, "cannot create a PV domain: %s", strerror(errno));
	vm->domid = domid;
	vm->have_domain = true;
	rc = xen_reaper_start(domid, cfg.handle, &vm->reaper, err);
	if (rc != 0)
		return rc;
	vm->paused = true; /* a new domain runs nothing until unpaused */
	/* Xen 4.17 still allocates the vCPUs here (the count must match). */
	if (xc_domain_max_vcpus(vm->xch, domid, 1) != 0)
		return kx_err(err, -errno, "d%u: cannot allocate its vCPU: %s", domid,
			      strerror(errno));
	if (xc_domain_setmaxmem(vm->xch, domid, vm->mem_size / 1024) != 0)
		return kx_err(err, -errno, "d%u: cannot set its memory limit: %s", domid,
			      strerror(errno));
	for (uint64_t i = 0; i < vm->npages; i++)
		vm->p2m[i] = i;
	for (uint64_t i = 0; i < vm->npages; i += POPULATE_BATCH) {
		uint64_t n = vm->npages - i < POPULATE_BATCH ? vm->npages - i : POPULATE_BATCH;

		/* A PV domain learns each new frame's machine number in place. */
		if (xc_domain_populate_physmap_exact(vm->xch, domid, n, 0, 0, vm->p2m + i) != 0)
			return kx_err(err, -errno, "d%u: cannot populate %llu MiB: %s", domid,
				      (unsigned long long)(vm->mem_size >> 20), strerror(errno));
	}
	/* What a jailed monitor keeps: this handle maps this domain's frames only. */
	if (xenforeignmemory_restrict(vm->fmem, (domid_t)domid) != 0)
		return kx_err(err, -errno, "d%u: cannot restrict the mapping handle: %s", domid,
			      strerror(errno));
	return xen_zero_frames(vm, 0, vm->npages, err);
}

/*
 * Xen scrubs a freed frame only when its domain is dying: one a live
 * domain gave back (XENMEM_decrease_reservation: share.c's replace_frames,
 * or a guest ballooning) returns to the heap with its bytes, and the next
 * populate may hand it to this domain.  A PV guest can map any frame it
 * owns (it writes its own page tables), so every frame is zeroed here,
 * the monitor region's too — as KVM's anonymous memory is zero.
 */
int xen_zero_frames(struct hv_vm *vm, uint64_t first, uint64_t n, struct kx_error *err)
{
	int *errs = calloc(POPULATE_BATCH, sizeof(*errs));
	int rc = 0;

	if (errs == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	for (uint64_t i = 0; rc == 0 && i < n; i += POPULATE_BATCH) {
		uint64_t k = n - i < POPULATE_BATCH ? n - i : POPULATE_BATCH;
		void *p = xenforeignmemory_map(vm->fmem, vm->domid, PROT_READ | PROT_WRITE, k,
					       vm->p2m + first + i, errs);

		if (p == NULL) {
			rc = kx_err(err, -errno, "d%u: cannot map its frames to zero them: %s",
				    vm->domid, strerror(errno));
			break;
		}
		for (uint64_t j = 0; j < k && rc == 0; j++)
			if (errs[j] != 0)
				rc = kx_err(err, errs[j], "d%u: cannot map a frame to zero it",
					    vm->domid);
		if (rc == 0)
			memset(p, 0, k * XEN_PAGE);
		xenforeignmemory_unmap(vm->fmem, p, k);
	}
	free(errs);
	return rc;
}

/* The core's view: anonymous pages below the monitor end, the domain's frames above. */
static int map_memory(struct hv_vm *vm, struct kx_error *err)
{
	uint64_t n = vm->npages - XEN_MONITOR_PAGES;
	int *errs = NULL;
	int rc = 0;

	vm->host = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->host == MAP_FAILED) {
		vm->host = NULL;
		return kx_err(err, -errno, "cannot reserve the host view: %s", strerror(errno));
	}
	errs = calloc(n, sizeof(*errs));
	if (errs == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	vm->frames = xenforeignmemory_map2(vm->fmem, vm->domid,
					   vm->host + XEN_MONITOR_PAGES * XEN_PAGE,
					   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, n,
					   vm->p2m + XEN_MONITOR_PAGES, errs);
	if (vm->frames == NULL) {
		rc = kx_err(err, -errno, "d%u: cannot map its memory: %s", vm->domid,
			    strerror(errno));
		goto out;
	}
	for (uint64_t i = 0; i < n; i++)
		if (errs[i] != 0) {
			rc = kx_err(err, errs[i], "d%u: cannot map pfn 0x%llx: %s", vm->domid,
				    (unsigned long long)(i + XEN_MONITOR_PAGES), strerror(-errs[i]));
			goto out;
		}
out:
	free(errs);
	return rc;
}

/* The event channel, the kx ring, the boot page and shared_info's mask. */
static int setup_transport(struct hv_vm *vm, struct kx_error *err)
{
	xc_domaininfo_t info;
	struct kx_ring_boot *bp = NULL;
	shared_info_t *si = NULL;
	int port, rc = 0;

	if (xc_domain_getinfolist(vm->xch, vm->domid, 1, &info) != 1 || info.domain != vm->domid)
		return kx_err(err, -ESRCH, "d%u: gone", vm->domid);
	port = xc_evtchn_alloc_unbound(vm->xch, vm->domid, 0);
	if (port < 0)
		return kx_err(err, -errno, "d%u: cannot allocate an event channel: %s", vm->domid,
			      strerror(errno));
	rc = xenevtchn_bind_interdomain(vm->xce, vm->domid, (evtchn_port_t)port);
	if (rc < 0)
		return kx_err(err, -errno, "d%u: cannot bind its event channel: %s", vm->domid,
			      strerror(errno));
	vm->local = (evtchn_port_t)rc;
	vm->remote = (evtchn_port_t)port;
	rc = 0;
	vm->ring = xen_map_frame(vm, vm->p2m[XEN_PFN_RING], PROT_READ | PROT_WRITE);
	bp = xen_map_frame(vm, vm->p2m[XEN_PFN_BOOT], PROT_READ | PROT_WRITE);
	si = xen_map_frame(vm, info.shared_info_frame, PROT_READ | PROT_WRITE);
	vm->bootpg = bp;
	if (vm->ring == NULL || bp == NULL || si == NULL) {
		rc = kx_err(err, -errno, "d%u: cannot map its ring, boot page or shared_info: %s",
			    vm->domid, strerror(errno));
		goto out;
	}
	/* The guest polls its port: no event upcall ever. */
	si->vcpu_info[0].evtchn_upcall_mask = 1;
	xen_serve_init(&vm->serve, vm->ring, (uint32_t)port);
	memset(bp, 0, XEN_PAGE);
	*bp = (struct kx_ring_boot){
		.magic = KX_RING_BOOT_MAGIC,
		.version = KX_RING_ABI_VERSION,
		.ring = XEN_PFN_RING * XEN_PAGE,
		.shared_info = XEN_VA_SHARED_INFO,
	};
	vm->l1[XEN_PFN_BOOT] = xen_leaf(vm, vm->p2m[XEN_PFN_BOOT], HV_PROT_READ);
	vm->l1[XEN_PFN_RING] = xen_leaf(vm, vm->p2m[XEN_PFN_RING], HV_PROT_READ | HV_PROT_WRITE);
	vm->l1[XEN_VA_SHARED_INFO / XEN_PAGE] =
		xen_leaf(vm, info.shared_info_frame, HV_PROT_READ | HV_PROT_WRITE);
out:
	if (si != NULL)
		xenforeignmemory_unmap(vm->fmem, si, 1);
	return rc;
}

/* A Xen that hands out unscrubbed frames lets a pVM read what others left
 * in theirs (cmdline.c): refused, with the option that fixes it. */
static int check_scrubbing(struct hv_vm *vm, struct kx_error *err)
{
	xen_commandline_t cmdline;

	memset(cmdline, 0, sizeof(cmdline));
	if (xc_version(vm->xch, XENVER_commandline, &cmdline) < 0)
		return kx_err(err, -errno ? -errno : -EIO, "xc_version(commandline): %s",
			      strerror(errno));
	if (!xen_cmdline_scrubs_domheap(cmdline, sizeof(cmdline)))
		return kx_err(err, -EPERM,
			      "this Xen does not scrub the frames a domain gives back: boot Xen "
			      "with scrub-domheap (docs/xen-backend.md, \"Memory\"), or a pVM "
			      "can read what other pVMs left in theirs");
	return 0;
}

static int xen_create(uint64_t mem_size, struct hv_guest_mem *mem, uint64_t *features,
		      struct hv_vm **out, struct kx_error *err)
{
	struct hv_vm *vm = NULL;
	int rc;

	*out = NULL;
	if (mem_size % XEN_PAGE != 0 || mem_size / XEN_PAGE <= XEN_MONITOR_PAGES ||
	    mem_size > (1ull << 30))
		return kx_err(err, -EINVAL, "xen: memory size 0x%llx out of range",
			      (unsigned long long)mem_size);
	vm = calloc(1, sizeof(*vm));
	if (vm == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	vm->wake[0] = vm->wake[1] = -1;
	vm->reaper = (struct xen_reaper){.fd = -1, .pid = -1};
	vm->mem_size = mem_size;
	vm->npages = mem_size / XEN_PAGE;
	vm->nx = cpu_has_nx();
	vm->p2m = calloc(vm->npages, sizeof(*vm->p2m));
	vm->l1 = calloc(vm->npages, sizeof(*vm->l1));
	if (vm->p2m == NULL || vm->l1 == NULL) {
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (pipe2(vm->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = kx_err(err, -errno, "pipe: %s", strerror(errno));
		goto out;
	}
	rc = xen_open_handles(vm, err);
	if (rc == 0)
		rc = check_scrubbing(vm, err);
	if (rc == 0)
		rc = xen_new_domain(vm, err);
	if (rc != 0)
		goto out;
	rc = map_memory(vm, err);
	if (rc == 0)
		rc = setup_transport(vm, err);
	if (rc != 0)
		goto out;
	mem->host = vm->host;
	mem->size = mem_size;
	*features = 0; /* no wrfsbase: a PV guest sets FS through Xen */
	*out = vm;
	vm = NULL;
out:
	if (vm != NULL)
		xen_destroy(vm);
	return rc;
}

/* ---- rights ------------------------------------------------------------------------ */

static int xen_protect(struct hv_vm *vm, uint64_t gpa, uint64_t size, unsigned prot,
		       struct kx_error *err)
{
	return xen_set_leaves(vm, gpa, size, prot, err);
}

/*
 * A file's pages become a copy in the domain's own frames, with the rights
 * asked for: no host file can back a PV domain's frames.  A copy is the
 * same thing only for a file that can never change, so only a memfd sealed
 * against writing is taken (a library's text); anything else (an IpC
 * object, shared and written) is refused.
 */
static int xen_map_fd(struct hv_vm *vm, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
		      unsigned prot, struct kx_error *err)
{
	uint64_t done = 0;
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0 || !(seals & F_SEAL_WRITE))
		return xen_share_map(vm, gpa, fd, offset, size, prot, err);
	while (done < size) {
		ssize_t n = pread(fd, vm->host + gpa + done, size - done, (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return kx_err(err, n < 0 ? -errno : -EIO, "map_fd: cannot read the file: %s",
				      n < 0 ? strerror(errno) : "it is shorter than the range");
		done += (uint64_t)n;
	}
	return xen_set_leaves(vm, gpa, size, prot, err);
}

static int xen_unmap(struct hv_vm *vm, uint64_t gpa, uint64_t size, struct kx_error *err)
{
	int rc = xen_set_leaves(vm, gpa, size, 0, err);

	if (rc == 0)
		rc = xen_share_unmap(vm, gpa, size, err);
	return rc;
}

static int xen_flush(struct hv_vm *vm, struct kx_error *err)
{
	(void)err;
	if (!vm->booted || !vm->dirty)
		return 0;
	vm->dirty = false;
	vm->bootpg->flush_seq++;
	return 1;
}

/* ---- boot ---------------------------------------------------------------------------- */

static int xen_boot(struct hv_vm *vm, uint64_t entry, uint64_t rsp, uint64_t arg,
		    struct kx_error *err)
{
	vcpu_guest_context_any_t ctx;
	int rc;

	if (vm->booted)
		return kx_err(err, -EBUSY, "xen: already booted");
	rc = xen_write_page_tables(vm, err);
	if (rc != 0)
		return rc;
	memset(&ctx, 0, sizeof(ctx));
	ctx.c.user_regs.rip = entry;
	ctx.c.user_regs.rsp = rsp;
	ctx.c.user_regs.rdi = arg;
	ctx.c.user_regs.rsi = XEN_PFN_BOOT * XEN_PAGE;
	ctx.c.user_regs.rflags = 1u << 9;
	ctx.c.user_regs.cs = FLAT_KERNEL_CS;
	ctx.c.user_regs.ss = FLAT_KERNEL_SS;
	ctx.c.user_regs.ds = ctx.c.user_regs.es = FLAT_KERNEL_DS;
	ctx.c.user_regs.fs = ctx.c.user_regs.gs = FLAT_KERNEL_DS;
	ctx.c.kernel_ss = FLAT_KERNEL_SS;
	ctx.c.kernel_sp = rsp;
	ctx.c.flags = VGCF_in_kernel | VGCF_online;
	ctx.c.ctrlreg[3] = (uint64_t)vm->p2m[XEN_PFN_L4] << 12;
	if (xc_vcpu_setcontext(vm->xch, vm->domid, 0, &ctx) != 0)
		return kx_err(err, -errno, "d%u: cannot set its vCPU: %s", vm->domid,
			      strerror(errno));
	vm->booted = true;
	return 0;
}

/* ---- run ------------------------------------------------------------------------------ */

static void drain(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void wake(struct hv_vm *vm)
{
	int saved = errno;
	char c = 1;

	if (write(vm->wake[1], &c, 1) < 0) {
		/* full: the loop will wake anyway */
	}
	errno = saved;
}

int xen_set_paused(struct hv_vm *vm, bool paused, struct kx_error *err)
{
	if (vm->paused == paused)
		return 0;
	if ((paused ? xc_domain_pause(vm->xch, vm->domid)
		    : xc_domain_unpause(vm->xch, vm->domid)) != 0)
		return kx_err(err, -errno, "d%u: cannot %s it: %s", vm->domid,
			      paused ? "pause" : "unpause", strerror(errno));
	vm->paused = paused;
	return 0;
}

static uint64_t vcpu_rip(struct hv_vm *vm)
{
	vcpu_guest_context_any_t ctx;

	if (xc_vcpu_getcontext(vm->xch, vm->domid, 0, &ctx) != 0)
		return 0;
	return ctx.c.user_regs.rip;
}

/* 1 with exit filled when the domain can run no more. */
static int domain_ended(struct hv_vm *vm, struct hv_exit *exit, struct kx_error *err, int *rc)
{
	xc_domaininfo_t info;
	unsigned why;

	*rc = 0;
	if (xc_domain_getinfolist(vm->xch, vm->domid, 1, &info) != 1 || info.domain != vm->domid) {
		*rc = kx_err(err, -ESRCH, "d%u: gone", vm->domid);
		return 1;
	}
	if (!(info.flags & (XEN_DOMINF_shutdown | XEN_DOMINF_dying)))
		return 0;
	why = (info.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
	memset(exit, 0, sizeof(*exit));
	exit->kind = HV_EXIT_END;
	exit->end.reason = HV_END_INTERNAL;
	exit->end.hw_reason = why;
	exit->end.detail = why == SHUTDOWN_crash
				   ? "xen crashed the domain (a fault its handler could not take)"
				   : "the domain shut down without exiting through kx";
	exit->end.rip = vcpu_rip(vm);
	return 1;
}

static int xen_run(struct hv_vm *vm, struct hv_exit *exit, struct kx_error *err)
{
	int notify, rc;
	bool idle = false;

	if (!vm->booted)
		return kx_err(err, -EINVAL, "xen: not booted");
	/* After a fork the child process holds the child's domain alone. */
	xen_fork_release(vm);
	/* Before an answer lets the guest look at a word again (not at a
	 * kick: the guest may have looked already). */
	if (vm->serve.serving)
		xen_share_sample(vm);
	xen_serve_answer(&vm->serve, &notify);
	if (notify && xenevtchn_notify(vm->xce, vm->local) != 0)
		return kx_err(err, -errno, "d%u: cannot notify: %s", vm->domid, strerror(errno));
	for (;;) {
		struct pollfd pfd[2] = {{.fd = xenevtchn_fd(vm->xce), .events = POLLIN},
					{.fd = vm->wake[0], .events = POLLIN}};

		drain(vm->wake[0]);
		xen_fork_reap(vm);
		xen_share_refresh(vm); /* kxd's control pages, before the guest looks */
		if (vm->pause_req || vm->kick_req) {
			rc = xen_set_paused(vm, true, err);
			if (rc != 0)
				return rc;
			memset(exit, 0, sizeof(*exit));
			exit->kind = vm->pause_req ? HV_EXIT_PAUSED : HV_EXIT_KICK;
			exit->end.rip = vcpu_rip(vm);
			vm->kick_req = 0;
			return 0;
		}
		if (xen_serve_next(&vm->serve, exit))
			return 0;
		rc = xen_set_paused(vm, false, err);
		if (rc != 0)
			return rc;
		/* A domain that ended sends nothing: look when a wait timed out. */
		if (idle && domain_ended(vm, exit, err, &rc))
			return rc;
		idle = poll(pfd, 2, 100) == 0;
		if (!idle && (pfd[0].revents & POLLIN)) {
			xenevtchn_port_or_error_t port = xenevtchn_pending(vm->xce);

			if (port >= 0)
				xenevtchn_unmask(vm->xce, (evtchn_port_t)port);
		}
	}
}

static uint64_t xen_hcall_rip(struct hv_vm *vm)
{
	return vcpu_rip(vm);
}

static void xen_kick(struct hv_vm *vm)
{
	vm->kick_req = 1;
	wake(vm);
}

static void xen_pause(struct hv_vm *vm)
{
	vm->pause_req = 1;
	wake(vm);
}

static void xen_resume(struct hv_vm *vm)
{
	vm->pause_req = 0;
	wake(vm);
}

/* ---- vCPU state --------------------------------------------------------------------------- */

static int xen_get_vcpu(struct hv_vm *vm, struct hv_vcpu *st, unsigned parts,
			struct kx_error *err)
{
	vcpu_guest_context_any_t ctx;
	const struct cpu_user_regs *r = &ctx.c.user_regs;

	if (xc_vcpu_getcontext(vm->xch, vm->domid, 0, &ctx) != 0)
		return kx_err(err, -errno, "d%u: cannot read its vCPU: %s", vm->domid,
			      strerror(errno));
	if (parts & HV_VCPU_REGS) {
		const uint64_t g[16] = {r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp,
					r->rsi, r->rdi, r->r8,	r->r9,	r->r10, r->r11,
					r->r12, r->r13, r->r14, r->r15};

		memcpy(st->gpr, g, sizeof(g));
		st->rip = r->rip;
		st->rflags = r->rflags;
	}
	if (parts & HV_VCPU_SEGS) {
		st->fs_base = ctx.c.fs_base;
		st->gs_base = ctx.c.gs_base_kernel;
		st->user = true; /* a 64-bit PV guest always runs at CPL3 */
	}
	if (parts & HV_VCPU_FPU)
		memcpy(st->fpu, ctx.c.fpu_ctxt.x, sizeof(st->fpu));
	return 0;
}

static int xen_set_vcpu(struct hv_vm *vm, const struct hv_vcpu *st, unsigned parts,
			struct kx_error *err)
{
	(void)vm, (void)st, (void)parts;
	return unsupported(err, "setting the vCPU's state",
			   "Xen replaces a PV vCPU's context only before it first runs");
}

/* The guest runs the handler itself (guest/xen/xen.c): after the answer it
 * takes next, it sees sig_seq move.  The core marks one signal at a time
 * (never while a handler runs), so the guest never reads a half-written
 * mark; sig_seq is written last. */
static int xen_signal_mark(struct hv_vm *vm, uint32_t sig, uint64_t handler,
			   struct kx_error *err)
{
	if (vm->bootpg == NULL)
		return kx_err(err, -EINVAL, "d%u: no boot page to mark signal %u on", vm->domid,
			      sig);
	vm->bootpg->sig = sig;
	vm->bootpg->sig_handler = handler;
	__atomic_store_n(&vm->bootpg->sig_seq, vm->bootpg->sig_seq + 1, __ATOMIC_RELEASE);
	return 0;
}

static void xen_destroy(struct hv_vm *vm)
{
	if (vm == NULL)
		return;
	xen_fork_release(vm);
	xen_fork_reap(vm); /* those still running end with their children */
	free(vm->released);
	if (vm->ring != NULL)
		xenforeignmemory_unmap(vm->fmem, vm->ring, 1);
	if (vm->bootpg != NULL)
		xenforeignmemory_unmap(vm->fmem, (void *)vm->bootpg, 1);
	if (vm->frames != NULL)
		xenforeignmemory_unmap(vm->fmem, vm->frames, vm->npages - XEN_MONITOR_PAGES);
	if (vm->host != NULL)
		munmap(vm->host, vm->mem_size);
	if (vm->have_domain)
		xc_domain_destroy(vm->xch, vm->domid);
	xen_reaper_stop(&vm->reaper);
	xen_close_handles(vm);
	xen_share_close(vm);
	for (int i = 0; i < 2; i++)
		if (vm->wake[i] >= 0)
			close(vm->wake[i]);
	free(vm->p2m);
	free(vm->l1);
	free(vm);
}

const struct hv_backend hv_xen_backend = {
	.name = "xen",
	.probe = xen_probe,
	.create = xen_create,
	.boot = xen_boot,
	.protect = xen_protect,
	.map_fd = xen_map_fd,
	.unmap = xen_unmap,
	.flush = xen_flush,
	.run = xen_run,
	.hcall_rip = xen_hcall_rip,
	.kick = xen_kick,
	.pause = xen_pause,
	.resume = xen_resume,
	.get_vcpu = xen_get_vcpu,
	.set_vcpu = xen_set_vcpu,
	.signal_mark = xen_signal_mark,
	.ipc_wait = xen_share_wait,
	.ipc_wake = xen_share_wake,
	.fork_prepare = xen_fork_prepare,
	.fork_child = xen_fork_child,
	.destroy = xen_destroy,
};
