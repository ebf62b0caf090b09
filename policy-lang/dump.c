/*
 * `kxpolicy dump`: the whole policy in a canonical, stable order (the
 * tables' own sorted order), every entry with its provenance, as text for
 * people or as JSON for scripts.  Strings were validated by kxp_open()
 * (printable UTF-8), so the text form prints them as they are.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "policy-lang/back.h"

static void sig_line(FILE *out, const struct kxp_policy *p)
{
	char id[2 * KXSIG_KEYID_BYTES + 1];

	if (!p->sig.is_signed) {
		fprintf(out, "unsigned");
		return;
	}
	kxsig_keyid_hex(p->sig.keyid, id);
	fprintf(out, "signed by admin key %s (%s)", id,
		p->sig.verified ? "signature verified" : "signature not checked");
}

/* ---- what text and JSON share: one walk of each list, two spellings ---- */

static void at(FILE *out, const struct kxp_policy *p, uint32_t prov)
{
	fprintf(out, "  @ %s:%u:%u\n", kxp_str(p, p->prov[prov].file), p->prov[prov].line,
		p->prov[prov].col);
}

static void json_src(FILE *out, const struct kxp_policy *p, uint32_t prov)
{
	fprintf(out, "\"source\": {\"file\": ");
	kxp_json_str(out, kxp_str(p, p->prov[prov].file));
	fprintf(out, ", \"line\": %u, \"col\": %u}", p->prov[prov].line, p->prov[prov].col);
}

/* A library's version intervals: "[1, 2) U [3, +inf)", or JSON strings. */
static void lib_intervals(FILE *out, const struct kxp_policy *p, const struct kxp_abi_lib *lib,
			  bool json)
{
	char buf[2 * PM_VERSION_TEXT_MAX + 8];

	for (uint32_t i = 0; i < lib->intervals.count; i++) {
		kxp_interval_format(&p->intervals[lib->intervals.first + i], buf, sizeof(buf));
		if (json)
			fprintf(out, "%s\"%s\"", i ? ", " : "", buf);
		else
			fprintf(out, "%s %s", i ? " U" : "", buf);
	}
}

/* The keys a library must be signed with: "name (keyid)", or JSON objects. */
static void lib_signers(FILE *out, const struct kxp_policy *p, const struct kxp_abi_lib *lib,
			bool json)
{
	char id[2 * KXSIG_KEYID_BYTES + 1];

	for (uint32_t s = 0; s < lib->signers.count; s++) {
		const struct kxp_abi_key *k = &p->keys[p->lib_signers[lib->signers.first + s]];

		kxsig_keyid_hex(k->keyid, id);
		if (!json) {
			fprintf(out, "%s %s (%s)", s ? "," : "", kxp_str(p, k->name), id);
			continue;
		}
		fprintf(out, "%s{\"name\": ", s ? ", " : "");
		kxp_json_str(out, kxp_str(p, k->name));
		fprintf(out, ", \"keyid\": \"%s\"}", id);
	}
}

/* A trusted key's period: each end only when the manifest gave it. */
static void key_dates(FILE *out, const struct kxp_abi_key *k, bool json)
{
	const struct {
		const char *name;
		int64_t at; /* 0: not given */
	} ends[] = {{"from", k->from}, {"until", k->until}};
	char date[PM_DATE_TEXT_MAX];

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		if (ends[i].at == 0)
			continue;
		pm_date_format(ends[i].at, date);
		if (json)
			fprintf(out, ", \"%s\": \"%s\"", ends[i].name, date);
		else
			fprintf(out, " %s %s", ends[i].name, date);
	}
}

/* An app's revoked signing keys, or (digests) image digests: a line each,
 * or the items of a JSON array. */
