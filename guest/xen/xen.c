/*
 * xen.c — the Xen PV platform (guest/platform.h): from start_info to
 * kx_crt_main, and the console, clocks, exit, panic and kx hypercalls of a
 * pVM running as a 64-bit PV domU.
 *
 * Two modes, decided once at boot:
 *  - a kx monitor in dom0 set up the kx ring (guest/kx_ring_abi.h): every
 *    kx hypercall, the console and the exit included, is a request on it,
 *    exactly the block KVM's monitor would read;
 *  - no monitor (the domain was started with plain `xl create`): the
 *    console is the PV console ring that xenconsoled serves, the exit is
 *    SCHEDOP_shutdown, and the calls that need a manager return -KX_EPERM
 *    as they do under kxmon without kxd.  Nobody can receive the exit
 *    status, so the console's last line states it.
 * The clocks come from Xen's shared_info in both modes: no exit to read them.
 */
#include "guest/xen/xen_public.h"
#include <xen/io/console.h>
#include <xen/sched.h>

#include "guest/kxrt.h"
#include "guest/runtime.h"
#include "guest/platform.h"
#include "guest/xen/hypercall.h"
#include "guest/xen/pv.h"
#include "guest/xen/ring.h"

struct kx_xen kx_xen;

/* Pages of the image whose mapping is replaced: shared_info goes over one,
 * the other is the kx ring a monitor fills before we run (the KX ELF note
 * in entry.S names it). */
static uint8_t shared_info_page[4096] __attribute__((aligned(4096)));
struct kx_ring_page kx_xen_ring __attribute__((aligned(4096)));

static struct kxr_front ring;
static int ring_up;

static struct kx_boot_info boot;
static char argv_buf[MAX_GUEST_CMDLINE + 8];
static char *argv_tab[128];
static char argv0_default[] = "pvm";

extern char kx_image_end[]; /* xen.ld: the page-aligned end of the image */

KX_NORETURN void kx_xen_start(start_info_t *si, uint64_t boot_sp, const struct kx_boot_info *b);
KX_NORETURN void kx_xen_run_on(uint64_t sp, const struct kx_boot_info *b);

int kx_xen_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- clocks ------------------------------------------------------------------ */

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

