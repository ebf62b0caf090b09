/*
 * net.c — kxd's side of the network (docs/network.md).
 *
 * Before a new kxmon runs, kxd attaches its app's network interface (its
 * first message on the channel, so the guest never asks before kxd
 * answered): it asks the gate (gate_net, op `net`, audited with the
 * rule's file:line), creates a TAP for it — in the network namespace
 * --net-netns names, enslaved to --net-bridge or, without a bridge, given
 * the rule's gateway address so the namespace routes to the pVM — and
 * sends NET_ATTACH to the pVM's monitor with the TAP's fd and the rules in
 * a sealed memfd -- or NET_ATTACH "none" when there is no interface.  kxd keeps no TAP fd: the device goes when the monitor
 * does.  The monitor enforces the rules on every frame and reports its
 * counters and the first drop of each kind (NET_REPORT); kxd asks the gate
 * again about that drop (gate_net_dropped), so the audit log names it with
 * its rule, and shows the counters in `kxctl list`.
 *
 * One interface per pVM (the app's first, in name order); forked children
 * and pooled pVMs get none (docs/network.md says why).  TAPs need
 * CAP_NET_ADMIN: without it the pVM runs without its interface and kxd
 * logs why.  Only ioctls on the TAP and an AF_INET socket (no netlink), so
 * the same works from a jail that keeps CAP_NET_ADMIN in its namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "manager/kxd/internal.h"

static const char *const kind_names[KXMON_NET_KINDS] = {
	"spoof-mac", "spoof-ip", "port", "peer", "malformed", "proto", "not-mine", "rx-full",
	"tap-busy",
};

static const char *kind_name(unsigned k)
{
	return k < KXMON_NET_KINDS && kind_names[k] ? kind_names[k] : "other";
}

static void sin_set(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(addr)};

	memcpy(sa, &sin, sizeof(sin));
}

/* Configure TAP `name` (in the current namespace): into the bridge, or the
 * gateway's address on it; then up.  0 or -errno with why. */
static int tap_configure(const char *name, const char *bridge,
			 const struct kxp_net_rules *r, char *why, size_t whylen)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	if (bridge != NULL) {
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		if (ioctl(s, SIOCGIFINDEX, &ifr) == 0)
			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", bridge);
		if (ifr.ifr_ifindex <= 0 || ioctl(s, SIOCBRADDIF, &ifr) != 0) {
			rc = -errno;
			snprintf(why, whylen, "cannot add %s to bridge %s: %s", name, bridge,
				 strerror(errno));
			goto out;
		}
	} else if (r->gateway != 0) {
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		sin_set(&ifr.ifr_addr, r->gateway);
		if (ioctl(s, SIOCSIFADDR, &ifr) == 0) {
			sin_set(&ifr.ifr_netmask, kxp_net_mask(r->prefix));
			if (ioctl(s, SIOCSIFNETMASK, &ifr) == 0)
				goto up;
		}
		rc = -errno;
		snprintf(why, whylen, "cannot give %s the gateway's address: %s", name,
			 strerror(errno));
		goto out;
	}
up:
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr)) != 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot bring %s up: %s", name, strerror(errno));
	}
out:
	close(s);
	return rc;
}

/* A new TAP `name`, in the namespace netns (NULL: kxd's own): its fd, or
 * -errno with why.  Only this thread enters the namespace, and it returns. */
static int tap_create(const char *netns, const char *name, const char *bridge,
		      const struct kxp_net_rules *r, char *why, size_t whylen)
{
	char path[256];
	struct ifreq ifr;
	int own = -1, ns = -1, fd = -1, rc;

	if (netns != NULL) {
		snprintf(path, sizeof(path), "%s%s", strchr(netns, '/') ? "" : "/run/netns/",
			 netns);
		own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		ns = open(path, O_RDONLY | O_CLOEXEC);
		if (own < 0 || ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
			rc = -errno;
			snprintf(why, whylen, "cannot enter network namespace %s: %s", path,
				 strerror(errno));
			goto out;
		}
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) != 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot create TAP %s: %s", name, strerror(errno));
		goto out;
	}
	rc = tap_configure(name, bridge, r, why, whylen);
out:
	if (own >= 0 && setns(own, CLONE_NEWNET) != 0) {
		kxd_log("cannot return to kxd's network namespace: %s", strerror(errno));
		abort(); /* every later socket would be in the wrong place */
	}
	if (own >= 0)
		close(own);
	if (ns >= 0)
		close(ns);
	if (rc != 0 && fd >= 0)
		close(fd);
	return rc != 0 ? rc : fd;
}

void kxd_net_spawn(struct kxd *d, uint64_t id, const char *app, int chan,
		   struct kxd_pvm_net *net)
{
	struct gate_subject subj = {.kind = GATE_SUBJECT_PVM, .pvm_id = id, .app = app,
				    .family_id = id, .depth = 0};
	struct gate_decision dec;
	struct kxp_net_rules rules;
	struct kxmon_msg msg;
	char why[KXD_TEXT_MAX] = "";
	const char *iface = app[0] ? kxp_iface_name_at(d->policy, app, 0) : NULL;
	int fds[2] = {-1, -1}, rc;