static void revoked(FILE *out, const struct kxp_policy *p, const struct kxp_abi_app *app,
		    bool digests, bool json)
{
	const struct kxp_abi_range *r = digests ? &app->revoked_digests : &app->revoked_keys;
	char id[2 * KXSIG_DIGEST_BYTES + 1];

	for (uint32_t i = 0; i < r->count; i++) {
		uint32_t prov;

		if (digests) {
			kxsig_digest_hex(p->revoked_digests[r->first + i].digest, id);
			prov = p->revoked_digests[r->first + i].prov;
		} else {
			kxsig_keyid_hex(p->revoked_keys[r->first + i].keyid, id);
			prov = p->revoked_keys[r->first + i].prov;
		}
		if (!json) {
			fprintf(out, "  revoked %s %s", digests ? "digest" : "key", id);
			at(out, p, prov);
			continue;
		}
		fprintf(out, "%s{\"%s\": \"%s\", ", i ? ", " : "", digests ? "digest" : "keyid", id);
		json_src(out, p, prov);
		fputc('}', out);
	}
}

/* ---- text --------------------------------------------------------------- */

static void text_lib(FILE *out, const struct kxp_policy *p, const struct kxp_abi_lib *lib)
{
	fprintf(out, "  library %s", kxp_str(p, lib->name));
	at(out, p, lib->prov);
	fprintf(out, "    version '%s' =", kxp_str(p, lib->version_text));
	lib_intervals(out, p, lib, false);
	fprintf(out, "\n    signed-by");
	lib_signers(out, p, lib, false);
	fprintf(out, "\n    loader %s, update %s, rollback %s, bind %s\n",
		kxp_loader_names[lib->loader], lib->update ? "allow" : "deny",
		lib->allow_downgrade ? "allow" : "deny", kxp_bind_names[lib->bind]);
}

static void limit_text(FILE *out, const char *name, uint32_t v, bool milli)
{
	if (v == 0)
		fprintf(out, "%s default", name);
	else if (milli)
		fprintf(out, "%s %u.%03u", name, v / 1000, v % 1000);
	else
		fprintf(out, "%s %u", name, v);
}

/* resources, files and network */
static void text_io(FILE *out, const struct kxp_policy *p, uint32_t a)
{
	const struct kxp_abi_app *app = &p->apps[a];
	char addr[PM_IPV4_TEXT_MAX], peer[PM_PEER_TEXT_MAX];

	fprintf(out, "  resources ");
	limit_text(out, "cpu", p->resources[a].cpu_milli, true);
	limit_text(out, ", pids", p->resources[a].pids, false);
	at(out, p, p->resources[a].prov);
	/* only when the manifest sets it: the manager's default otherwise */
	if (p->resources[a].audit_rate != 0) {
		fprintf(out, "  audit rate %u a second, burst %u", p->resources[a].audit_rate,
			p->resources[a].audit_burst);
		at(out, p, app->prov);
	}
	for (uint32_t i = app->files.first; i < app->files.first + app->files.count; i++) {
		const struct kxp_abi_file *f = &p->files[i];

		fprintf(out, "  file %s: ", kxp_str(p, f->guest));
		if (f->kind == KXP_ABI_FILE_IMAGE)
			fprintf(out, "the image's tree, ro");
		else if (f->mode == KXP_ABI_MODE_RW)
			fprintf(out, "host %s, rw, max %llu", kxp_str(p, f->host),
				(unsigned long long)f->max);
		else
			fprintf(out, "host %s, ro", kxp_str(p, f->host));
		at(out, p, f->prov);
	}
	for (uint32_t i = app->ifaces.first; i < app->ifaces.first + app->ifaces.count; i++) {
		const struct kxp_abi_iface *f = &p->ifaces[i];

		pm_ipv4_format(f->addr, addr);
		fprintf(out, "  iface %s %s/%u", kxp_str(p, f->name), addr, f->prefix);
		if (f->gateway != 0) {
			pm_ipv4_format(f->gateway, addr);
			fprintf(out, ", gateway %s", addr);
		}
		at(out, p, f->prov);
		for (uint32_t l = f->listen.first; l < f->listen.first + f->listen.count; l++) {
			fprintf(out, "    listen %s%u", p->listen[l].proto == KXP_ABI_PROTO_UDP
				? "udp/" : "", p->listen[l].port);
			at(out, p, p->listen[l].prov);
		}
		for (uint32_t e = f->peers.first; e < f->peers.first + f->peers.count; e++) {
			pm_peer_format(p->peers[e].proto, p->peers[e].addr, p->peers[e].prefix,
				       p->peers[e].port, peer, sizeof(peer));
			fprintf(out, "    connect %s", peer);
			at(out, p, p->peers[e].prov);
		}
	}
}

