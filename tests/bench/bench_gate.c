/*
 * bench_gate — the host side of every library link, beside dlopen().
 *
 * What kxd does before the monitor maps anything (manager/kxd/libstore.c):
 * read the library file, then gate_link(): the signature check (a full
 * Ed25519 verification the first time, a cache hit afterwards), kxp_decide
 * and the audit record.  Timed here, median of RUNS, each sample being
 * "read the file + gate_link":
 *   (a) miss:     a fresh gate each sample, so the signature is verified;
 *                 the record fdatasync'd (the production setting); and again
 *                 with GATE_OPT_NO_SYNC, which beside (c) isolates what the
 *                 verification costs
 *   (b) hit:      one gate, the signature cached; record fdatasync'd
 *   (c) hit:      the same with GATE_OPT_NO_SYNC, to show what the sync costs
 *   (d) Linux:    dlopen(RTLD_NOW) + dlclose() of the same signed file on
 *                 the host (or, if ld.so refuses it, of the unsigned build of
 *                 the same library; the output says which)
 * Each is printed with its ratio to (d).  Then, per audit sync mode (kxd
 * --audit-sync: always, group, interval=100, and nosync), (b) again and the
 * cost of fork decisions made by 4 threads at once, with the fdatasync()s
 * per decision (group commit shares one between the decisions that wait).  Not timed: what kxd does after an
 * allowed link (a SHA-256 of the bytes to find or make its sealed memfd) and
 * the monitor's map + relocate (bench_link).  The cache counters must show a
 * miss for every (a) sample and a hit for every (b) and (c) sample, else the
 * benchmark fails: that is a correctness check, not a time threshold.
 *
 * Inputs (manager/gate/module.mk builds them for the unit tests): $(B)/gate-data/
 * gate.kxp (the test policy), good.so and libc-team.sec; the library is
 * signed here as libgood 1.5, which the policy lets a pVM of notes link
 * into itself.  The audit logs and the signed file go to a scratch
 * directory beside this binary (so on the build's file system, not a tmpfs
 * unless the build is on one: the file system type is printed).
 * usage: bench_gate [RUNS]   (default 200)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "manager/gate/gate.h"
#include "tests/bench/bench_time.h"

#define LIB_NAME "libgood"
#define LIB_VERSION "1.5"

static const struct gate_subject notes_pvm = {
	.kind = GATE_SUBJECT_PVM, .pvm_id = 1, .app = "notes", .family_id = 1, .depth = 0};

struct bench {
	char data[PATH_MAX];    /* $(B)/gate-data */
	char scratch[PATH_MAX]; /* $(B)/bench/gate-XXXXXX, removed at the end */
	char signed_lib[PATH_MAX + 32];
	char unsigned_lib[PATH_MAX + 32];
	struct kxp_policy *policy;
	size_t lib_len;
};

/* One sample of kxd's path: read the file, then gate_link.  The link must
 * be allowed with a verified signature, from the cache exactly when
 * `cached`.  *ns is the time taken.  0 or -1 (with a message). */
static int timed_link(const struct bench *b, struct gate *gate, bool cached, uint64_t *ns)
{
	struct gate_decision d;
	struct kx_error kerr;
	uint8_t *bytes = NULL;
	size_t len = 0;
	uint64_t t0 = now_ns();
	int rc = -1, link_rc;

	if (kxsig_read_file(b->signed_lib, KXSIG_FILE_MAX, &bytes, &len, &kerr) != 0) {
		fprintf(stderr, "bench_gate: %s: %s\n", b->signed_lib, kerr.msg);
		goto out;
	}
	link_rc = gate_link(gate, &notes_pvm, &notes_pvm, LIB_NAME, bytes, len, &d);
	*ns = now_ns() - t0;
	if (link_rc != 0 || d.verdict != KXP_ALLOW || d.sig != GATE_SIG_OK) {
		fprintf(stderr, "bench_gate: gate_link %s: rc %d, %s: %s\n", b->signed_lib,
			link_rc, d.verdict == KXP_ALLOW ? "allowed" : "denied", d.reason);
		goto out;
	}
	if (d.sig_cached != cached) {
		fprintf(stderr, "bench_gate: gate_link %s: the signature was %s, expected %s\n",
			b->signed_lib, d.sig_cached ? "cached" : "verified",
			cached ? "a cache hit" : "a verification");
		goto out;
	}
	rc = 0;
out:
	free(bytes);
	return rc;
}

