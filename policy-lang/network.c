/*
 * The `network:` list of a manifest: the interfaces a pVM of the app gets
 * (none by default) and what may pass through each -- the pVM's IPv4
 * address, the ports it may accept on, the peers it may connect or send to.
 * The compiled rules are what the monitor enforces on every frame
 * (policy-lang/kxp_net.h), so everything is checked here: names, addresses
 * (no network or broadcast address, nothing reserved), ports, peers written
 * with their host bits clear, no duplicates, limits that fit the monitor's
 * table.
 *
 * Input nodes are untrusted (see manifest.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy-lang/front.h"
#include "policy-lang/kxp_net.h"

enum { N_IFACE, N_ADDRESS, N_GATEWAY, N_LISTEN, N_CONNECT, N_COUNT };

_Static_assert(PM_PROTO_TCP == KXP_NET_PROTO_TCP && PM_PROTO_UDP == KXP_NET_PROTO_UDP,
	       "one set of protocol numbers");

/* "A.B.C.D", or with prefix != NULL "A.B.C.D/P" (P 1..32). */
static bool get_address(struct pm_check *c, const struct pm_node *n, const char *what,
			uint32_t *addr, uint8_t *prefix)
{
	const char *slash;
	char q[PM_QUOTE_MAX];
	size_t alen;

	if (!pm_want_scalar(c, n, what))
		return false;
	if (memchr(n->text, ':', n->len) != NULL) {
		pm_errorf(c, n, NULL, "%s: IPv6 is not supported yet, got '%s'", what,
			  pm_quote(q, n->text, n->len));
		return false;
	}
	slash = memchr(n->text, '/', n->len);
	alen = slash ? (size_t)(slash - n->text) : n->len;
	if ((prefix == NULL && slash != NULL) || pm_ipv4_parse(n->text, alen, addr) < 0) {
		pm_errorf(c, n, prefix ? "write it like 10.0.0.2/24" : "write it like 10.0.0.1",
			  "expected an IPv4 address%s for %s, got '%s'",
			  prefix ? " with its prefix length" : "", what,
			  pm_quote(q, n->text, n->len));
		return false;
	}
	if (prefix != NULL) {
		const char *p = slash ? slash + 1 : NULL;
		size_t plen = slash ? n->len - alen - 1 : 0;
		uint64_t v;
		bool overflow;

		if (slash == NULL) {
			pm_errorf(c, n, "write it like 10.0.0.2/24",
				  "%s needs the prefix length of "
				  "its subnet, got '%s'",
				  what, pm_quote(q, n->text, n->len));
			return false;
		}
		if (plen < 1 || plen > 2 || p[0] == '0' ||
		    !pm_parse_digits(p, plen, &v, &overflow) || v > 32) {
			pm_errorf(c, n, NULL, "invalid prefix length in %s: 1 to 32, got '%s'",
				  what, pm_quote(q, n->text, n->len));
			return false;
		}
		*prefix = (uint8_t)v;
	}
	if (!pm_ipv4_unicast(*addr)) {
		pm_errorf(c, n, NULL, "%s '%s' is not a usable unicast address (this network, "
			  "loopback, multicast or reserved)", what, pm_quote(q, n->text, alen));
		return false;
	}
	return true;
}

static int cmp_listen(const void *a, const void *b)
{
	const struct pm_listen *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return (x->port > y->port) - (x->port < y->port);
}

