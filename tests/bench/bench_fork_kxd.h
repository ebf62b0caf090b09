/*
 * bench_fork_kxd.h — what bench_fork and bench_signal share: a private
 * kxd running tests/guest/sigt.c as app `kxbench` (a policy compiled from
 * a manifest written here, the image signed with the example acme key),
 * `kxctl run` with its output read line by line, and pinning a pVM's
 * kxmon to one CPU.  Run from the repository root (make bench does).
 */
#ifndef KX_BENCH_FORK_KXD_H
#define KX_BENCH_FORK_KXD_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

struct kxd_bench {
	char bin[PATH_MAX];  /* the build's bin/ */
	char dir[64];	     /* scratch: policy, image, socket, audit log */
	char image[PATH_MAX + 32];
	char sock[PATH_MAX + 32];
	int running;
};

/* Start it; self is argv[0] (bin/ and guest/ are beside bench/).  0; or,
 * after printing "NAME: skipped ..." or "NAME: failed" and cleaning up, 1
 * when /dev/kvm is not usable (kxmon --check) and -1 on failure. */
int kxd_bench_start(struct kxd_bench *b, const char *self, const char *name);
void kxd_bench_stop(struct kxd_bench *b);

/* `kxctl run IMAGE args` (args: words without quotes); its stdout. */
FILE *kxd_bench_run(struct kxd_bench *b, const char *args);
/* `kxctl VERB --socket S REST`: 0, or -1 after saying so. */
int kxd_bench_ctl(struct kxd_bench *b, const char *verb, const char *rest);
/* The kxmon pid of pVM id, or -1; its parent's id in *parent (0: none). */
pid_t kxd_bench_pid(struct kxd_bench *b, uint64_t id, uint64_t *parent);

/* Pin pid (0: this process) to cpu.  0 or -1. */
int bench_pin(pid_t pid, int cpu);

/* The audit sync mode of the benchmark's kxd: $KX_BENCH_AUDIT_SYNC
 * (tests/bench.sh runs the kxd benchmarks once per mode), else "group",
 * kxd's default. */
static inline const char *kxd_bench_audit_sync(void)
{
	const char *m = getenv("KX_BENCH_AUDIT_SYNC");

	return m != NULL && m[0] != '\0' && strchr(m, '\'') == NULL ? m : "group";
}

#endif /* KX_BENCH_FORK_KXD_H */