static int open_gate_opts(const struct bench *b, const char *log, const struct gate_opts *opts,
			  struct gate **gate)
{
	char path[PATH_MAX + 64];
	struct kx_error err;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", b->scratch, log);
	rc = gate_open(b->policy, path, opts, gate, &err);
	if (rc != 0)
		fprintf(stderr, "bench_gate: gate_open %s: %s\n", path, err.msg);
	return rc;
}

static int open_gate(const struct bench *b, const char *log, unsigned flags,
		     struct gate **gate)
{
	const struct gate_opts opts = {.flags = flags};

	return open_gate_opts(b, log, &opts, gate);
}

/* The cache counters must say exactly this. */
static int check_stats(struct gate *gate, const char *what, uint64_t hits, uint64_t misses)
{
	struct gate_cache_stats s;

	gate_cache_stats(gate, &s);
	if (s.hits == hits && s.misses == misses)
		return 0;
	fprintf(stderr,
		"bench_gate: %s: cache counters say %llu hits, %llu misses; expected %llu, %llu\n",
		what, (unsigned long long)s.hits, (unsigned long long)s.misses,
		(unsigned long long)hits, (unsigned long long)misses);
	return -1;
}

/* (a): a fresh gate (empty cache) per sample. */
static int time_misses(const struct bench *b, const char *log, unsigned flags, uint64_t *t,
		       int n)
{
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		struct gate *gate = NULL;

		rc = open_gate(b, log, flags, &gate);
		if (rc == 0)
			rc = timed_link(b, gate, false, &t[i]);
		if (rc == 0)
			rc = check_stats(gate, "first link", 0, 1);
		gate_close(gate);
	}
	return rc;
}

/* (b), (c): one gate; a first link fills the cache, then n hits. */
static int time_hits(const struct bench *b, const char *log, unsigned flags, uint64_t *t, int n)
{
	struct gate *gate = NULL;
	uint64_t first;
	int rc = open_gate(b, log, flags, &gate);

	if (rc == 0)
		rc = timed_link(b, gate, false, &first);
	for (int i = 0; i < n && rc == 0; i++)
		rc = timed_link(b, gate, true, &t[i]);
	if (rc == 0)
		rc = check_stats(gate, log, (uint64_t)n, 1);
	gate_close(gate);
	return rc;
}

/* (d): 0, or -1 when ld.so refuses the file (dlerror() in *why). */
static int time_dlopen(const char *path, uint64_t *t, int n, const char **why)
{
	for (int i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

		if (h == NULL) {
			*why = dlerror();
			return -1;
		}
		dlclose(h);
		t[i] = now_ns() - t0;
	}
	return 0;
}