static void text_app(FILE *out, const struct kxp_policy *p, uint32_t a)
{
	const struct kxp_abi_app *app = &p->apps[a];
	char id[2 * KXSIG_KEYID_BYTES + 1], kinds[KXP_KINDS_TEXT_MAX];

	fprintf(out, "app %s", kxp_str(p, app->name));
	at(out, p, app->prov);
	fprintf(out, "  image %s\n  memory %llu\n", kxp_str(p, app->image),
		(unsigned long long)app->memory);
	for (uint32_t k = app->keys.first; k < app->keys.first + app->keys.count; k++) {
		kxsig_keyid_hex(p->keys[k].keyid, id);
		fprintf(out, "  key %s %s %s", kxp_str(p, p->keys[k].name), id,
			kxp_str(p, p->keys[k].path));
		key_dates(out, &p->keys[k], false);
		at(out, p, p->keys[k].prov);
	}
	for (uint32_t l = app->libs.first; l < app->libs.first + app->libs.count; l++)
		text_lib(out, p, &p->libs[l]);
	fprintf(out, "  fork max-children %u, max-depth %u, max-members %u",
		p->fork[a].max_children, p->fork[a].max_depth, p->fork[a].max_members);
	at(out, p, p->fork[a].prov);
	kxp_kinds_format(app->ipc_kinds, kinds, sizeof(kinds));
	fprintf(out, "  ipc %s", kinds);
	at(out, p, app->ipc_prov);
	if (app->ipc_objects != 0 || app->ipc_flags != 0)
		fprintf(out, "  ipc-objects %u%s\n",
			app->ipc_objects ? app->ipc_objects : KXP_ABI_IPC_OBJECTS_DEFAULT,
			(app->ipc_flags & KXP_ABI_IPC_PERSIST) ? ", persist" : "");
	for (uint32_t t = app->trust.first; t < app->trust.first + app->trust.count; t++) {
		kxp_kinds_format(p->trust[t].kinds, kinds, sizeof(kinds));
		fprintf(out, "  trust %s %s", kxp_str(p, p->apps[p->trust[t].peer].name), kinds);
		at(out, p, p->trust[t].prov);
	}
	fprintf(out, "  recycle %s, pool %u", p->recycle[a].allow ? "allow" : "deny",
		p->recycle[a].pool);
	at(out, p, p->recycle[a].prov);
	revoked(out, p, app, false, false);
	revoked(out, p, app, true, false);
	text_io(out, p, a);
}

/* ---- JSON --------------------------------------------------------------- */

static void json_kinds(FILE *out, uint32_t kinds)
{
	int n = 0;

	fputc('[', out);
	for (uint32_t bit = 1; bit <= KXP_ABI_IPC_SHM; bit <<= 1)
		if (kinds & bit)
			fprintf(out, "%s\"%s\"", n++ ? ", " : "", kxp_ipc_kind_name(bit));
	fputc(']', out);
}

static void json_lib(FILE *out, const struct kxp_policy *p, const struct kxp_abi_lib *lib)
{
	fprintf(out, "{\"name\": ");
	kxp_json_str(out, kxp_str(p, lib->name));
	fprintf(out, ", \"version\": ");
	kxp_json_str(out, kxp_str(p, lib->version_text));
	fprintf(out, ", \"intervals\": [");
	lib_intervals(out, p, lib, true);
	fprintf(out, "], \"signed_by\": [");
	lib_signers(out, p, lib, true);
	fprintf(out, "], \"loader\": \"%s\", \"update\": %s, \"allow_downgrade\": %s, "
		"\"bind\": \"%s\", ", kxp_loader_names[lib->loader],
		lib->update ? "true" : "false", lib->allow_downgrade ? "true" : "false",
		kxp_bind_names[lib->bind]);
	json_src(out, p, lib->prov);
	fputc('}', out);
}

static void json_ipv4(FILE *out, const char *key, uint32_t addr)
{
	char text[PM_IPV4_TEXT_MAX];

	pm_ipv4_format(addr, text);
	fprintf(out, "\"%s\": \"%s\"", key, text);
}