static void check_listen(struct pm_check *c, const struct pm_node *n, struct pm_iface *ifc)
{
	char q[PM_QUOTE_MAX];

	if (!pm_get_seq(c, n, "'listen'") || n->nchild == 0)
		return;
	if (n->nchild > KXP_NET_LISTEN_MAX) {
		pm_errorf(c, n, NULL, "'listen' has %zu ports, more than the limit of %u",
			  n->nchild, KXP_NET_LISTEN_MAX);
		return;
	}
	ifc->listen = calloc(n->nchild, sizeof(*ifc->listen));
	if (ifc->listen == NULL) {
		*c->f->nomem = true;
		return;
	}
	for (size_t i = 0; i < n->nchild; i++) {
		const struct pm_node *item = n->child[i];
		struct pm_listen *l = &ifc->listen[ifc->nlisten];
		size_t skip;
		uint64_t port;
		bool overflow, dup = false;

		if (!pm_want_scalar(c, item, "a listen port"))
			continue;
		skip = pm_proto_prefix(item->text, item->len, &l->proto);
		if (!pm_parse_digits(item->text + skip, item->len - skip, &port, &overflow) ||
		    overflow || port < 1 || port > 65535 || item->text[skip] == '0') {
			pm_errorf(c, item, "a port is 1 to 65535, for UDP written udp/53",
				  "expected a port for 'listen', got '%s'",
				  pm_quote(q, item->text, item->len));
			continue;
		}
		l->port = (uint16_t)port;
		pm_set_src(c, item, &l->src);
		for (size_t j = 0; j < ifc->nlisten; j++)
			dup |= ifc->listen[j].port == l->port && ifc->listen[j].proto == l->proto;
		if (dup) {
			pm_errorf(c, item, NULL, "port %s/%u is listed twice in 'listen'",
				  pm_proto_name(l->proto), l->port);
			continue;
		}
		ifc->nlisten++;
	}
	qsort(ifc->listen, ifc->nlisten, sizeof(*ifc->listen), cmp_listen);
}

static int cmp_peer(const void *a, const void *b)
{
	const struct pm_peer *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	return (x->port > y->port) - (x->port < y->port);
}

/* Does peer a allow everything b does? */
static bool peer_covers(const struct pm_peer *a, const struct pm_peer *b)
{
	return a->proto == b->proto && a->prefix <= b->prefix &&
	       kxp_net_in(b->addr, a->addr, a->prefix) && (a->port == 0 || a->port == b->port);
}

static void peer_error(struct pm_check *c, const struct pm_node *item, enum pm_peer_status st,
		       const struct pm_peer_text *t)
{
	char q[PM_QUOTE_MAX], hint[PM_HINT_MAX], fixed[PM_PEER_TEXT_MAX];
	static const char *const what[] = {
		[PM_PEER_SYNTAX] = "expected ADDRESS[/PREFIX]:PORT (or :*) in 'connect'",
		[PM_PEER_ADDRESS] = "expected an IPv4 address in 'connect'",
		[PM_PEER_PREFIX] = "invalid prefix length (0 to 32) in 'connect'",
		[PM_PEER_PORT] = "invalid port (1 to 65535, or *) in 'connect'",
	};

	if (st == PM_PEER_HOSTBITS) {
		pm_peer_format(t->proto, t->addr & pm_ipv4_mask(t->prefix), t->prefix, t->port,
			       fixed, sizeof(fixed));
		snprintf(hint, sizeof(hint), "did you mean '%s'?", fixed);
		pm_errorf(c, item, hint, "peer '%s' has address bits set beyond its prefix /%u",
			  pm_quote(q, item->text, item->len), t->prefix);
		return;
	}
	pm_errorf(c, item, "write peers like 10.0.0.0/24:*, 192.168.1.5:443 or udp/10.0.0.1:53",
		  "%s, got '%s'", what[st], pm_quote(q, item->text, item->len));
}

