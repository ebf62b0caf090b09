/*
 * The table reader's checks of what an app's pVMs reach outside themselves:
 * the resources entry, the files rules, and the network interfaces with
 * their listen ports and peers.  Part of kxp_open() (reader.c), over the
 * same UNTRUSTED bytes: every index and run is checked before it is
 * followed, every path and address is held to the form the compiler writes
 * (so the gate and the monitor may rely on it), and every reserved byte is
 * zero.  The work stays near-linear in the table sizes whatever the input:
 * nested mount points are found by binary search, not by comparing pairs.
 */
#include <errno.h>
#include <string.h>

#include "policy-lang/back.h"
#include "policy-lang/kxp_net.h"

#define CPU_MILLI_MAX 256000u /* as the compiler allows (app.c) */
#define PIDS_MAX 4194304u

static int check_resources(struct kxp_check *c, uint32_t a)
{
	const struct kxp_abi_resources *r = &c->p->resources[a];
	int rc = kxp_check_prov(c, KXP_T_RESOURCES, a, r->prov);

	if (rc < 0)
		return rc;
	if ((r->cpu_milli != 0 && r->cpu_milli < 10) || r->cpu_milli > CPU_MILLI_MAX ||
	    r->pids > PIDS_MAX)
		return kxp_check_bad(c, KXP_T_RESOURCES, a, "cpu %u or pids %u out of range",
				     r->cpu_milli, r->pids);
	/* both given (1..KXP_ABI_AUDIT_RATE_MAX: the type's range) or neither */
	if ((r->audit_rate == 0) != (r->audit_burst == 0))
		return kxp_check_bad(c, KXP_T_RESOURCES, a, "audit rate %u with burst %u: both "
				     "or neither", r->audit_rate, r->audit_burst);
	return 0;
}

/* ---- files ------------------------------------------------------------------------ */

static bool path_ok(const char *s)
{
	return pm_path_check(s, strlen(s)) == PM_PATH_OK && strcmp(s, "/") != 0;
}

/* strcmp(key[0..len) as a string, s) */
static int cmp_prefix(const char *key, size_t len, const char *s)
{
	int d = strncmp(key, s, len);

	if (d != 0)
		return d;
	return s[len] == '\0' ? 0 : -1;
}

/* Is some proper ancestor of guest (a directory above it) a mount point in
 * the run [first, end) sorted by guest path? */