/* Sign good.so as libgood 1.5 into the scratch directory. */
static int prepare(struct bench *b)
{
	char path[PATH_MAX + 32];
	struct kxsig_seckey *key = NULL;
	struct kx_error err;
	struct kx_error perr;
	uint8_t *plain = NULL, *signed_bytes = NULL;
	size_t plain_len = 0;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/gate.kxp", b->data);
	if (kxp_open_file(path, NULL, &b->policy, &perr) != 0) {
		fprintf(stderr, "bench_gate: %s: %s\n", path, perr.msg);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/libc-team.sec", b->data);
	if (kxsig_seckey_open(path, &key, &err) != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s", b->unsigned_lib);
	if (kxsig_read_file(path, KXSIG_FILE_MAX, &plain, &plain_len, &err) != 0)
		goto fail;
	const struct kxsig_sign_opts opts = {.name = LIB_NAME, .version = LIB_VERSION,
					     .timestamp = 1700000000};
	if (kxsig_sign_elf(key, plain, plain_len, &opts, &signed_bytes, &b->lib_len, &err) !=
	    0)
		goto fail;
	snprintf(path, sizeof(path), "%s", b->signed_lib);
	if (kxsig_write_file_atomic(path, signed_bytes, b->lib_len, 0644, 0, &err) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "bench_gate: %s: %s\n", path, err.msg);
out:
	kxsig_seckey_free(key);
	free(plain);
	free(signed_bytes);
	return rc;
}

static void remove_scratch(const struct bench *b)
{
	static const char *const files[] = {"miss-sync.log", "miss-nosync.log", "hit-sync.log",
					    "hit-nosync.log", LIB_NAME ".so"};
	char path[PATH_MAX + 32];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", b->scratch, files[i]);
		unlink(path);
	}
	rmdir(b->scratch);
}

static const char *fs_type(const char *dir)
{
	struct statfs st;

	if (statfs(dir, &st) != 0)
		return "unknown file system";
	switch (st.f_type) {
	case TMPFS_MAGIC:
		return "tmpfs: fdatasync costs nothing here";
	case EXT4_SUPER_MAGIC:
		return "ext2/3/4";
	case XFS_SUPER_MAGIC:
		return "xfs";
	case BTRFS_SUPER_MAGIC:
		return "btrfs";
	case OVERLAYFS_SUPER_MAGIC:
		return "overlayfs";
	default:
		return "other file system";
	}
}

static void print_line(const char *label, uint64_t ns, uint64_t linux_ns, const char *what)
{
	printf("  %-11s %9.1f us  %6.2fx  %s\n", label, (double)ns / 1e3,
	       (double)ns / (double)linux_ns, what);
}

/* ---- the audit log's sync modes (kxd --audit-sync) ---------------------------------- */

#define MODE_THREADS 4

static const struct gate_subject fork_pvm = {
	.kind = GATE_SUBJECT_PVM, .pvm_id = 1, .app = "notes", .family_id = 1, .depth = 0};

struct forker {
	struct gate *gate;
	int n, bad;
};

static void *forks(void *arg)
{
	struct forker *f = arg;
	const struct gate_family_counts counts = {0, 1};
	struct gate_decision d;

	for (int i = 0; i < f->n; i++)
		if (gate_fork(f->gate, &fork_pvm, &counts, &d) != 0 || d.verdict != KXP_ALLOW)
			f->bad++;
	return NULL;
}

/* Per mode: a link (signature cached) from one thread, median of n, and fork
 * decisions from MODE_THREADS threads at once: time per decision and
 * fdatasync()s per decision (group commit shares them). */
static int time_mode(const struct bench *b, const char *name, const struct gate_opts *opts,
		     uint64_t *t, int n, uint64_t linux_ns)
{
	char log[64], what[160];
	struct gate *gate = NULL;
	struct forker f[MODE_THREADS];
	pthread_t th[MODE_THREADS];
	struct gate_audit_stats before, after;
	uint64_t first, t0, wall;
	int rc, each = n / MODE_THREADS > 0 ? n / MODE_THREADS : 1;

	snprintf(log, sizeof(log), "mode-%.20s.log", name);
	rc = open_gate_opts(b, log, opts, &gate);
	if (rc == 0)
		rc = timed_link(b, gate, false, &first);
	for (int i = 0; i < n && rc == 0; i++)
		rc = timed_link(b, gate, true, &t[i]);
	if (rc != 0)
		goto out;
	gate_audit_stats(gate, &before);
	t0 = now_ns();
	for (int i = 0; i < MODE_THREADS; i++) {
		f[i] = (struct forker){.gate = gate, .n = each};
		if (pthread_create(&th[i], NULL, forks, &f[i]) != 0) {
			rc = -1;
			goto out;
		}
	}
	for (int i = 0; i < MODE_THREADS; i++) {
		pthread_join(th[i], NULL);
		if (f[i].bad)
			rc = -1;
	}
	wall = now_ns() - t0;
	gate_audit_stats(gate, &after);
	if (rc != 0) {
		fprintf(stderr, "bench_gate: %s: a fork decision failed\n", name);
		goto out;
	}
	snprintf(what, sizeof(what), "link; %d threads' forks: %.1f us/decision, %.2f flushes/decision",
		 MODE_THREADS, (double)wall / 1e3 / (MODE_THREADS * each),
		 (double)(after.flushes - before.flushes) / (MODE_THREADS * each));
	print_line(name, median(t, n), linux_ns, what);
out:
	gate_close(gate);
	return rc;
}

static int time_modes(const struct bench *b, uint64_t *t, int n, uint64_t linux_ns)
{
	static const struct {
		const char *name;
		struct gate_opts opts;
	} modes[] = {
		{"always", {.sync = GATE_SYNC_ALWAYS}},
		{"group", {.sync = GATE_SYNC_GROUP}},
		{"group -pre", {.sync = GATE_SYNC_GROUP, .flags = GATE_OPT_NO_PREALLOC}},
		{"interval", {.sync = GATE_SYNC_INTERVAL, .sync_interval_ms = 100}},
		{"nosync", {.flags = GATE_OPT_NO_SYNC}},
	};

	printf("audit sync modes (kxd --audit-sync; interval=100; -pre: the log not allocated "
	       "ahead; nosync: benchmarks only):\n");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (time_mode(b, modes[i].name, &modes[i].opts, t, n, linux_ns) != 0)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 200, status = 1;
	struct bench b = {.policy = NULL};
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	uint64_t *miss = NULL, *miss_nosync = NULL, *hit = NULL, *hit_nosync = NULL, *host = NULL;
	const char *host_file = "the same signed file", *host_path = b.signed_lib, *why = NULL;
	bool scratch_made = false;

	if (runs < 5 || runs > 100000) {
		fprintf(stderr, "usage: bench_gate [RUNS 5..100000]\n");
		return 2;
	}
	if (n <= 0 || kxsig_init() != 0) {
		fprintf(stderr, "bench_gate: cannot find myself or initialise libsodium\n");
		return 1;
	}
	exe[n] = '\0';
	snprintf(b.scratch, sizeof(b.scratch), "%s/gate-XXXXXX", dirname(exe)); /* $(B)/bench */
	snprintf(b.data, sizeof(b.data), "%s/gate-data", dirname(exe));         /* $(B) */
	snprintf(b.signed_lib, sizeof(b.signed_lib), "%s/%s.so", b.scratch, LIB_NAME);
	snprintf(b.unsigned_lib, sizeof(b.unsigned_lib), "%s/good.so", b.data);
	miss = calloc((size_t)runs, sizeof(*miss));
	miss_nosync = calloc((size_t)runs, sizeof(*miss_nosync));
	hit = calloc((size_t)runs, sizeof(*hit));
	hit_nosync = calloc((size_t)runs, sizeof(*hit_nosync));
	host = calloc((size_t)runs, sizeof(*host));
	if (!miss || !miss_nosync || !hit || !hit_nosync || !host)
		goto out;
	if (mkdtemp(b.scratch) == NULL) {
		perror("bench_gate: mkdtemp");
		goto out;
	}
	scratch_made = true;
	/* the path was made before mkdtemp filled in the XXXXXX */
	snprintf(b.signed_lib, sizeof(b.signed_lib), "%s/%s.so", b.scratch, LIB_NAME);
	if (prepare(&b) != 0)
		goto out;
	/* warm up: page cache, ld.so's caches, libsodium's code */
	if (time_misses(&b, "miss-sync.log", 0, miss, 5) != 0)
		goto out;
	if (time_dlopen(b.signed_lib, host, 5, &why) != 0) {
		fprintf(stderr, "bench_gate: ld.so refuses the signed file (%s); timing dlopen of"
				" the unsigned build\n", why);
		host_file = "the unsigned build of the same library";
		host_path = b.unsigned_lib;
		if (time_dlopen(host_path, host, 5, &why) != 0) {
			fprintf(stderr, "bench_gate: dlopen %s: %s\n", b.unsigned_lib, why);
			goto out;
		}
	}
	if (time_misses(&b, "miss-sync.log", 0, miss, runs) != 0 ||
	    time_misses(&b, "miss-nosync.log", GATE_OPT_NO_SYNC, miss_nosync, runs) != 0 ||
	    time_hits(&b, "hit-sync.log", 0, hit, runs) != 0 ||
	    time_hits(&b, "hit-nosync.log", GATE_OPT_NO_SYNC, hit_nosync, runs) != 0 ||
	    time_dlopen(host_path, host, runs, &why) != 0)
		goto out;

	uint64_t linux_ns = median(host, runs);

	printf("host side of a link: read %s (%zu bytes) + gate_link, median of %d;\n"
	       "audit log on %s:\n", LIB_NAME ".so", b.lib_len, runs, fs_type(b.scratch));
	printf("  %-11s %12s  %7s\n", "", "time", "/ Linux");
	print_line("miss", median(miss, runs), linux_ns,
		   "first link: Ed25519 verification, record fdatasync'd");
	print_line("miss nosync", median(miss_nosync, runs), linux_ns,
		   "first link: Ed25519 verification, GATE_OPT_NO_SYNC");
	print_line("hit", median(hit, runs), linux_ns,
		   "signature cached, record fdatasync'd (production)");
	print_line("hit nosync", median(hit_nosync, runs), linux_ns,
		   "signature cached, GATE_OPT_NO_SYNC");
	print_line("Linux", linux_ns, linux_ns, "dlopen RTLD_NOW + dlclose");
	printf("  Linux loads %s; cache counters: %d + %d misses, %d + %d hits as expected\n",
	       host_file, runs, runs, runs, runs);
	if (time_modes(&b, hit, runs, linux_ns) != 0)
		goto out;
	status = 0;
out:
	kxp_close(b.policy);
	if (scratch_made)
		remove_scratch(&b);
	free(miss);
	free(miss_nosync);
	free(hit);
	free(hit_nosync);
	free(host);
	return status;
}