	memset(net, 0, sizeof(*net));
	memset(&msg, 0, sizeof(msg));
	msg.type = KXMON_MSG_NET_ATTACH;
	msg.size = sizeof(msg);
	msg.seq = d->next_seq++;
	if (iface == NULL)
		goto send; /* no network rule (or an empty pVM): no interface */
	if (kxp_iface_name_at(d->policy, app, 1) != NULL)
		kxd_log("pVM %llu (%s): only its first interface, %s, is attached",
			(unsigned long long)id, app, iface);
	rc = gate_net(d->gate, &subj, iface, &rules, &dec);
	if (rc != 0 || dec.verdict != KXP_ALLOW) {
		kxd_describe_denial(&dec, rc, "network interface", why, sizeof(why));
		kxd_log("pVM %llu (%s): %s", (unsigned long long)id, app, why);
		goto send;
	}
	snprintf(net->iface, sizeof(net->iface), "%s", iface);
	snprintf(net->tap, sizeof(net->tap), "kxp%llu", (unsigned long long)id);
	fds[0] = tap_create(d->net_netns, net->tap, d->net_bridge, &rules, why, sizeof(why));
	fds[1] = fds[0] < 0 ? -1 : kxd_sealed_memfd("kx-net-rules", (const uint8_t *)&rules,
						     sizeof(rules));
	if (fds[0] < 0 || fds[1] < 0) {
		kxd_log("pVM %llu (%s): no interface %s: %s", (unsigned long long)id, app, iface,
			why[0] ? why : "cannot seal its rules");
		goto send;
	}
	snprintf(msg.u.net_attach.iface, sizeof(msg.u.net_attach.iface), "%s", iface);
	/* Locally administered, unicast: 02:6b:78 ("kx") and the pVM's id. */
	msg.u.net_attach.mac[0] = 0x02;
	msg.u.net_attach.mac[1] = 0x6b;
	msg.u.net_attach.mac[2] = 0x78;
	msg.u.net_attach.mac[3] = (uint8_t)(id >> 16);
	msg.u.net_attach.mac[4] = (uint8_t)(id >> 8);
	msg.u.net_attach.mac[5] = (uint8_t)id;
	net->attached = true;
	net->addr = rules.addr;
	net->prefix = rules.prefix;
send:
	if (kxd_send(chan, &msg, sizeof(msg), fds, net->attached ? 2 : 0) != 0) {
		kxd_log("pVM %llu: cannot tell its monitor about its network", (unsigned long long)id);
		net->attached = false;
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

void kxd_net_report(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	const struct kxmon_net_report *r = &in->u.net_report;
	struct gate_subject subj;
	struct gate_decision dec;
	struct gate_net_drop drop;
	unsigned k;

	if (!p->net.attached)
		return; /* a report for nothing kxd attached: ignored */
	p->net.tx = r->tx_frames;
	p->net.rx = r->rx_frames;
	memcpy(p->net.drops, r->drops, sizeof(p->net.drops));
	if (r->first == 0)
		return;
	k = r->first - 1;
	if (p->net.audited & (1u << k))
		return; /* one record per kind and pVM, whatever the monitor says */
	p->net.audited |= 1u << k;
	kxd_pvm_subject(p, &subj);
	drop = (struct gate_net_drop){.kind = kind_name(k), .what = r->what,
				      .query = (enum kxp_net_query)r->query, .proto = r->proto,
				      .port = r->port, .addr = r->addr};
	gate_net_dropped(d->gate, &subj, p->net.iface, &drop, &dec);
	kxd_log("pVM %llu (%s): first %s drop on %s: %s", (unsigned long long)p->id, p->app,
		kind_name(k), p->net.iface, r->what);
}

void kxd_net_list(struct kxd *d, int ci)
{
	for (int i = 0; i < KXD_MAX_PVMS; i++) {
		const struct kxd_pvm *p = &d->pvms[i];
		char text[KXD_TEXT_MAX];
		size_t used;
		int n;

		if (!p->used || !p->net.attached)
			continue;
		n = snprintf(text, sizeof(text), "%s %s %u.%u.%u.%u/%u %llu %llu", p->net.iface,
			     p->net.tap, p->net.addr >> 24, (p->net.addr >> 16) & 255,
			     (p->net.addr >> 8) & 255, p->net.addr & 255, p->net.prefix,
			     (unsigned long long)p->net.tx, (unsigned long long)p->net.rx);
		used = n > 0 && (size_t)n < sizeof(text) ? (size_t)n : 0;
		for (unsigned k = 0; k < KXMON_NET_KINDS && used < sizeof(text); k++) {
			if (p->net.drops[k] == 0)
				continue;
			n = snprintf(text + used, sizeof(text) - used, " %s=%llu", kind_name(k),
				     (unsigned long long)p->net.drops[k]);
			if (n < 0 || (size_t)n >= sizeof(text) - used)
				break;
			used += (size_t)n;
		}
		if (kxd_reply(d, ci, KXD_RESP_PVM, p, "%s", text) != 0)
			return;
	}
	kxd_reply(d, ci, KXD_RESP_END, NULL, "%s", "");
}
