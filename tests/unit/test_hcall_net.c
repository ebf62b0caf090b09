/*
 * test_hcall_net: the packet device through the monitor's core (module
 * "net", manager/hv/net.c) over the fake backend and a scripted manager,
 * with one end of a datagram socketpair as the TAP and the test playing
 * the guest in its memory.  Checked: no interface without kxd's NET_ATTACH
 * (and none without a manager); a NET_ATTACH with bad rules is refused;
 * NET_INFO's answer and the rights on the area (the monitor's page and rx
 * read-only); frames both ways under the rules, with counters; the reset
 * for a refused SYN; the first drop of each kind reported to kxd once;
 * NET_WAIT waking on a frame and timing out; a hostile tx_prod ending the
 * pVM; a guest flooding tx while the TAP is full does not stop the
 * monitor's thread (every slot comes back, drops counted).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "manager/hv/layout.h"
#include "manager/hv/net.h"
#include "tests/hv/hv_fake.h"
#include "tests/net/frames.h"

#define ME   0x0a000002u
#define PEER 0x0a000001u

static char guest_dir[4096];
static const uint8_t my_mac[6] = {0x02, 0x6b, 0x78, 0, 0, 2};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 1};

struct guest {
	struct fake_mgr mgr;
	struct hv_pvm *p;
	struct hv_guest_mem *mem;
	uint64_t block;
	int tap;			/* the host's end of the "TAP" */
	struct kx_hc_net_info info;
	uint8_t *area;			/* host view */
};

