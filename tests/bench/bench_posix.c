/*
 * bench_posix — system calls of an SDK program in a pVM beside the same
 * program as a Linux process (make bench): tests/bench/posix_loop.c, built
 * natively ($B/bench/posix_loop) and with kx-cc ($B/bench/posix_loop.kxe,
 * run by kxmon).  Both time themselves from the inside; the table shows
 * ns per call and the pVM/Linux ratio.  The goal for calls that stay in the
 * guest (getpid, the clocks) is at most 2x.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPS 16

struct row {
	char name[64];
	double ns;
};

static int run(const char *cmd, struct row *rows)
{
	FILE *p = popen(cmd, "r");
	char line[256];
	int n = 0;

	if (p == NULL)
		return -1;
	while (n < MAX_OPS && fgets(line, sizeof(line), p))
		if (sscanf(line, "%63s %lf", rows[n].name, &rows[n].ns) == 2)
			n++;
	return pclose(p) == 0 ? n : -1;
}

int main(int argc, char **argv)
{
	struct row lin[MAX_OPS], pvm[MAX_OPS];
	char cmd[8192], dir[2048];
	int nl, np;

	(void)argc;
	/* $B/bench/bench_posix -> $B */
	snprintf(dir, sizeof(dir), "%s", argv[0]);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "'%s/posix_loop' /tmp", dir);
	nl = run(cmd, lin);
	snprintf(cmd, sizeof(cmd), "'%s/../bin/kxmon' '%s/posix_loop.kxe' /tmp", dir, dir);
	np = run(cmd, pvm);
	if (nl <= 0 || np != nl) {
		fprintf(stderr, "bench_posix: a run failed (Linux %d, pVM %d lines)\n", nl, np);
		return 1;
	}
	printf("%-18s %12s %12s %8s\n", "system call", "Linux ns", "pVM ns", "pVM/Linux");
	for (int i = 0; i < nl; i++)
		printf("%-18s %12.1f %12.1f %8.2f\n", lin[i].name, lin[i].ns, pvm[i].ns,
		       pvm[i].ns / (lin[i].ns > 0 ? lin[i].ns : 1));
	return 0;
}
