/*
 * cmdline.c — whether this Xen scrubs the frames a live domain gives back
 * (no Xen library: unit-tested on any host).
 *
 * Xen scrubs a freed frame only when its domain is dying, or always when
 * booted with `scrub-domheap`.  A PV guest can give frames back and ask for
 * new ones itself (XENMEM_decrease_reservation / populate_physmap on its
 * own domain, within its max_pages), so without the option a pVM can get
 * frames no monitor zeroed, holding what another pVM's IpC area or a
 * ballooning domain left in them (a review finding).  The backend refuses
 * to create domains on such a Xen (xen.c).
 *
 * The text is Xen's own command line (XENVER_commandline): Xen's rules are
 * followed — words split by spaces, `-` and `_` alike in a name, a boolean
 * given as NAME, NAME=1|on|true|yes|enable or NAME=0|off|false|no|disable,
 * `no-NAME` negates, the last word wins.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "manager/hv/xen/xen.h"

/* name (len bytes) is want, with '-' and '_' alike */
static bool same_name(const char *name, size_t len, const char *want)
{
	size_t i;

	for (i = 0; i < len && want[i] != '\0'; i++) {
		char a = name[i] == '_' ? '-' : name[i], b = want[i] == '_' ? '-' : want[i];

		if (a != b)
			return false;
	}
	return i == len && want[i] == '\0';
}

/* 1 true, 0 false, -1 not a boolean (value is len bytes) */
static int boolean_of(const char *value, size_t len)
{
	static const char *const yes[] = {"1", "on", "true", "yes", "enable"};
	static const char *const no[] = {"0", "off", "false", "no", "disable"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strlen(yes[i]) == len && memcmp(value, yes[i], len) == 0)
			return 1;
		if (strlen(no[i]) == len && memcmp(value, no[i], len) == 0)
			return 0;
	}
	return -1;
}

bool xen_cmdline_scrubs_domheap(const char *cmdline, size_t size)
{
	bool scrub = false;
	size_t i = 0;

	while (i < size && cmdline[i] != '\0') {
		size_t start, end, eq;
		bool negated;
		int value = 1;

		while (i < size && cmdline[i] == ' ')
			i++;
		start = i;
		while (i < size && cmdline[i] != '\0' && cmdline[i] != ' ')
			i++;
		end = i;
		for (eq = start; eq < end && cmdline[eq] != '='; eq++)
			;
		negated = eq - start > 3 && same_name(cmdline + start, 3, "no-");
		if (!same_name(cmdline + start + (negated ? 3 : 0), eq - start - (negated ? 3 : 0),
			       "scrub-domheap"))
			continue;
		if (eq < end)
			value = boolean_of(cmdline + eq + 1, end - eq - 1);
		if (value >= 0)
			scrub = negated ? value == 0 : value == 1;
	}
	return scrub;
}