static bool ancestor_mounted(const struct kxp_policy *p, uint32_t first, uint32_t end,
			     const char *guest)
{
	for (size_t len = 1; guest[len] != '\0'; len++) {
		uint32_t lo = first, hi = end;

		if (guest[len] != '/')
			continue;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			int d = cmp_prefix(guest, len, kxp_str(p, p->files[mid].guest));

			if (d == 0)
				return true;
			if (d < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	return false;
}

static int check_file(struct kxp_check *c, const struct kxp_abi_app *app, uint32_t i)
{
	const struct kxp_policy *p = c->p;
	const struct kxp_abi_file *f = &p->files[i];
	int rc;

	if ((rc = kxp_check_str(c, KXP_T_FILES, i, "guest", f->guest, true)) < 0 ||
	    (rc = kxp_check_str(c, KXP_T_FILES, i, "host", f->host, false)) < 0 ||
	    (rc = kxp_check_prov(c, KXP_T_FILES, i, f->prov)) < 0)
		return rc;
	if (!kxp_all_zero(f->reserved, sizeof(f->reserved)) || f->kind > KXP_ABI_FILE_IMAGE ||
	    f->mode > KXP_ABI_MODE_RW)
		return kxp_check_bad(c, KXP_T_FILES, i,
				     "kind, mode or a reserved field out of range");
	if (!path_ok(kxp_str(p, f->guest)))
		return kxp_check_bad(c, KXP_T_FILES, i, "guest: not an absolute normalised path "
				     "below '/'");
	if (f->kind == KXP_ABI_FILE_HOST ? !path_ok(kxp_str(p, f->host)) : f->host != 0)
		return kxp_check_bad(c, KXP_T_FILES, i, "host: not an absolute normalised path "
				     "below '/' (a host mount), or not empty (an image tree)");
	if ((f->kind == KXP_ABI_FILE_IMAGE && f->mode != KXP_ABI_MODE_RO) ||
	    (f->mode == KXP_ABI_MODE_RO) != (f->max == 0))
		return kxp_check_bad(c, KXP_T_FILES, i, "mode %u with max %llu: an image tree is "
				     "read-only, and only a writable mount has a cap", f->mode,
				     (unsigned long long)f->max);
	if (i > app->files.first &&
	    strcmp(kxp_str(p, f[-1].guest), kxp_str(p, f->guest)) >= 0)
		return kxp_check_bad(c, KXP_T_FILES, i, "not sorted by guest path (or duplicated)");
	if (ancestor_mounted(p, app->files.first, i, kxp_str(p, f->guest)))
		return kxp_check_bad(c, KXP_T_FILES, i, "guest path inside another mount point");
	return 0;
}

/* ---- network ---------------------------------------------------------------------- */

static int check_listen(struct kxp_check *c, const struct kxp_abi_range *r)
{
	for (uint32_t i = r->first; i < r->first + r->count; i++) {
		const struct kxp_abi_listen *l = &c->p->listen[i];
		int rc = kxp_check_prov(c, KXP_T_LISTEN, i, l->prov);

		if (rc < 0)
			return rc;
		if (l->port == 0 || l->reserved != 0 ||
		    (l->proto != KXP_ABI_PROTO_TCP && l->proto != KXP_ABI_PROTO_UDP))
			return kxp_check_bad(c, KXP_T_LISTEN, i, "port 0, unknown protocol %u or "
					     "reserved field", l->proto);
		if (i > r->first && (l[-1].proto > l->proto ||
				     (l[-1].proto == l->proto && l[-1].port >= l->port)))
			return kxp_check_bad(c, KXP_T_LISTEN, i,
					     "ports not ascending (or duplicated)");
	}
	return 0;
}

static int peer_cmp(const struct kxp_abi_peer *a, const struct kxp_abi_peer *b)
{
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	return (a->port > b->port) - (a->port < b->port);
}

static int check_peers(struct kxp_check *c, const struct kxp_abi_range *r)
{
	for (uint32_t i = r->first; i < r->first + r->count; i++) {
		const struct kxp_abi_peer *e = &c->p->peers[i];
		int rc = kxp_check_prov(c, KXP_T_PEERS, i, e->prov);

		if (rc < 0)
			return rc;
		if (e->prefix > 32 || (e->addr & ~pm_ipv4_mask(e->prefix)) != 0 ||
		    e->reserved != 0 ||
		    (e->proto != KXP_ABI_PROTO_TCP && e->proto != KXP_ABI_PROTO_UDP))
			return kxp_check_bad(c, KXP_T_PEERS, i,
					     "prefix %u, address bits beyond it, "
					     "protocol %u or reserved field",
					     e->prefix, e->proto);
		if (i > r->first && peer_cmp(e - 1, e) >= 0)
			return kxp_check_bad(c, KXP_T_PEERS, i,
					     "peers not ascending (or duplicated)");
	}
	return 0;
}

static int check_iface(struct kxp_check *c, const struct kxp_abi_app *app, uint32_t i,
		       uint64_t cur[KXP_TABLE_COUNT])
{
	const struct kxp_policy *p = c->p;
	const struct kxp_abi_iface *f = &p->ifaces[i];
	const char *name;
	int rc;

	if ((rc = kxp_check_str(c, KXP_T_IFACES, i, "name", f->name, true)) < 0 ||
	    (rc = kxp_check_prov(c, KXP_T_IFACES, i, f->prov)) < 0 ||
	    (rc = kxp_check_run(c, KXP_T_IFACES, i, "listen", &f->listen, &cur[KXP_T_LISTEN],
				p->nlisten)) < 0 ||
	    (rc = kxp_check_run(c, KXP_T_IFACES, i, "peers", &f->peers, &cur[KXP_T_PEERS],
				p->npeers)) < 0)
		return rc;
	name = kxp_str(p, f->name);
	if (!pm_iface_name_ok(name, strlen(name)))
		return kxp_check_bad(c, KXP_T_IFACES, i, "name is not an interface name");
	if (f->prefix < 1 || f->prefix > 32 || !pm_ipv4_unicast(f->addr) ||
	    !pm_ipv4_host_ok(f->addr, f->prefix) ||
	    (f->gateway != 0 && (f->gateway == f->addr || !kxp_net_in(f->gateway, f->addr,
								      f->prefix))))
		return kxp_check_bad(c, KXP_T_IFACES, i, "address, prefix or gateway unusable");
	if (!kxp_all_zero(f->reserved, sizeof(f->reserved)) || f->reserved2 != 0 ||
	    f->listen.count > KXP_NET_LISTEN_MAX || f->peers.count > KXP_NET_PEERS_MAX)
		return kxp_check_bad(c, KXP_T_IFACES, i, "more than %u ports or %u peers, or a "
				     "reserved field", KXP_NET_LISTEN_MAX, KXP_NET_PEERS_MAX);
	if (i > app->ifaces.first && strcmp(kxp_str(p, f[-1].name), name) >= 0)
		return kxp_check_bad(c, KXP_T_IFACES, i, "interfaces not sorted by name (or "
				     "duplicated)");
	if ((rc = check_listen(c, &f->listen)) < 0)
		return rc;
	return check_peers(c, &f->peers);
}

int kxp_check_app_io(struct kxp_check *c, uint32_t a, uint64_t cur[KXP_TABLE_COUNT])
{
	const struct kxp_policy *p = c->p;
	const struct kxp_abi_app *app = &p->apps[a];
	int rc;

	if ((rc = check_resources(c, a)) < 0 ||
	    (rc = kxp_check_run(c, KXP_T_APPS, a, "files", &app->files, &cur[KXP_T_FILES],
				p->nfiles)) < 0 ||
	    (rc = kxp_check_run(c, KXP_T_APPS, a, "ifaces", &app->ifaces, &cur[KXP_T_IFACES],
				p->nifaces)) < 0)
		return rc;
	if (app->ifaces.count > KXP_NET_IFACES_MAX)
		return kxp_check_bad(c, KXP_T_APPS, a, "%u interfaces; at most %u",
				     app->ifaces.count, KXP_NET_IFACES_MAX);
	for (uint32_t i = app->files.first; i < app->files.first + app->files.count; i++)
		if ((rc = check_file(c, app, i)) < 0)
			return rc;
	for (uint32_t i = app->ifaces.first; i < app->ifaces.first + app->ifaces.count; i++)
		if ((rc = check_iface(c, app, i, cur)) < 0)
			return rc;
	return 0;
}