static void check_connect(struct pm_check *c, const struct pm_node *n, struct pm_iface *ifc)
{
	char a[PM_PEER_TEXT_MAX], b[PM_PEER_TEXT_MAX], q[PM_QUOTE_MAX];

	if (!pm_get_seq(c, n, "'connect'") || n->nchild == 0)
		return;
	if (n->nchild > KXP_NET_PEERS_MAX) {
		pm_errorf(c, n, NULL, "'connect' has %zu peers, more than the limit of %u",
			  n->nchild, KXP_NET_PEERS_MAX);
		return;
	}
	ifc->peers = calloc(n->nchild, sizeof(*ifc->peers));
	if (ifc->peers == NULL) {
		*c->f->nomem = true;
		return;
	}
	for (size_t i = 0; i < n->nchild; i++) {
		const struct pm_node *item = n->child[i];
		struct pm_peer *p = &ifc->peers[ifc->npeers];
		struct pm_peer_text t;
		enum pm_peer_status st;
		size_t j;

		if (!pm_want_scalar(c, item, "a connect peer"))
			continue;
		st = pm_peer_parse(item->text, item->len, &t);
		if (st != PM_PEER_OK) {
			peer_error(c, item, st, &t);
			continue;
		}
		*p = (struct pm_peer){t.addr, t.prefix, t.proto, t.port, {0}};
		pm_set_src(c, item, &p->src);
		for (j = 0; j < ifc->npeers && cmp_peer(&ifc->peers[j], p) != 0; j++)
			;
		if (j < ifc->npeers) {
			pm_errorf(c, item, NULL, "peer '%s' is listed twice in 'connect' (first at "
				  "line %u)", pm_quote(q, item->text, item->len),
				  (unsigned)ifc->peers[j].src.line);
			continue;
		}
		ifc->npeers++;
	}
	/* one peer inside another: legal, but the narrower one says nothing */
	for (size_t i = 0; i < ifc->npeers; i++) {
		for (size_t j = 0; j < ifc->npeers; j++) {
			const struct pm_peer *x = &ifc->peers[i], *y = &ifc->peers[j];

			if (i == j || !peer_covers(y, x))
				continue;
			pm_peer_format(x->proto, x->addr, x->prefix, x->port, a, sizeof(a));
			pm_peer_format(y->proto, y->addr, y->prefix, y->port, b, sizeof(b));
			pm_diag(c->f, PM_WARNING, x->src.line, x->src.col, NULL,
				"peer '%s' is already allowed by '%s'", a, b);
			break;
		}
	}
	qsort(ifc->peers, ifc->npeers, sizeof(*ifc->peers), cmp_peer);
}

/* One interface; false when it is unusable (then it is not kept). */
static bool check_iface(struct pm_check *c, const struct pm_node *n, struct pm_iface *ifc)
{
	static const struct pm_field fields[N_COUNT] = {
		[N_IFACE] = {"iface", true},	  [N_ADDRESS] = {"address", true},
		[N_GATEWAY] = {"gateway", false}, [N_LISTEN] = {"listen", false},
		[N_CONNECT] = {"connect", false},
	};
	const struct pm_node *v[N_COUNT];
	char q[PM_QUOTE_MAX];
	bool ok = true;

	pm_set_src(c, n, &ifc->src);
	if (!pm_get_map(c, n, "a network rule", fields, N_COUNT, v) || v[N_IFACE] == NULL)
		return false;
	if (!pm_want_scalar(c, v[N_IFACE], "'iface'")) {
		ok = false;
	} else if (!pm_iface_name_ok(v[N_IFACE]->text, v[N_IFACE]->len)) {
		pm_errorf(c, v[N_IFACE], "1 to 15 lowercase letters and digits, starting with a "
			  "letter (like net0)", "invalid interface name '%s'",
			  pm_quote(q, v[N_IFACE]->text, v[N_IFACE]->len));
		ok = false;
	} else if (!pm_get_string(c, v[N_IFACE], "'iface'", KXP_NET_IFNAME_MAX, &ifc->name)) {
		ok = false;
	}
	if (v[N_ADDRESS] != NULL &&
	    get_address(c, v[N_ADDRESS], "'address'", &ifc->addr, &ifc->prefix)) {
		if (!pm_ipv4_host_ok(ifc->addr, ifc->prefix)) {
			pm_errorf(c, v[N_ADDRESS], NULL, "'address' %s is the %s address of its "
				  "subnet, not a host's", v[N_ADDRESS]->text,
				  (ifc->addr & ~pm_ipv4_mask(ifc->prefix)) == 0 ? "network"
										: "broadcast");
			ok = false;
		}
	} else {
		ok = false;
	}
	if (ok && v[N_GATEWAY] != NULL &&
	    get_address(c, v[N_GATEWAY], "'gateway'", &ifc->gateway, NULL)) {
		if (!kxp_net_in(ifc->gateway, ifc->addr, ifc->prefix) ||
		    ifc->gateway == ifc->addr) {
			pm_errorf(c, v[N_GATEWAY], NULL, "'gateway' %s must be another address "
				  "inside the subnet of 'address'", v[N_GATEWAY]->text);
			ok = false;
		}
	} else if (v[N_GATEWAY] != NULL) {
		ok = false;
	}
	if (v[N_LISTEN] != NULL)
		check_listen(c, v[N_LISTEN], ifc);
	if (v[N_CONNECT] != NULL)
		check_connect(c, v[N_CONNECT], ifc);
	if (ok && ifc->nlisten == 0 && ifc->npeers == 0 &&
	    (v[N_LISTEN] == NULL || v[N_LISTEN]->nchild == 0) &&
	    (v[N_CONNECT] == NULL || v[N_CONNECT]->nchild == 0))
		pm_warnf(c, n, "add listen: [PORT] or connect: [PEER], or drop the interface",
			 "interface '%s' lets no traffic through", ifc->name);
	return ok;
}

