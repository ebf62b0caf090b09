/*
 * `kxpolicy explain` helpers: the ATTR=VALUE parser that turns command-line
 * words (untrusted text) into a struct kxp_request, and the printer of a
 * decision (text or JSON).  The decision itself is kxp_decide()'s, the same
 * the manager enforces.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy-lang/back.h"

void kxp_request_init(struct kxp_request *req, enum kxp_op op)
{
	memset(req, 0, sizeof(*req));
	req->op = op;
	req->members = 1; /* a family of just the root */
}

enum attr_id {
	A_APP, A_REQUESTER, A_LIB, A_VERSION, A_OLD_VERSION, A_SIGNER, A_DIGEST, A_LOADER,
	A_PEER, A_KIND, A_FAMILY, A_DEPTH, A_CHILDREN, A_MEMBERS, A_GUEST, A_HOST, A_IMAGE,
	A_MODE, A_IFACE, A_LISTEN, A_CONNECT, A_OPERATOR, A_NOW, A_COUNT
};

static const char *const attr_names[A_COUNT] = {
	"app", "requester", "lib", "version", "old-version", "signer", "digest", "loader",
	"peer", "kind", "family", "depth", "children", "members", "guest", "host", "image",
	"mode", "iface", "listen", "connect", "operator", "now",
};

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_word(const char *value, const char *const *words, size_t n, unsigned *out)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(value, words[i]) == 0) {
			*out = (unsigned)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* listen=[tcp/|udp/]PORT */
static int parse_listen(struct kxp_request *req, const char *v)
{
	size_t skip = pm_proto_prefix(v, strlen(v), &req->proto);
	uint32_t port;

	req->net_query = KXP_NET_LISTEN;
	if (parse_u32(v + skip, &port) < 0 || port < 1 || port > 65535)
		return -EINVAL;
	req->port = (uint16_t)port;
	return 0;
}

/* connect=[tcp/|udp/]A.B.C.D:PORT: one peer, so no prefix and no '*' */
static int parse_connect(struct kxp_request *req, const char *v)
{
	struct pm_peer_text t;

	req->net_query = KXP_NET_CONNECT;
	if (pm_peer_parse(v, strlen(v), &t) != PM_PEER_OK || t.has_prefix || t.port == 0)
		return -EINVAL;
	req->proto = t.proto;
	req->net_addr = t.addr;
	req->port = t.port;
	return 0;
}

static int set_attr(struct kxp_request *req, enum attr_id id, const char *v)
{
	static const char *const kinds[] = {"pipe", "signal", "msgq", "shm"};
	static const char *const families[] = {"other", "same"};
	static const char *const booleans[] = {"false", "true"};
	static const char *const modes[] = {"ro", "rw"};
	unsigned w;

	switch (id) {
	case A_APP: req->app = v; return 0;
	case A_REQUESTER: req->requester = v; return 0;
	case A_LIB: req->lib = v; return 0;
	case A_PEER: req->peer = v; return 0;
	case A_VERSION:
		req->has_version = true;
		return kxp_version_parse(v, &req->version);
	case A_OLD_VERSION:
		req->has_old_version = true;
		return kxp_version_parse(v, &req->old_version);
	case A_SIGNER:
		req->has_signer = true;
		return kxsig_hex_parse(v, req->signer, sizeof(req->signer)) ? -EINVAL : 0;
	case A_DIGEST:
		req->has_digest = true;
		return kxsig_hex_parse(v, req->digest, sizeof(req->digest)) ? -EINVAL : 0;
	case A_LOADER:
		req->has_relation = true;
		if (parse_word(v, kxp_loader_names, 3, &w) < 0)
			return -EINVAL;
		req->relation = (enum kxp_relation)w;
		return 0;
	case A_KIND:
		if (parse_word(v, kinds, 4, &w) < 0)
			return -EINVAL;
		req->ipc_kind = 1u << w;
		return 0;
	case A_FAMILY:
		if (parse_word(v, families, 2, &w) < 0)
			return -EINVAL;
		req->same_family = w == 1;
		return 0;
	case A_DEPTH: return parse_u32(v, &req->depth);
	case A_CHILDREN: return parse_u32(v, &req->children);
	case A_MEMBERS: return parse_u32(v, &req->members);
	case A_GUEST: req->guest = v; return 0;
	case A_HOST: req->host = v; return 0;
	case A_IMAGE:
		if (parse_word(v, booleans, 2, &w) < 0)
			return -EINVAL;
		req->image = w == 1;
		return 0;
	case A_MODE:
		if (parse_word(v, modes, 2, &w) < 0)
			return -EINVAL;
		req->mode = w == 1 ? KXP_MODE_RW : KXP_MODE_RO;
		return 0;
	case A_IFACE: req->iface = v; return 0;
	case A_LISTEN: return parse_listen(req, v);
	case A_CONNECT: return parse_connect(req, v);
	case A_OPERATOR:
		if (parse_word(v, booleans, 2, &w) < 0)
			return -EINVAL;
		req->by_operator = w == 1;
		return 0;
	case A_NOW: /* a date (the time keys are checked at), after 1970-01-01 */
		if (pm_date_parse(v, strlen(v), &req->now) < 0 || req->now == 0)
			return -EINVAL;
		return 0;
	case A_COUNT: break;
	}
	return -EINVAL;
}

static int request_attr(struct kxp_request *req, const char *attr, struct kx_error *err)
{
	const char *eq = strchr(attr, '=');
	size_t len = eq ? (size_t)(eq - attr) : 0;

	for (int id = 0; eq && id < A_COUNT; id++) {
		if (strlen(attr_names[id]) != len || strncmp(attr, attr_names[id], len) != 0)
			continue;
		if (set_attr(req, (enum attr_id)id, eq + 1) < 0)
			return kx_err(err, -EINVAL, "%s: bad value for %s", attr, attr_names[id]);
		return 0;
	}
	return kx_err(err, -EINVAL,
		      "%s: not an attribute (app= requester= lib= version= old-version= "
		      "signer= digest= loader= peer= kind= family= depth= children= members= "
		      "guest= host= image= mode= iface= listen= connect= operator= now=)",
		      attr);
}

int kxp_request_parse(struct kxp_request *req, enum kxp_op op, const char *const *words, int n,
		      struct kx_error *err)
{
	const char *peer;
	bool family_given = false;

	kxp_request_init(req, op);
	for (int i = 0; i < n; i++) {
		if (request_attr(req, words[i], err) < 0)
			return -EINVAL;
		family_given |= strncmp(words[i], "family=", 7) == 0;
	}
	/* ipc between two pVMs of one app: the same family unless told */
	peer = req->peer ? req->peer : req->requester;
	if (op == KXP_OP_IPC && !family_given && req->app && peer && strcmp(req->app, peer) == 0)
		req->same_family = true;
	return 0;
}

void kxp_json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

/* "from DATE", "until DATE", both, or "always" */
static void validity(FILE *out, const struct kxp_key_used *k)
{
	char d[PM_DATE_TEXT_MAX];

	if (k->from == 0 && k->until == 0) {
		fprintf(out, "always");
		return;
	}
	if (k->from != 0) {
		pm_date_format(k->from, d);
		fprintf(out, "from %s%s", d, k->until ? " " : "");
	}
	if (k->until != 0) {
		pm_date_format(k->until, d);
		fprintf(out, "until %s", d);
	}
}

/* ", \"NAME\": \"DATE\"", or null for an open end (0) */
static void json_date(FILE *out, const char *name, int64_t t)
{
	char d[PM_DATE_TEXT_MAX];

	pm_date_format(t, d);
	fprintf(out, ", \"%s\": ", name);
	fprintf(out, t ? "\"%s\"" : "null", d);
}

static void key_json(FILE *out, const struct kxp_key_used *k)
{
	char id[2 * KXSIG_KEYID_BYTES + 1];

	kxsig_keyid_hex(k->keyid, id);
	fprintf(out, "{\"name\": ");
	kxp_json_str(out, k->name);
	fprintf(out, ", \"id\": \"%s\"", id);
	json_date(out, "from", k->from);
	json_date(out, "until", k->until);
	fprintf(out, "}");
}

void kxp_decision_print(FILE *out, const struct kxp_request *req,
			const struct kxp_decision *d, bool json)
{
	const char *v = d->verdict == KXP_ALLOW ? "ALLOW" : "DENY";
	char id[2 * KXSIG_KEYID_BYTES + 1];

	if (!json) {
		fprintf(out, "%s %s\nreason: %s\n", v, kxp_op_name(req->op), d->reason);
		if (d->has_rule)
			fprintf(out, "rule: %s:%u:%u: %s\n", d->rule.file, d->rule.line, d->rule.col,
				d->rule.desc);
		else
			fprintf(out, "rule: none (no rule applies)\n");
		if (d->has_key) { /* the key the decision relied on, or refused */
			kxsig_keyid_hex(d->key.keyid, id);
			fprintf(out, "key: %s %s, trusted ", d->key.name, id);
			validity(out, &d->key);
			fputc('\n', out);
		}
		return;
	}
	fprintf(out, "{\"op\": \"%s\", \"decision\": \"%s\", \"reason\": ", kxp_op_name(req->op),
		v);
	kxp_json_str(out, d->reason);
	fprintf(out, ", \"rule\": ");
	if (d->has_rule) {
		fprintf(out, "{\"file\": ");
		kxp_json_str(out, d->rule.file);
		fprintf(out, ", \"line\": %u, \"col\": %u, \"desc\": ", d->rule.line, d->rule.col);
		kxp_json_str(out, d->rule.desc);
		fprintf(out, "}");
	} else {
		fprintf(out, "null");
	}
	fprintf(out, ", \"key\": ");
	if (d->has_key)
		key_json(out, &d->key);
	else
		fprintf(out, "null");
	fprintf(out, "}\n");
}
