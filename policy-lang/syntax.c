/*
 * The small syntaxes of `files` and `network` rules (model.h): normalised
 * absolute paths, IPv4 addresses, protocols and peers.  One implementation
 * for the manifest checker, explain's request parser and the decision
 * function, so a path or peer means the same thing to all three.
 *
 * Inputs are untrusted text of a given length (not NUL-terminated): every
 * number is bounded before it is accumulated, and nothing is read past len.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy-lang/model.h"

#define COMPONENT_MAX 255 /* NAME_MAX */

/* ---- paths ------------------------------------------------------------------- */

enum pm_path_status pm_path_check(const char *s, size_t len)
{
	size_t start;

	if (len == 0 || s[0] != '/')
		return PM_PATH_RELATIVE;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return PM_PATH_CONTROL;
	if (len == 1)
		return PM_PATH_OK; /* "/" */
	/* each component: between a '/' and the next '/' or the end */
	for (start = 1; start <= len; start++) {
		size_t end = start;

		while (end < len && s[end] != '/')
			end++;
		if (end - start == 2 && s[start] == '.' && s[start + 1] == '.')
			return PM_PATH_DOTDOT;
		if (end == start || (end - start == 1 && s[start] == '.'))
			return PM_PATH_UNNORMAL; /* "//", "/./", or a trailing '/' */
		if (end - start > COMPONENT_MAX)
			return PM_PATH_LONG_NAME;
		start = end;
	}
	return PM_PATH_OK;
}

void pm_path_normalise(const char *s, size_t len, char *buf, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return;
	for (size_t i = 0; i < len;) {
		size_t end = i;

		while (end < len && s[end] != '/')
			end++;
		if (end > i && !(end - i == 1 && s[i] == '.') && used + 1 + (end - i) < size) {
			buf[used++] = '/';
			memcpy(buf + used, s + i, end - i);
			used += end - i;
		}
		i = end + 1;
	}
	if (used == 0 && size > 1)
		buf[used++] = '/';
	buf[used] = '\0';
}

bool pm_path_within(const char *inner, const char *outer, const char **rest)
{
	size_t n = strlen(outer);

	if (strncmp(inner, outer, n) != 0)
		return false;
	if (inner[n] != '\0' && inner[n] != '/' && strcmp(outer, "/") != 0)
		return false;
	*rest = strcmp(outer, "/") == 0 ? inner : inner + n;
	if (strcmp(outer, "/") == 0 && strcmp(inner, "/") == 0)
		*rest = "";
	return true;
}

/* ---- IPv4 --------------------------------------------------------------------- */

/* A decimal number of 1..digits digits, no leading zero, at most max; the
 * bytes it took, or 0. */
static size_t number(const char *s, size_t len, unsigned digits, uint32_t max, uint32_t *out)
{
	uint32_t v = 0;
	size_t i = 0;

	while (i < len && i < digits && s[i] >= '0' && s[i] <= '9')
		v = v * 10 + (uint32_t)(s[i++] - '0');
	if (i == 0 || (i < len && s[i] >= '0' && s[i] <= '9') || v > max || (s[0] == '0' && i > 1))
		return 0;
	*out = v;
	return i;
}

int pm_ipv4_parse(const char *s, size_t len, uint32_t *out)
{
	uint32_t addr = 0;
	size_t pos = 0;

	for (int part = 0; part < 4; part++) {
		uint32_t octet;
		size_t n;

		if (part > 0) {
			if (pos >= len || s[pos] != '.')
				return -EINVAL;
			pos++;
		}
		n = number(s + pos, len - pos, 3, 255, &octet);
		if (n == 0)
			return -EINVAL;
		pos += n;
		addr = addr << 8 | octet;
	}
	if (pos != len)
		return -EINVAL;
	*out = addr;
	return 0;
}

void pm_ipv4_format(uint32_t addr, char buf[PM_IPV4_TEXT_MAX])
{
	snprintf(buf, PM_IPV4_TEXT_MAX, "%u.%u.%u.%u", addr >> 24, addr >> 16 & 0xff,
		 addr >> 8 & 0xff, addr & 0xff);
}

uint32_t pm_ipv4_mask(uint8_t prefix)
{
	return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
}

bool pm_ipv4_unicast(uint32_t addr)
{
	uint8_t first = (uint8_t)(addr >> 24);

	return first != 0 && first != 127 && first < 224;
}

bool pm_ipv4_host_ok(uint32_t addr, uint8_t prefix)
{
	uint32_t mask = pm_ipv4_mask(prefix);

	return prefix > 30 || ((addr & ~mask) != 0 && (addr | mask) != ~0u);
}

bool pm_iface_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > PM_IFNAME_LEN_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

/* ---- protocols and peers -------------------------------------------------------- */

size_t pm_proto_prefix(const char *s, size_t len, uint8_t *proto)
{
	*proto = PM_PROTO_TCP;
	if (len >= 4 && memcmp(s, "tcp/", 4) == 0)
		return 4;
	if (len >= 4 && memcmp(s, "udp/", 4) == 0) {
		*proto = PM_PROTO_UDP;
		return 4;
	}
	return 0;
}

const char *pm_proto_name(uint8_t proto)
{
	return proto == PM_PROTO_TCP ? "tcp" : proto == PM_PROTO_UDP ? "udp" : "?";
}

enum pm_peer_status pm_peer_parse(const char *s, size_t len, struct pm_peer_text *out)
{
	size_t pos = pm_proto_prefix(s, len, &out->proto), colon, addr_end;
	uint32_t v = 0;

	memset(&out->addr, 0, sizeof(*out) - offsetof(struct pm_peer_text, addr));
	/* the port is after the last ':' */
	for (colon = len; colon > pos && s[colon - 1] != ':'; colon--)
		;
	if (colon == pos)
		return PM_PEER_SYNTAX;
	colon--;
	for (addr_end = pos; addr_end < colon && s[addr_end] != '/'; addr_end++)
		;
	if (pm_ipv4_parse(s + pos, addr_end - pos, &out->addr) < 0)
		return PM_PEER_ADDRESS;
	out->prefix = 32;
	if (addr_end < colon) {
		if (number(s + addr_end + 1, colon - addr_end - 1, 2, 32, &v) !=
		    colon - addr_end - 1)
			return PM_PEER_PREFIX;
		out->prefix = (uint8_t)v;
		out->has_prefix = true;
	}
	if (len - colon - 1 == 1 && s[colon + 1] == '*')
		out->port = 0;
	else if (number(s + colon + 1, len - colon - 1, 5, 65535, &v) == len - colon - 1 && v > 0)
		out->port = (uint16_t)v;
	else
		return PM_PEER_PORT;
	if (out->addr & ~pm_ipv4_mask(out->prefix))
		return PM_PEER_HOSTBITS;
	return PM_PEER_OK;
}

void pm_peer_format(uint8_t proto, uint32_t addr, uint8_t prefix, uint16_t port, char *buf,
		    size_t size)
{
	char a[PM_IPV4_TEXT_MAX], pre[8] = "", p[8] = "*";

	pm_ipv4_format(addr, a);
	if (prefix != 32)
		snprintf(pre, sizeof(pre), "/%u", prefix);
	if (port != 0)
		snprintf(p, sizeof(p), "%u", port);
	snprintf(buf, size, "%s%s%s:%s", proto == PM_PROTO_UDP ? "udp/" : "", a, pre, p);
}
