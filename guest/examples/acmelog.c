/*
 * acmelog.c — libacme-log.so, an example pVM library that kvstore links at
 * run time with kx_dlopen (manifests/kvstore.yaml: libacme-log, version
 * ">= 3 && != 3.2.1", loader: app).  It formats one log line through the
 * runtime's snprintf and keeps a private counter.
 */
#include "guest/kxguest.h"

/* What kx_dlsym finds; callers declare it themselves. */
extern const char acme_log_version[];
int acme_log(const char *who, const char *what, long value);

const char acme_log_version[] = "3.3.0";
static unsigned lines;

int acme_log(const char *who, const char *what, long value)
{
	char line[160];

	snprintf(line, sizeof(line), "[acme-log %s #%u] %s: %s = %ld\n", acme_log_version,
		 ++lines, who, what, value);
	return printf("%s", line);
}