static void iface_free(struct pm_iface *ifc)
{
	free(ifc->name);
	free(ifc->listen);
	free(ifc->peers);
	memset(ifc, 0, sizeof(*ifc));
}

void pm_ifaces_free(struct pm_app *app)
{
	for (size_t i = 0; i < app->nifaces; i++)
		iface_free(&app->ifaces[i]);
	free(app->ifaces);
	app->ifaces = NULL;
	app->nifaces = 0;
}

static int cmp_iface(const void *a, const void *b)
{
	return strcmp(((const struct pm_iface *)a)->name, ((const struct pm_iface *)b)->name);
}

void pm_check_network(struct pm_check *c, const struct pm_node *seq, struct pm_app *app)
{
	if (!pm_get_seq(c, seq, "'network'") || seq->nchild == 0)
		return;
	if (seq->nchild > KXP_NET_IFACES_MAX) {
		pm_errorf(c, seq, NULL, "'network' has %zu interfaces, more than the limit of %u",
			  seq->nchild, KXP_NET_IFACES_MAX);
		return;
	}
	app->ifaces = calloc(seq->nchild, sizeof(*app->ifaces));
	if (app->ifaces == NULL) {
		*c->f->nomem = true;
		return;
	}
	for (size_t i = 0; i < seq->nchild; i++) {
		struct pm_iface *ifc = &app->ifaces[app->nifaces];
		size_t j;

		if (!check_iface(c, seq->child[i], ifc)) {
			iface_free(ifc);
			continue;
		}
		for (j = 0; j < app->nifaces && strcmp(app->ifaces[j].name, ifc->name) != 0; j++)
			;
		if (j < app->nifaces) {
			pm_errorf(c, seq->child[i], NULL, "interface '%s' is declared twice (first "
				  "at line %u)", ifc->name, (unsigned)app->ifaces[j].src.line);
			iface_free(ifc);
			continue;
		}
		for (j = 0; j < app->nifaces; j++) {
			const struct pm_iface *o = &app->ifaces[j];
			uint8_t shorter = o->prefix < ifc->prefix ? o->prefix : ifc->prefix;

			if (kxp_net_in(ifc->addr, o->addr, shorter))
				pm_warnf(c, seq->child[i], NULL,
					 "the subnets of interfaces '%s' and "
					 "'%s' (line %u) overlap",
					 ifc->name, o->name, (unsigned)o->src.line);
		}
		app->nifaces++;
	}
	qsort(app->ifaces, app->nifaces, sizeof(*app->ifaces), cmp_iface);
}