static void json_iface(FILE *out, const struct kxp_policy *p, const struct kxp_abi_iface *f)
{
	fprintf(out, "{\"iface\": ");
	kxp_json_str(out, kxp_str(p, f->name));
	fprintf(out, ", ");
	json_ipv4(out, "address", f->addr);
	fprintf(out, ", \"prefix\": %u, ", f->prefix);
	if (f->gateway != 0)
		json_ipv4(out, "gateway", f->gateway);
	else
		fprintf(out, "\"gateway\": null");
	fprintf(out, ", \"listen\": [");
	for (uint32_t l = 0; l < f->listen.count; l++) {
		const struct kxp_abi_listen *e = &p->listen[f->listen.first + l];

		fprintf(out, "%s{\"proto\": \"%s\", \"port\": %u, ", l ? ", " : "",
			pm_proto_name(e->proto), e->port);
		json_src(out, p, e->prov);
		fputc('}', out);
	}
	fprintf(out, "], \"connect\": [");
	for (uint32_t i = 0; i < f->peers.count; i++) {
		const struct kxp_abi_peer *e = &p->peers[f->peers.first + i];

		fprintf(out, "%s{\"proto\": \"%s\", ", i ? ", " : "", pm_proto_name(e->proto));
		json_ipv4(out, "address", e->addr);
		fprintf(out, ", \"prefix\": %u, \"port\": ", e->prefix);
		if (e->port != 0)
			fprintf(out, "%u, ", e->port);
		else
			fprintf(out, "null, ");
		json_src(out, p, e->prov);
		fputc('}', out);
	}
	fprintf(out, "], ");
	json_src(out, p, f->prov);
	fputc('}', out);
}

/* resources, files and network */
static void json_io(FILE *out, const struct kxp_policy *p, uint32_t a)
{
	const struct kxp_abi_app *app = &p->apps[a];

	fprintf(out, ",\n   \"resources\": {\"cpu_milli\": %u, \"pids\": %u, ",
		p->resources[a].cpu_milli, p->resources[a].pids);
	json_src(out, p, p->resources[a].prov);
	/* 0: not given, kxd's --audit-rate applies */
	fprintf(out, "},\n   \"audit\": {\"rate\": %u, \"burst\": %u",
		p->resources[a].audit_rate, p->resources[a].audit_burst);
	fprintf(out, "},\n   \"files\": [");
	for (uint32_t i = 0; i < app->files.count; i++) {
		const struct kxp_abi_file *f = &p->files[app->files.first + i];

		fprintf(out, "%s{\"guest\": ", i ? ", " : "");
		kxp_json_str(out, kxp_str(p, f->guest));
		fprintf(out, ", \"host\": ");
		if (f->kind == KXP_ABI_FILE_HOST)
			kxp_json_str(out, kxp_str(p, f->host));
		else
			fprintf(out, "null");
		fprintf(out, ", \"image\": %s, \"mode\": \"%s\", \"max\": %llu, ",
			f->kind == KXP_ABI_FILE_IMAGE ? "true" : "false",
			f->mode == KXP_ABI_MODE_RW ? "rw" : "ro", (unsigned long long)f->max);
		json_src(out, p, f->prov);
		fputc('}', out);
	}
	fprintf(out, "],\n   \"network\": [");
	for (uint32_t i = 0; i < app->ifaces.count; i++) {
		fprintf(out, "%s", i ? ",\n     " : "");
		json_iface(out, p, &p->ifaces[app->ifaces.first + i]);
	}
	fputc(']', out);
}