uint64_t kx_xen_system_ns(void)
{
	static uint64_t last;
	volatile struct vcpu_time_info *t = &kx_xen.shared->vcpu_info[0].time;
	struct kx_xen_time s;
	uint32_t version;
	uint64_t now;

	/* Xen updates the record under an odd version: read until stable. */
	do {
		version = t->version;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s.tsc_timestamp = t->tsc_timestamp;
		s.system_time = t->system_time;
		s.mul = t->tsc_to_system_mul;
		s.shift = t->tsc_shift;
		now = kx_xen_time_ns(&s, rdtsc());
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((version & 1) || version != t->version);
	/* One vCPU, but a new record may start a few ns behind the last read. */
	if (now < last)
		now = last;
	last = now;
	return now;
}

uint64_t kx_clock_monotonic_ns(void)
{
	return kx_xen_system_ns();
}

uint64_t kx_clock_realtime_ns(void)
{
	volatile shared_info_t *s = kx_xen.shared;
	uint64_t sec, nsec;
	uint32_t version;

	/* The wallclock at system time 0, under wc_version like the above. */
	do {
		version = s->wc_version;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		sec = (uint64_t)s->wc_sec_hi << 32 | s->wc_sec;
		nsec = s->wc_nsec;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((version & 1) || version != s->wc_version);
	return sec * 1000000000ull + nsec + kx_xen_system_ns();
}

/* ---- the PV console ---------------------------------------------------------- */

static void clear_pending(uint32_t port)
{
	__atomic_fetch_and(&kx_xen.shared->evtchn_pending[port / 64], ~(1ul << (port % 64)),
			   __ATOMIC_SEQ_CST);
}

/* Sleep until port is signalled or timeout_ns passed.  Events stay masked
 * (vcpu_info.evtchn_upcall_mask): SCHEDOP_poll watches the pending bit. */
static void poll_port(uint32_t port, uint64_t timeout_ns)
{
	evtchn_port_t p = port;
	struct sched_poll poll = {.nr_ports = 1, .timeout = kx_xen_system_ns() + timeout_ns};

	set_xen_guest_handle(poll.ports, &p);
	xen_sched_op(SCHEDOP_poll, &poll);
}

#define CONS_OUT_SIZE ((long)sizeof(((struct xencons_interface *)0)->out))

/* No progress for this long: nobody reads the console; stop waiting for it. */
#define CONSOLE_STALL_NS (5ull * 1000000000ull)
static int console_stalled;

void kx_xen_console_raw(const char *buf, size_t len)
{
	uint64_t since = 0;

	if (kx_xen.console == NULL)
		return;
	while (len > 0 && !console_stalled) {
		long n = kx_xen_cons_put(kx_xen.console, buf, len);

		if (n < 0)
			return; /* xenconsoled broke the indices: say nothing more */
		if (n > 0) {
			xen_evtchn_send(kx_xen.cons_port);
			buf += n;
			len -= (size_t)n;
			since = 0;
			continue;
		}
		if (since == 0)
			since = kx_xen_system_ns();
		else if (kx_xen_system_ns() - since > CONSOLE_STALL_NS)
			console_stalled = 1;
		clear_pending(kx_xen.cons_port);
		if (kx_xen_cons_pending(kx_xen.console) == CONS_OUT_SIZE)
			poll_port(kx_xen.cons_port, 10000000ull);
	}
}

/* Before the domain goes away: give xenconsoled the time to read the ring. */
static void console_flush(void)
{
	uint64_t start = kx_xen_system_ns();

	while (kx_xen.console && !console_stalled && kx_xen_cons_pending(kx_xen.console) > 0 &&
	       kx_xen_system_ns() - start < 2000000000ull) {
		clear_pending(kx_xen.cons_port);
		if (kx_xen_cons_pending(kx_xen.console) > 0)
			poll_port(kx_xen.cons_port, 10000000ull);
	}
}

void kx_xen_shutdown(unsigned reason)
{
	struct sched_shutdown s = {.reason = reason};

	console_flush();
	for (;;)
		xen_sched_op(SCHEDOP_shutdown, &s);
}

/* ---- kx hypercalls over the ring ----------------------------------------------- */

static KX_NORETURN void ring_broken(const char *why)
{
	static const char msg[] = "kx: the kx ring broke: ";

	ring_up = 0;
	kx_xen_console_raw(msg, sizeof(msg) - 1);
	kx_xen_console_raw(why, strnlen(why, 256));
	kx_xen_console_raw("\n", 1);
	kx_xen_shutdown(SHUTDOWN_crash);
}

const volatile struct kx_ring_boot *kx_xen_boot_page(void)
{
	return kx_xen.boot;
}

/* A handler is running (kx_xen_sig_enter): its own kx calls deliver nothing
 * (the monitor marks no other signal until KX_HC_SIGRETURN anyway). */
static int sig_running;

/*
 * Signals (docs/xen-backend.md "Signals"): the monitor cannot redirect a
 * PV vCPU, so it names the handler on the boot page and the guest enters
 * it here, after the answer to a kx call was taken — the ring is idle, so
 * the handler's own kx calls work — on the stack of that call, which keeps
 * the interrupted state as any call does.  Another signal marked at the
 * handler's KX_HC_SIGRETURN runs next.
 */
static void run_signals(void)
{
	uint64_t seq;

	while (kx_xen.boot != NULL &&
	       (seq = __atomic_load_n(&kx_xen.boot->sig_seq, __ATOMIC_ACQUIRE)) != kx_xen.sig_seen) {
		kx_xen.sig_seen = seq;
		sig_running = 1;
		kx_xen_sig_enter(kx_xen.boot->sig, kx_xen.boot->sig_handler);
		sig_running = 0;
	}
}

int64_t kx_hcall(struct kx_hc_hdr *hdr, uint32_t nr)
{
	/* A number the ring does not know carries the header alone: the monitor
	 * refuses it as KVM's does. */
	uint32_t len = kx_xen_block_size(nr) ? kx_xen_block_size(nr) : sizeof(struct kx_hc_hdr);
	const char *why = "";
	uint64_t id;
	int64_t ret;
	int notify, rc;

	hdr->abi_version = KX_HCALL_ABI_VERSION;
	hdr->nr = nr;
	hdr->ret = 0;
	if (!ring_up) {
		hdr->ret = -KX_EPERM;
		return hdr->ret;
	}
	rc = kxr_front_put(&ring, hdr, len, &id, &notify);
	if (rc != 0)
		ring_broken("no room for a request"); /* one call at a time: cannot happen */
	if (notify)
		xen_evtchn_send(ring.evtchn);
	for (;;) {
		rc = kxr_front_take(&ring, id, hdr, len, &why);
		if (rc != -KX_EAGAIN)
			break;
		kxr_front_want_response(&ring);
		clear_pending(ring.evtchn);
		rc = kxr_front_take(&ring, id, hdr, len, &why);
		if (rc != -KX_EAGAIN)
			break;
		poll_port(ring.evtchn, 100000000ull);
	}
	if (rc != 0)
		ring_broken(why);
	/* The monitor changed our page tables while we waited: its rights
	 * apply from here (it cannot flush another domain's TLB). */
	if (kx_xen.boot != NULL && kx_xen.boot->flush_seq != kx_xen.flush_seen) {
		struct mmuext_op flush = {.cmd = MMUEXT_TLB_FLUSH_LOCAL};

		kx_xen.flush_seen = kx_xen.boot->flush_seq;
		xen_mmuext_op(&flush, 1);
	}
	ret = hdr->ret;
	if (sig_running && nr == KX_HC_SIGRETURN && ret == 0)
		kx_xen_sig_resume(); /* the handler ends here, wherever it called from */
	if (!sig_running)
		run_signals();
	return ret;
}

/* ---- the platform interface ---------------------------------------------------- */

long kx_console_write(const void *buf, size_t len)
{
	const char *p = buf;
	long done = 0;

	if (!ring_up) {
		kx_xen_console_raw(buf, len);
		return console_stalled && len > 0 ? -KX_EIO : (long)len;
	}
	while (len > 0) {
		size_t chunk = len < KX_HC_CONSOLE_MAX ? len : KX_HC_CONSOLE_MAX;
		struct kx_hc_console_write c = {.buf = (uint64_t)(uintptr_t)p, .len = chunk};
		int64_t n = kx_hcall(&c.hdr, KX_HC_CONSOLE_WRITE);

		if (n < 0)
			return done > 0 ? done : (long)n;
		done += n;
		p += chunk;
		len -= chunk;
	}
	return done;
}

void kx_exit(int status)
{
	char line[48];
	int n;

	if (ring_up) {
		struct kx_hc_exit e = {.status = status};

		kx_hcall(&e.hdr, KX_HC_EXIT); /* the monitor ends the domain */
	}
	n = kx_xen_fmt(line, sizeof(line), "kx: exit %d\n", status);
	kx_xen_console_raw(line, (size_t)n);
	kx_xen_shutdown(SHUTDOWN_poweroff);
}

void kx_plat_panic(const char *msg, size_t len)
{
	if (ring_up) {
		struct kx_hc_panic p = {.msg = (uint64_t)(uintptr_t)msg, .len = len};

		kx_hcall(&p.hdr, KX_HC_PANIC);
	}
	kx_xen_console_raw("kx: panic: ", 11);
	kx_xen_console_raw(msg, len);
	kx_xen_console_raw("\n", 1);
	kx_xen_shutdown(SHUTDOWN_crash);
}

/* ---- boot ------------------------------------------------------------------------ */

static uint64_t mfn_to_pfn(uint64_t mfn)
{
	const unsigned long *m2p = (const unsigned long *)MACH2PHYS_VIRT_START;

	return mfn < MACH2PHYS_NR_ENTRIES ? m2p[mfn] : ~0ull;
}

static KX_NORETURN void boot_fail(const char *what, const char *why)
{
	kx_xen_console_raw("kx: xen boot: ", 14);
	kx_xen_console_raw(what, strnlen(what, 256));
	kx_xen_console_raw(": ", 2);
	kx_xen_console_raw(why, strnlen(why, 256));
	kx_xen_console_raw("\n", 1);
	kx_xen_shutdown(SHUTDOWN_crash);
}

/*
 * A kx monitor built the domain (kxmon --backend xen): memory is mapped as
 * the core laid it out (guest address == pseudo-physical address), the
 * core's boot info is ready, shared_info and the kx ring are mapped where
 * the boot page says.  No PV console: everything goes over the ring.
 */
static KX_NORETURN void start_monitored(const struct kx_ring_boot *bp,
					 const struct kx_boot_info *b)
{
	const char *why = "";

	kx_xen.monitored = 1;
	kx_xen.boot = bp;
	kx_xen.flush_seen = bp->flush_seq;
	kx_xen.sig_seen = bp->sig_seq;
	kx_xen.shared = (shared_info_t *)(uintptr_t)bp->shared_info;
	kx_xen.shared->vcpu_info[0].evtchn_upcall_mask = 1; /* we poll; no upcalls */
	/* Nothing to report with until the ring is up: a crash Xen records. */
	if (bp->version != KX_RING_ABI_VERSION ||
	    kxr_front_attach(&ring, (struct kx_ring_page *)(uintptr_t)bp->ring, &why) != 0)
		kx_xen_shutdown(SHUTDOWN_crash);
	ring_up = 1;
	if (kx_xen_traps_init() != 0)
		kx_plat_panic("xen boot: set_trap_table refused", 32);
	kx_xen_run_on(b->stack_top, b);
}

void kx_xen_start(start_info_t *si, uint64_t boot_sp, const struct kx_boot_info *b)
{
	struct kx_xen_boot_in in;
	const char *why = "";
	int argc;

	/* start_info begins "xen-3.0-x86_64": never the boot page's magic. */
	if (((const struct kx_ring_boot *)(const void *)si)->magic == KX_RING_BOOT_MAGIC)
		start_monitored((const struct kx_ring_boot *)(const void *)si, b);
	kx_xen.si = si;
	/* shared_info first: the clock and event channels live there. */
	if (kx_xen_map_frame(shared_info_page, si->shared_info >> 12, 1) != 0)
		kx_xen_shutdown(SHUTDOWN_crash); /* nothing to report with yet */
	kx_xen.shared = (shared_info_t *)(void *)shared_info_page;
	kx_xen.shared->vcpu_info[0].evtchn_upcall_mask = 1; /* we poll; no upcalls */

	in = (struct kx_xen_boot_in){
		.image_end = (uint64_t)(uintptr_t)kx_image_end,
		.boot_sp = boot_sp,
		.start_info = (uint64_t)(uintptr_t)si,
		.nr_pages = si->nr_pages,
		.pt_base = si->pt_base,
		.nr_pt_frames = si->nr_pt_frames,
		.mfn_list = si->mfn_list,
		.console_pfn = mfn_to_pfn(si->console.domU.mfn),
		.store_pfn = mfn_to_pfn(si->store_mfn),
	};
	/* The console page is the one thing checked before the rest: without
	 * it no reason can be given. */
	if (in.console_pfn < in.nr_pages &&
	    KX_XEN_VIRT_BASE + in.console_pfn * KX_XEN_PAGE >= in.image_end &&
	    KX_XEN_VIRT_BASE + in.console_pfn * KX_XEN_PAGE < boot_sp) {
		kx_xen.console =
			(void *)(uintptr_t)(KX_XEN_VIRT_BASE + in.console_pfn * KX_XEN_PAGE);
		kx_xen.cons_port = si->console.domU.evtchn;
	}
	if (kx_xen_layout(&in, &kx_xen.layout, &why) != 0)
		boot_fail("start_info", why);
	if (kx_xen_pfn_to_mfn(in.console_pfn) != si->console.domU.mfn)
		boot_fail("start_info", "the console frame is not the console's");
	if (kx_xen_traps_init() != 0)
		boot_fail("set_trap_table", "refused");
	if (kx_xen_mm_init(&kx_xen.layout, &why) != 0)
		boot_fail("memory", why);
	switch (kxr_front_attach(&ring, &kx_xen_ring, &why)) {
	case 0:
		ring_up = 1;
		break;
	case -KX_EPERM:
		break; /* started without a kx monitor */
	default:
		boot_fail("kx ring", why);
	}

	argc = kx_xen_split_cmdline((const char *)si->cmd_line, sizeof(si->cmd_line), argv_buf,
				    sizeof(argv_buf), argv_tab,
				    sizeof(argv_tab) / sizeof(argv_tab[0]));
	if (argc < 0)
		boot_fail("command line", "too many arguments");
	if (argc == 0) {
		argv_tab[0] = argv0_default;
		argv_tab[1] = NULL;
		argc = 1;
	}
	boot = (struct kx_boot_info){
		.magic = KX_BOOT_MAGIC,
		.abi_version = KX_HCALL_ABI_VERSION,
		.argc = (uint32_t)argc,
		.argv = (uint64_t)(uintptr_t)argv_tab,
		.heap_start = kx_xen.layout.heap_start,
		.heap_size = kx_xen.layout.heap_end - kx_xen.layout.heap_start,
		.stack_top = kx_xen.layout.stack_top,
		.stack_size = kx_xen.layout.stack_top - kx_xen.layout.stack_bottom,
		.image_start = KX_XEN_VIRT_BASE,
		.image_end = (uint64_t)(uintptr_t)kx_image_end,
		.mem_size = kx_xen.layout.mem_end,
		.features = 0,
	};
	kx_xen_run_on(kx_xen.layout.stack_top, &boot);
}