static int rules_fd(uint32_t addr, const char *iface)
{
	struct kxp_net_rules r;
	int fd = memfd_create("rules", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	memset(&r, 0, sizeof(r));
	snprintf(r.iface, sizeof(r.iface), "%s", iface);
	r.addr = addr;
	r.prefix = 24;
	r.nlisten = 1;
	r.listen[0] = (struct kxp_net_port){.port = 8080, .proto = KXP_NET_PROTO_TCP};
	r.npeers = 1;
	r.peers[0] = (struct kxp_net_peer){.addr = PEER, .port = 80, .prefix = 32,
					   .proto = KXP_NET_PROTO_TCP};
	assert_true(fd >= 0);
	assert_int_equal(write(fd, &r, sizeof(r)), sizeof(r));
	assert_int_equal(fcntl(fd, F_ADD_SEALS,
			       F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), 0);
	return fd;
}

/* A pVM; with attach, kxd's NET_ATTACH waits in the channel (rules for addr). */
static struct guest *guest_new(bool attach, uint32_t addr)
{
	struct guest *g = calloc(1, sizeof(*g));
	const struct kx_boot_info *boot;
	int sv[2];

	assert_non_null(g);
	g->p = fake_pvm(64ull << 20, &g->mgr, false);
	g->mem = hv_pvm_mem(g->p);
	fake_load(g->p, guest_dir, "hello.kxe");
	boot = hv_guest_ptr(g->mem, LAYOUT_BOOT, sizeof(*boot), HV_ACCESS_READ);
	assert_non_null(boot);
	g->block = boot->heap_start;
	g->tap = -1;
	if (attach) {
		struct kxmon_msg *m = &g->mgr.push[0];

		assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
		memset(m, 0, sizeof(*m));
		m->type = KXMON_MSG_NET_ATTACH;
		m->size = sizeof(*m);
		snprintf(m->u.net_attach.iface, sizeof(m->u.net_attach.iface), "net0");
		memcpy(m->u.net_attach.mac, my_mac, 6);
		g->mgr.push_fds[0][0] = sv[1];
		g->mgr.push_fds[0][1] = rules_fd(addr, "net0");
		g->mgr.push_nfds[0] = 2;
		g->mgr.npush = 1;
		g->tap = sv[0];
	}
	return g;
}

static void guest_free(struct guest *g)
{
	hv_destroy(g->p, 0, NULL, "");
	if (g->tap >= 0)
		close(g->tap);
	free(g);
}

static int64_t call(struct guest *g, const void *blk, size_t size, void *out,
		    struct hv_hcall_result *res)
{
	void *b = hv_guest_ptr(g->mem, g->block, size, HV_ACCESS_WRITE);

	memcpy(b, blk, size);
	hv_hcall_dispatch(g->p, g->block, res);
	if (out != NULL)
		memcpy(out, b, size);
	return ((struct kx_hc_hdr *)b)->ret;
}

static int64_t net_info(struct guest *g)
{
	struct kx_hc_net_info in = {.hdr = {KX_HCALL_ABI_VERSION, KX_HC_NET_INFO, 0}};
	struct hv_hcall_result res;
	int64_t ret = call(g, &in, sizeof(in), &g->info, &res);

	assert_int_equal(res.outcome, HV_HC_RESUME);
	if (ret == 0)
		g->area = hv_guest_ptr(g->mem, g->info.area, KX_NET_AREA_SIZE, HV_ACCESS_MONITOR);
	return ret;
}

static struct kx_net_guest_page *gpage(struct guest *g)
{
	return (void *)g->area;
}

static volatile struct kx_net_mon_page *mpage(struct guest *g)
{
	return (void *)(g->area + KX_PAGE_SIZE);
}

static struct kx_net_slot *slot(struct guest *g, bool rx, uint32_t i)
{
	return (void *)(g->area + KX_NET_RING_OFF +
			((rx ? KX_NET_SLOTS : 0) + i % KX_NET_SLOTS) * (size_t)KX_NET_SLOT_SIZE);
}

/* The guest publishes a frame in tx and kicks if the monitor sleeps. */
static void guest_send(struct guest *g, const uint8_t *fr, size_t len)
{
	struct kx_net_guest_page *gp = gpage(g);
	struct kx_net_slot *s = slot(g, false, gp->tx_prod);
	struct hv_hcall_result res;
	struct kx_hc_net_kick k = {.hdr = {KX_HCALL_ABI_VERSION, KX_HC_NET_KICK, 0}};

	s->len = (uint16_t)len;
	memcpy(s->frame, fr, len);
	__atomic_store_n(&gp->tx_prod, gp->tx_prod + 1, __ATOMIC_SEQ_CST);
	if (mpage(g)->tx_kick)
		assert_int_equal(call(g, &k, sizeof(k), NULL, &res), 0);
}

/* Wait (a liveness bound, not a timing check) until cond(g) holds. */
static bool eventually(struct guest *g, bool (*cond)(struct guest *g))
{
	for (int i = 0; i < 10000; i++) {
		if (cond(g))
			return true;
		usleep(1000);
	}
	return cond(g);
}

static bool tx_drained(struct guest *g)
{
	return mpage(g)->tx_cons == gpage(g)->tx_prod;
}

static bool rx_has_one(struct guest *g)
{
	return mpage(g)->rx_prod != gpage(g)->rx_cons;
}

static struct fr_ip from_me(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	return (struct fr_ip){.dst_mac = peer_mac, .src_mac = my_mac, .src = src, .dst = dst,
			      .proto = FR_TCP, .sport = sport, .dport = dport, .tcp_flags = 0x02};
}

static struct fr_ip to_me(uint16_t sport, uint16_t dport)
{
	return (struct fr_ip){.dst_mac = my_mac, .src_mac = peer_mac, .src = PEER, .dst = ME,
			      .proto = FR_TCP, .sport = sport, .dport = dport, .tcp_flags = 0x02,
			      .seq = 77};
}

/* Run the pVM through one safe point (a kick), then a pause. */
static struct hv_end safe_point(struct guest *g)
{
	struct hv_vm *vm = fake_vm_of(g->p);
	struct hv_end end;
	struct kx_error err;

	vm->script[0] = (struct hv_exit){.kind = HV_EXIT_KICK};
	vm->script[1] = (struct hv_exit){.kind = HV_EXIT_PAUSED};
	vm->nscript = 2;
	vm->next_script = 0;
	assert_int_equal(hv_run(g->p, &end, &err), 0);
	return end;
}

static void test_no_interface(void **state)
{
	struct guest *g = guest_new(false, ME);
	struct hv_net_stats st;
	struct kxmon_msg *m = &g->mgr.push[0];

	(void)state;
	/* kxd never said: NET_INFO gives up (bounded), no interface. */
	assert_int_equal(net_info(g), -KX_ENODEV);
	assert_int_equal(hv_net_stats(g->p, &st), -ENODEV);
	guest_free(g);
	/* kxd said "none". */
	g = guest_new(false, ME);
	m = &g->mgr.push[0];
	memset(m, 0, sizeof(*m));
	m->type = KXMON_MSG_NET_ATTACH;
	m->size = sizeof(*m);
	g->mgr.npush = 1;
	assert_int_equal(net_info(g), -KX_ENODEV);
	assert_int_equal(g->mgr.next_push, 1);
	assert_false(g->mgr.broken);
	guest_free(g);
}

static void test_bad_rules_refused(void **state)
{
	struct guest *g = guest_new(true, ME);

	(void)state;
	/* Rules naming another interface than the message: refused, which
	 * breaks the channel (kxd sent nonsense). */
	close(g->mgr.push_fds[0][1]);
	g->mgr.push_fds[0][1] = rules_fd(ME, "net1");
	assert_int_equal(net_info(g), -KX_EPIPE);
	assert_true(g->mgr.broken);
	guest_free(g);
	/* Rules in a memfd that is not sealed. */
	g = guest_new(true, ME);
	close(g->mgr.push_fds[0][1]);
	g->mgr.push_fds[0][1] = memfd_create("x", MFD_CLOEXEC);
	assert_int_equal(ftruncate(g->mgr.push_fds[0][1], sizeof(struct kxp_net_rules)), 0);
	assert_int_equal(net_info(g), -KX_EPIPE);
	assert_true(g->mgr.broken);
	guest_free(g);
}

static void test_info_and_rights(void **state)
{
	struct guest *g = guest_new(true, ME);
	const uint8_t *prot;
	uint64_t a;

	(void)state;
	assert_int_equal(net_info(g), 0);
	assert_int_equal(g->info.mtu, KX_NET_MTU);
	assert_memory_equal(g->info.mac, my_mac, 6);
	assert_int_equal(g->info.addr, ME);
	assert_int_equal(g->info.prefix, 24);
	a = g->info.area;
	assert_int_equal(a % KX_PAGE_SIZE, 0);
	prot = hv_pvm_mem(g->p)->page_prot;
	assert_int_equal(prot[a / KX_PAGE_SIZE], HV_PROT_READ | HV_PROT_WRITE);
	assert_int_equal(prot[a / KX_PAGE_SIZE + 1], HV_PROT_READ);
	assert_int_equal(prot[(a + KX_NET_RING_OFF) / KX_PAGE_SIZE], HV_PROT_READ | HV_PROT_WRITE);
	assert_int_equal(prot[(a + KX_NET_AREA_SIZE) / KX_PAGE_SIZE - 1], HV_PROT_READ);
	/* The guest cannot write the monitor's page through a hypercall either. */
	assert_null(hv_guest_ptr(g->mem, a + KX_PAGE_SIZE, 8, HV_ACCESS_WRITE));
	assert_int_equal(net_info(g), 0); /* again: the same */
	assert_int_equal(g->info.area, a);
	guest_free(g);
}

/* kxd's NET_ATTACH may arrive while the image's libraries are still being
 * linked (before the module's setup): it is applied once the area exists. */
static void test_attach_before_load(void **state)
{
	struct hv_pvm *p;
	struct fake_mgr mgr = {0};
	struct kxmon_msg m;
	struct kx_hc_net_info *b;
	const struct kx_boot_info *boot;
	struct hv_hcall_result res;
	int sv[2], fds[2];

	(void)state;
	p = fake_pvm(64ull << 20, &mgr, false);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_NET_ATTACH;
	m.size = sizeof(m);
	snprintf(m.u.net_attach.iface, sizeof(m.u.net_attach.iface), "net0");
	memcpy(m.u.net_attach.mac, my_mac, 6);
	fds[0] = sv[1];
	fds[1] = rules_fd(ME, "net0");
	assert_int_equal(hv_push(p, &m, fds, 2), 0);
	fake_load(p, guest_dir, "hello.kxe");
	boot = hv_guest_ptr(hv_pvm_mem(p), LAYOUT_BOOT, sizeof(*boot), HV_ACCESS_READ);
	b = hv_guest_ptr(hv_pvm_mem(p), boot->heap_start, sizeof(*b), HV_ACCESS_WRITE);
	*b = (struct kx_hc_net_info){.hdr = {KX_HCALL_ABI_VERSION, KX_HC_NET_INFO, 0}};
	hv_hcall_dispatch(p, boot->heap_start, &res);
	assert_int_equal(b->hdr.ret, 0);
	assert_int_equal(b->addr, ME);
	assert_false(mgr.broken);
	hv_destroy(p, 0, NULL, "");
	close(sv[0]);
}

static void test_frames_both_ways(void **state)
{
	struct guest *g = guest_new(true, ME);
	uint8_t fr[1600], got[2048];
	struct fr_ip f;
	struct hv_net_stats st;
	struct kx_net_slot *s;
	size_t len;
	ssize_t n;

	(void)state;
	assert_int_equal(net_info(g), 0);
	/* Allowed: to the peer's port 80. */
	f = from_me(ME, PEER, 40000, 80);
	len = fr_ip(fr, &f);
	guest_send(g, fr, len);
	n = recv(g->tap, got, sizeof(got), 0);
	assert_int_equal(n, len);
	assert_memory_equal(got, fr, len);
	/* Spoofed source address and a disallowed peer port: dropped. */
	f = from_me(0x0a000063u, PEER, 40000, 80);
	guest_send(g, fr, fr_ip(fr, &f));
	f = from_me(ME, PEER, 40000, 81);
	guest_send(g, fr, fr_ip(fr, &f));
	assert_true(eventually(g, tx_drained));
	assert_int_equal(recv(g->tap, got, sizeof(got), MSG_DONTWAIT), -1);
	/* The reply comes in. */
	f = to_me(80, 40000);
	f.tcp_flags = 0x12;
	len = fr_ip(fr, &f);
	assert_int_equal(send(g->tap, fr, len, 0), len);
	assert_true(eventually(g, rx_has_one));
	s = slot(g, true, gpage(g)->rx_cons);
	assert_int_equal(s->len, len);
	assert_memory_equal(s->frame, fr, len);
	gpage(g)->rx_cons++;
	/* A SYN to a port not listened: refused with a reset, never seen. */
	f = to_me(50000, 22);
	len = fr_ip(fr, &f);
	assert_int_equal(send(g->tap, fr, len, 0), len);
	n = recv(g->tap, got, sizeof(got), 0);
	assert_int_equal(n, 54);
	assert_int_equal(got[14 + 20 + 13], 0x14);
	assert_false(rx_has_one(g));
	assert_int_equal(hv_net_stats(g->p, &st), 0);
	assert_int_equal(st.tx_frames, 1);
	assert_int_equal(st.rx_frames, 1);
	assert_int_equal(st.drops[NET_DROP_SPOOF_IP], 1);
	assert_int_equal(st.drops[NET_DROP_PEER], 1);
	assert_int_equal(st.drops[NET_DROP_PORT], 1);
	guest_free(g);
}

static void test_first_drops_reported_once(void **state)
{
	struct guest *g = guest_new(true, ME);
	uint8_t fr[1600];
	struct fr_ip f = from_me(0x0a000063u, PEER, 40000, 80);
	struct hv_end end;

	(void)state;
	assert_int_equal(net_info(g), 0);
	guest_send(g, fr, fr_ip(fr, &f));
	assert_true(eventually(g, tx_drained));
	g->mgr.sends = 0;
	end = safe_point(g);
	assert_int_equal(end.reason, HV_END_PAUSED);
	/* The first spoof-ip, then the counters (none were reported yet). */
	assert_int_equal(g->mgr.sends, 2);
	assert_int_equal(g->mgr.last_sent.u.net_report.first, 0);
	assert_int_equal(g->mgr.last_sent.type, KXMON_MSG_NET_REPORT);
	assert_int_equal(g->mgr.last_sent.u.net_report.drops[NET_DROP_SPOOF_IP], 1);
	/* A second of the same kind is counted, not reported as a first. */
	guest_send(g, fr, fr_ip(fr, &f));
	assert_true(eventually(g, tx_drained));
	g->mgr.sends = 0;
	memset(&g->mgr.last_sent, 0, sizeof(g->mgr.last_sent));
	safe_point(g);
	assert_true(g->mgr.sends == 0 || g->mgr.last_sent.u.net_report.first == 0);
	guest_free(g);
}

static void test_wait(void **state)
{
	struct guest *g = guest_new(true, ME);
	struct kx_hc_net_wait w = {.hdr = {KX_HCALL_ABI_VERSION, KX_HC_NET_WAIT, 0}};
	struct hv_hcall_result res;
	struct timespec ts;
	uint8_t fr[1600];
	struct fr_ip f = to_me(50000, 8080);
	size_t len = fr_ip(fr, &f);

	(void)state;
	assert_int_equal(net_info(g), 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* A deadline already past: at once. */
	w.deadline_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	assert_int_equal(call(g, &w, sizeof(w), NULL, &res), -KX_ETIMEDOUT);
	/* A frame that is already there: at once. */
	assert_int_equal(send(g->tap, fr, len, 0), len);
	assert_true(eventually(g, rx_has_one));
	w.deadline_ns = UINT64_MAX;
	w.seen = 0;
	assert_int_equal(call(g, &w, sizeof(w), NULL, &res), 0);
	/* seen = rx_prod: halts until the cap, then 0 ("look again"). */
	w.seen = mpage(g)->rx_prod;
	assert_int_equal(call(g, &w, sizeof(w), NULL, &res), 0);
	assert_int_equal(mpage(g)->rx_prod, w.seen);
	guest_free(g);
}

static void test_hostile_index_ends_the_pvm(void **state)
{
	struct guest *g = guest_new(true, ME);
	struct kx_hc_net_kick k = {.hdr = {KX_HCALL_ABI_VERSION, KX_HC_NET_KICK, 0}};
	struct hv_hcall_result res;
	struct hv_net_stats st;
	struct hv_end end;

	(void)state;
	assert_int_equal(net_info(g), 0);
	gpage(g)->tx_prod = 5000;
	call(g, &k, sizeof(k), NULL, &res);
	for (int i = 0; i < 10000; i++) {
		assert_int_equal(hv_net_stats(g->p, &st), 0);
		if (st.broken)
			break;
		usleep(1000);
	}
	assert_true(st.broken);
	end = safe_point(g);
	assert_int_equal(end.reason, HV_END_CHANNEL);
	assert_non_null(strstr(end.message, "net: the guest broke its rings"));
	guest_free(g);
}

static void test_flood_does_not_stall(void **state)
{
	struct guest *g = guest_new(true, ME);
	struct fr_ip f = from_me(ME, PEER, 40000, 80);
	uint8_t fr[1600];
	struct hv_net_stats st;
	size_t len;
	int sent = 0;

	(void)state;
	f.payload = 1400;
	len = fr_ip(fr, &f);
	assert_int_equal(net_info(g), 0);
	/* Nobody reads the TAP: its buffer fills, the thread keeps taking. */
	for (int round = 0; round < 16; round++) {
		for (unsigned i = 0; i < KX_NET_SLOTS; i++) {
			while (gpage(g)->tx_prod - mpage(g)->tx_cons >= KX_NET_SLOTS)
				usleep(100);
			guest_send(g, fr, len);
			sent++;
		}
	}
	assert_true(eventually(g, tx_drained));
	assert_int_equal(hv_net_stats(g->p, &st), 0);
	assert_int_equal(st.tx_frames + st.drops[NET_DROP_TAP_BUSY], sent);
	assert_true(st.drops[NET_DROP_TAP_BUSY] > 0);
	/* And it still serves the other direction. */
	f = to_me(50000, 8080);
	len = fr_ip(fr, &f);
	assert_int_equal(send(g->tap, fr, len, MSG_DONTWAIT), len);
	assert_true(eventually(g, rx_has_one));
	guest_free(g);
}

static void test_no_manager(void **state)
{
	struct hv_pvm *p = fake_pvm(16ull << 20, NULL, false);
	struct kx_hc_net_info in = {.hdr = {KX_HCALL_ABI_VERSION, KX_HC_NET_INFO, 0}};
	struct hv_hcall_result res;
	const struct kx_boot_info *boot;
	struct kx_hc_net_info *b;

	(void)state;
	fake_load(p, guest_dir, "hello.kxe");
	boot = hv_guest_ptr(hv_pvm_mem(p), LAYOUT_BOOT, sizeof(*boot), HV_ACCESS_READ);
	b = hv_guest_ptr(hv_pvm_mem(p), boot->heap_start, sizeof(*b), HV_ACCESS_WRITE);
	*b = in;
	hv_hcall_dispatch(p, boot->heap_start, &res);
	assert_int_equal(b->hdr.ret, -KX_EPERM);
	hv_destroy(p, 0, NULL, "");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_interface),
		cmocka_unit_test(test_no_manager),
		cmocka_unit_test(test_bad_rules_refused),
		cmocka_unit_test(test_info_and_rights),
		cmocka_unit_test(test_attach_before_load),
		cmocka_unit_test(test_frames_both_ways),
		cmocka_unit_test(test_first_drops_reported_once),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_hostile_index_ends_the_pvm),
		cmocka_unit_test(test_flood_does_not_stall),
	};
	char self[4096];

	(void)argc;
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(guest_dir, sizeof(guest_dir), "%s/../guest", dirname(self));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
