/*
 * ringpeer — a test stand-in for the kx monitor's Xen transport, run in the
 * test dom0 (tests/xen/dom0/ring.sh).  It is not the host backend (that is
 * manager/hv/xen/, on the backend-neutral core): it proves the kx ring ABI
 * across two domains with the calls a pVM needs to say something and end —
 * CONSOLE_WRITE, CLOCK, EXIT, PANIC — and answers every other call
 * -KX_EPERM, as kxmon without kxd does.
 *
 * usage: ringpeer [-t SECS] DOMID IMAGE
 *   DOMID  a domain created paused (xl create -p) from IMAGE
 * Sets the ring up exactly as kx_ring_abi.h says (the KX note of IMAGE
 * gives the page, the domain is still paused: ident written, magic last),
 * unpauses it, serves calls, and exits with the pVM's status (0..122), 126
 * for a panic or a broken ring, 124 on timeout, 125 for its own failures.
 * The console goes to stdout; "ringpeer: ..." lines to stderr.
 *
 * Guest addresses in blocks are untrusted: every byte read goes through
 * guest_read, which checks the range against the pVM's memory and maps each
 * page through the domain's own page tables (xc_translate_foreign_address)
 * with a foreign-memory handle restricted to this domain, so at worst a
 * lying guest makes the peer read another page of the same guest.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>

#include "guest/kx_hcall_abi.h"
#include "guest/kx_ring_abi.h"
#include "guest/xen/ring.h"
#include "tests/xen/elfnote.h"

#define GUEST_BASE 0x400000ull
#define PAGE	   4096ull

struct peer {
	uint32_t domid;
	uint64_t mem_end;
	xc_interface *xch;
	xenforeignmemory_handle *fmem;
	xenevtchn_handle *xce;
	evtchn_port_t local;
	struct kx_ring_page *page;
	struct kxr_back back;
	unsigned long calls;
};

static int say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int say(const char *fmt, ...)
{
	va_list ap;

	fputs("ringpeer: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static uint64_t now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The ring page's VA from IMAGE's KX note. */
static int ring_va_of(const char *image, uint64_t *va)
{
	struct xen_notes notes;
	struct stat st;
	uint8_t *bytes = NULL;
	int fd = -1, rc = -1;

	fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
		say("%s: %s", image, strerror(errno));
		goto out;
	}
	bytes = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (bytes == MAP_FAILED) {
		bytes = NULL;
		say("%s: mmap: %s", image, strerror(errno));
		goto out;
	}
	if (xen_notes_parse(bytes, (size_t)st.st_size, &notes) != 0 ||
	    xen_note_u64(&notes, KX_ELFNOTE_NAME, KX_ELFNOTE_RING, va) != 0 || *va % PAGE != 0) {
		say("%s: no valid KX ring note", image);
		goto out;
	}
	rc = 0;