static void json_app(FILE *out, const struct kxp_policy *p, uint32_t a)
{
	const struct kxp_abi_app *app = &p->apps[a];
	char id[2 * KXSIG_KEYID_BYTES + 1];

	fprintf(out, "{\"name\": ");
	kxp_json_str(out, kxp_str(p, app->name));
	fprintf(out, ", ");
	json_src(out, p, app->prov);
	fprintf(out, ",\n   \"image\": ");
	kxp_json_str(out, kxp_str(p, app->image));
	fprintf(out, ", \"memory\": %llu,\n   \"keys\": [", (unsigned long long)app->memory);
	for (uint32_t k = 0; k < app->keys.count; k++) {
		const struct kxp_abi_key *key = &p->keys[app->keys.first + k];

		kxsig_keyid_hex(key->keyid, id);
		fprintf(out, "%s{\"name\": ", k ? ", " : "");
		kxp_json_str(out, kxp_str(p, key->name));
		fprintf(out, ", \"keyid\": \"%s\", \"path\": ", id);
		kxp_json_str(out, kxp_str(p, key->path));
		key_dates(out, key, true);
		fprintf(out, ", ");
		json_src(out, p, key->prov);
		fputc('}', out);
	}
	fprintf(out, "],\n   \"libraries\": [");
	for (uint32_t l = 0; l < app->libs.count; l++) {
		fprintf(out, "%s", l ? ",\n     " : "");
		json_lib(out, p, &p->libs[app->libs.first + l]);
	}
	fprintf(out, "],\n   \"fork\": {\"max_children\": %u, \"max_depth\": %u, "
		"\"max_members\": %u, ", p->fork[a].max_children, p->fork[a].max_depth,
		p->fork[a].max_members);
	json_src(out, p, p->fork[a].prov);
	fprintf(out, "},\n   \"ipc\": {\"kinds\": ");
	json_kinds(out, app->ipc_kinds);
	fprintf(out, ", \"objects\": %u, \"persist\": %s, ",
		app->ipc_objects ? app->ipc_objects : KXP_ABI_IPC_OBJECTS_DEFAULT,
		(app->ipc_flags & KXP_ABI_IPC_PERSIST) ? "true" : "false");
	json_src(out, p, app->ipc_prov);
	fprintf(out, "},\n   \"trust\": [");
	for (uint32_t t = 0; t < app->trust.count; t++) {
		const struct kxp_abi_trust *tr = &p->trust[app->trust.first + t];

		fprintf(out, "%s{\"peer\": ", t ? ", " : "");
		kxp_json_str(out, kxp_str(p, p->apps[tr->peer].name));
		fprintf(out, ", \"kinds\": ");
		json_kinds(out, tr->kinds);
		fprintf(out, ", ");
		json_src(out, p, tr->prov);
		fputc('}', out);
	}
	fprintf(out, "],\n   \"recycle\": {\"allow\": %s, \"pool\": %u, ",
		p->recycle[a].allow ? "true" : "false", p->recycle[a].pool);
	json_src(out, p, p->recycle[a].prov);
	fprintf(out, "},\n   \"revoked\": {\"keys\": [");
	revoked(out, p, app, false, true);
	fprintf(out, "], \"digests\": [");
	revoked(out, p, app, true, true);
	fprintf(out, "]}");
	json_io(out, p, a);
	fputc('}', out);
}

int kxp_dump(FILE *out, const struct kxp_policy *p, bool json)
{
	char id[2 * KXSIG_KEYID_BYTES + 1];

	if (!json) {
		fprintf(out, "# kx policy, format %u, serial %" PRIu64 ": %u apps, %u libraries; ",
			KXP_FORMAT_VERSION, p->serial, p->napps, p->nlibs);
		sig_line(out, p);
		fputc('\n', out);
		for (uint32_t a = 0; a < p->napps; a++)
			text_app(out, p, a);
		return ferror(out) ? -EIO : 0;
	}
	kxsig_keyid_hex(p->sig.keyid, id);
	fprintf(out, "{\"format\": %u, \"serial\": %" PRIu64 ", \"signed\": %s, \"admin_keyid\": ",
		KXP_FORMAT_VERSION, p->serial, p->sig.is_signed ? "true" : "false");
	if (p->sig.is_signed)
		fprintf(out, "\"%s\"", id);
	else
		fprintf(out, "null");
	fprintf(out, ", \"signature_verified\": %s,\n \"apps\": [",
		p->sig.verified ? "true" : "false");
	for (uint32_t a = 0; a < p->napps; a++) {
		fprintf(out, "%s", a ? ",\n  " : "\n  ");
		json_app(out, p, a);
	}
	fprintf(out, "]}\n");
	return ferror(out) ? -EIO : 0;
}