out:
	if (bytes)
		munmap(bytes, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Copy len bytes at guest address va; -1 when any byte is not the guest's. */
static int guest_read(struct peer *p, uint64_t va, void *dst, uint64_t len)
{
	uint8_t *out = dst;

	if (va < GUEST_BASE || va > p->mem_end || len > p->mem_end - va)
		return -1;
	while (len > 0) {
		uint64_t in_page = PAGE - va % PAGE, n = len < in_page ? len : in_page;
		xen_pfn_t mfn = xc_translate_foreign_address(p->xch, p->domid, 0, va);
		int err = 0;
		uint8_t *map;

		if (mfn == 0)
			return -1;
		map = xenforeignmemory_map(p->fmem, p->domid, PROT_READ, 1, &mfn, &err);
		if (map == NULL || err != 0) {
			if (map)
				xenforeignmemory_unmap(p->fmem, map, 1);
			return -1;
		}
		memcpy(out, map + va % PAGE, n);
		xenforeignmemory_unmap(p->fmem, map, 1);
		out += n;
		va += n;
		len -= n;
	}
	return 0;
}

/* Serve one request in place; 1 when the pVM ended (*status set). */
static int serve(struct peer *p, struct kxr_req *req, int *status)
{
	static uint8_t buf[KX_HC_CONSOLE_MAX];
	struct kx_hc_console_write *cw = (void *)req->block.bytes;
	struct kx_hc_clock *clk = (void *)req->block.bytes;
	struct kx_hc_exit *ex = (void *)req->block.bytes;
	struct kx_hc_panic *pa = (void *)req->block.bytes;

	p->calls++;
	switch (req->nr) {
	case KX_HC_CONSOLE_WRITE:
		if (req->len < sizeof(*cw) || cw->len > KX_HC_CONSOLE_MAX ||
		    guest_read(p, cw->buf, buf, cw->len) != 0) {
			say("bad hypercall %u: console buffer outside guest memory", req->nr);
			*status = 126;
			return 1;
		}
		fwrite(buf, 1, cw->len, stdout);
		fflush(stdout);
		cw->hdr.ret = (int64_t)cw->len;
		return 0;
	case KX_HC_CLOCK:
		if (req->len < sizeof(*clk))
			break;
		clk->monotonic_ns = now_ns(CLOCK_MONOTONIC);
		clk->realtime_ns = now_ns(CLOCK_REALTIME);
		clk->hdr.ret = 0;
		return 0;
	case KX_HC_EXIT:
		if (req->len < sizeof(*ex))
			break;
		*status = ex->status >= 0 && ex->status <= 122 ? (int)ex->status : 123;
		say("exit %lld after %lu calls", (long long)ex->status, p->calls);
		return 1;
	case KX_HC_PANIC:
		if (req->len < sizeof(*pa) || pa->len > KX_HC_PANIC_MAX ||
		    guest_read(p, pa->msg, buf, pa->len) != 0)
			break;
		say("panic: %.*s", (int)pa->len, (const char *)buf);
		*status = 126;
		return 1;
	default:
		req->block.hdr.ret = -KX_EPERM;
		return 0;
	}
	say("bad hypercall %u: block too short", req->nr);
	*status = 126;
	return 1;
}

static int setup(struct peer *p, const char *image)
{
	xc_domaininfo_t info;
	uint64_t va;
	xen_pfn_t mfn;
	int guest_port, err = 0;

	if (ring_va_of(image, &va) != 0)
		return -1;
	p->xch = xc_interface_open(NULL, NULL, 0);
	p->fmem = xenforeignmemory_open(NULL, 0);
	p->xce = xenevtchn_open(NULL, 0);
	if (!p->xch || !p->fmem || !p->xce)
		return say("cannot open the Xen interfaces: %s", strerror(errno));
	/* What a jailed monitor would do: this handle maps only this domain. */
	if (xenforeignmemory_restrict(p->fmem, (domid_t)p->domid) != 0)
		return say("restrict to d%u: %s", p->domid, strerror(errno));
	if (xc_domain_getinfolist(p->xch, p->domid, 1, &info) != 1 || info.domain != p->domid)
		return say("no domain %u", p->domid);
	p->mem_end = GUEST_BASE + info.tot_pages * PAGE;
	mfn = xc_translate_foreign_address(p->xch, p->domid, 0, va);
	if (mfn == 0)
		return say("the ring page 0x%llx is not mapped in d%u", (unsigned long long)va,
			   p->domid);
	p->page = xenforeignmemory_map(p->fmem, p->domid, PROT_READ | PROT_WRITE, 1, &mfn, &err);
	if (p->page == NULL || err != 0)
		return say("cannot map the ring page: %s", strerror(err ? -err : errno));
	guest_port = xc_evtchn_alloc_unbound(p->xch, p->domid, 0);
	if (guest_port < 0)
		return say("cannot allocate an event channel: %s", strerror(errno));
	if ((int)(p->local = (evtchn_port_t)xenevtchn_bind_interdomain(
			  p->xce, p->domid, (evtchn_port_t)guest_port)) < 0)
		return say("cannot bind the event channel: %s", strerror(errno));
	kxr_back_init(&p->back, p->page, (uint32_t)guest_port);
	return 0;
}

int main(int argc, char **argv)
{
	struct peer p = {0};
	uint64_t deadline;
	int opt, status = 125, secs = 60;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't')
			return 125;
		secs = atoi(optarg);
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: ringpeer [-t SECS] DOMID IMAGE\n");
		return 125;
	}
	p.domid = (uint32_t)strtoul(argv[optind], NULL, 10);
	if (setup(&p, argv[optind + 1]) != 0)
		return 125;
	if (xc_domain_unpause(p.xch, p.domid) != 0) {
		say("unpause d%u: %s", p.domid, strerror(errno));
		return 125;
	}
	deadline = now_ns(CLOCK_MONOTONIC) + (uint64_t)secs * 1000000000ull;
	for (;;) {
		struct kxr_req req;
		const char *why = NULL;
		int rc = kxr_back_take(&p.back, &req, &why), notify = 0;

		if (rc == -KX_EAGAIN) {
			struct pollfd pfd = {.fd = xenevtchn_fd(p.xce), .events = POLLIN};

			kxr_back_want_request(&p.back);
			if ((rc = kxr_back_take(&p.back, &req, &why)) == -KX_EAGAIN) {
				if (now_ns(CLOCK_MONOTONIC) > deadline) {
					say("timeout after %d s", secs);
					status = 124;
					break;
				}
				if (poll(&pfd, 1, 100) > 0) {
					xenevtchn_port_or_error_t port = xenevtchn_pending(p.xce);

					if (port >= 0)
						xenevtchn_unmask(p.xce, (evtchn_port_t)port);
				}
				continue;
			}
		}
		if (rc != 0) {
			say("%s", why ? why : "broken ring");
			status = 126;
			break;
		}
		if (serve(&p, &req, &status))
			break;
		if (kxr_back_put(&p.back, req.id, req.block.bytes, req.len, &notify) != 0) {
			say("cannot answer");
			break;
		}
		if (notify)
			xenevtchn_notify(p.xce, p.local);
	}
	/* The domain stays for the caller to destroy (xl destroy). */
	return status;
}
