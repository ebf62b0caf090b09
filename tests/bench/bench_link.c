/*
 * bench_link — linking in a pVM beside Linux, measured in the same run.
 *
 *   link:  the monitor links libacme-log.so into a pVM (hv_link: map
 *          the sealed memfd, parse, map, relocate, page rights, read-only
 *          GOT, shared text) — the signature check is kxd's and cached per
 *          digest, so it is not part of this — beside dlopen(RTLD_NOW) +
 *          dlclose() of the same file on the host; median of N.
 *   lazy:  the first call of a function through lazy binding (PLT0 ->
 *          du_resolve -> one hypercall) and the second call (through the
 *          GOT), in TSC cycles, medians over libkvbench's 32 functions and
 *          then over N pVMs, beside the same program on Linux (ld.so's
 *          _dl_runtime_resolve), built from the same source.
 *   memory: proportional set size (/proc/PID/smaps_rollup) of 8 pVMs that
 *          link libkvmath.so from one memfd (forked monitors, the pVM
 *          created and linked, not run) beside 8 processes that dlopen it;
 *          and the PSS of the library file's own mappings in each.
 *
 * Libraries are served by an in-process stand-in for kxd: files from the
 * build's guest/ directory as sealed memfds, every request allowed.
 * usage: bench_link [RUNS]   (default 20)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "manager/hv/backend.h"
#include "tests/hv/hv_fake.h"
#include "tests/bench/bench_time.h"

#define LINKS_PER_PVM 48 /* below the 64 modules a pVM may hold */
#define PSS_PROCS     8

static char guest_dir[PATH_MAX];

/* The stand-in for kxd: allow every library found in guest_dir. */
static struct fake_serve serve = {.dir = guest_dir, .shared_name = "libkvmath.so",
				  .shared_fd = -1};
static struct fake_mgr stand_in = {.answer = fake_serve_answer, .ctx = &serve};
static const struct hv_manager manager = {.ops = &fake_mgr_ops, .ctx = &stand_in};

/* Create a pVM from image (with the stand-in) whose console goes to fd. */
static int make_pvm(const char *image, int console_fd, struct hv_pvm **p)
{
	char path[PATH_MAX + 80];
	char *argv[] = {path, NULL};
	struct hv_config cfg = {.mem_size = HV_MEM_DEFAULT,
				.argc = 1,
				.argv = argv,
				.console_fd = console_fd,
				.manager = &manager};
	struct kx_error err;
	uint8_t *bytes = NULL;
	size_t len = 0;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", guest_dir, image);
	fd = fake_sealed_file(path, &bytes, &len);
	if (fd < 0) {
		fprintf(stderr, "bench_link: cannot read %s\n", path);
		return -1;
	}
	close(fd);
	rc = hv_create(&hv_kvm_backend, &cfg, p, &err);
	if (rc == 0)
		rc = hv_load(*p, bytes, len, &err);
	if (rc != 0 && *p != NULL) {
		hv_destroy(*p, 0, NULL, "");
		*p = NULL;
	}
	if (rc != 0)
		free(bytes); /* else the pVM keeps pointers into it: freed with it (leaked: a bench) */
	if (rc != 0)
		fprintf(stderr, "bench_link: %s: %s\n", image, err.msg);
	return rc;
}

/* Monitor-side link of libacme-log.so, per link in ns, `n` samples. */
static int time_pvm_links(uint64_t *t, int n)
{
	char path[PATH_MAX + 80];
	struct hv_pvm *vm = NULL;
	struct kx_error err;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/libacme-log.so", guest_dir);
	fd = fake_sealed_file(path, NULL, NULL);
	if (fd < 0)
		return -1;
	for (int i = 0; i < n && rc == 0; i++) {
		char name[32];
		uint64_t handle, t0;
		int dup_fd;

		if (i % LINKS_PER_PVM == 0) {
			hv_destroy(vm, 0, NULL, "");
			vm = NULL;
			rc = make_pvm("linkt.kxe", STDOUT_FILENO, &vm);
			if (rc != 0)
				break;
		}
		snprintf(name, sizeof(name), "libacme-log-%d.so", i);
		dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		t0 = now_ns();
		rc = hv_link(vm, name, dup_fd, HV_BIND_LAZY, &handle, &err);
		t[i] = now_ns() - t0;
		if (rc != 0)
			fprintf(stderr, "bench_link: link: %s\n", err.msg);
	}
	hv_destroy(vm, 0, NULL, "");
	close(fd);
	return rc;
}

static int time_host_dlopen(uint64_t *t, int n)
{
	char path[PATH_MAX + 80];

	snprintf(path, sizeof(path), "%s/libacme-log.so", guest_dir);
	for (int i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

		if (h == NULL) {
			fprintf(stderr, "bench_link: dlopen %s: %s\n", path, dlerror());
			return -1;
		}
		dlclose(h);
		t[i] = now_ns() - t0;
	}
	return 0;
}

/* Run lazyb in a pVM; parse "first N second M" from its console. */
static int pvm_lazy(uint64_t *first, uint64_t *second)
{
	struct hv_pvm *vm = NULL;
	struct kx_error err;
	struct hv_end end;
	char out[256] = "";
	unsigned long f, s;
	int pipefd[2], rc;
	ssize_t n;

	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return -1;
	rc = make_pvm("lazyb.kxe", pipefd[1], &vm);
	if (rc == 0)
		rc = hv_run(vm, &end, &err);
	close(pipefd[1]);
	n = read(pipefd[0], out, sizeof(out) - 1);
	close(pipefd[0]);
	hv_destroy(vm, 0, NULL, "");
	if (rc != 0 || n <= 0 || end.reason != HV_END_EXIT ||
	    sscanf(out, "first %lu second %lu", &f, &s) != 2) {
		fprintf(stderr, "bench_link: lazyb.kxe did not report its cycles\n");
		return -1;
	}
	*first = f;
	*second = s;
	return 0;
}

static int linux_lazy(const char *prog, uint64_t *first, uint64_t *second)
{
	FILE *p = popen(prog, "r");
	unsigned long f, s;
	int ok;

	if (p == NULL)
		return -1;
	ok = fscanf(p, "first %lu second %lu", &f, &s) == 2;
	if (pclose(p) != 0 || !ok) {
		fprintf(stderr, "bench_link: %s did not report its cycles\n", prog);
		return -1;
	}
	*first = f;
	*second = s;
	return 0;
}

/* Sum the "Pss:" kB of pid's mappings whose line names `what` (NULL: all,
 * from smaps_rollup). */
static long pss_kb(pid_t pid, const char *what)
{
	char path[64], line[512];
	long total = 0, kb;
	int in = what == NULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what ? "smaps" : "smaps_rollup");
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;

		if (what != NULL && sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = strstr(line, what) != NULL; /* a mapping's header line */
		if (in && sscanf(line, "Pss: %ld kB", &kb) == 1)
			total += kb;
	}
	fclose(f);
	return total;
}

/* Fork PSS_PROCS children that set up (pvm: a linked pVM; else dlopen) and
 * wait; sum their whole PSS and the library's.  0 or -1. */
static int measure_pss(int pvm, long *all, long *lib)
{
	char path[PATH_MAX + 80];
	pid_t pids[PSS_PROCS];
	int ready[2], n = 0, rc = 0;

	snprintf(path, sizeof(path), "%s/libkvmath.so", guest_dir);
	*all = *lib = 0;
	if (pipe(ready) != 0)
		return -1;
	for (; n < PSS_PROCS; n++) {
		pids[n] = fork();
		if (pids[n] < 0)
			break;
		if (pids[n] == 0) {
			struct hv_pvm *vm = NULL;
			int ok = pvm ? make_pvm("linkt.kxe", STDOUT_FILENO, &vm) == 0
				     : dlopen(path, RTLD_NOW | RTLD_LOCAL) != NULL;

			if (write(ready[1], ok ? "y" : "n", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
	}
	for (int i = 0; i < n; i++) {
		char c = 'n';

		if (read(ready[0], &c, 1) != 1 || c != 'y')
			rc = -1;
	}
	for (int i = 0; rc == 0 && i < n; i++) {
		long a = pss_kb(pids[i], NULL),
		     l = pss_kb(pids[i], pvm ? "kx-lib" : "/libkvmath.so");

		if (a < 0 || l < 0)
			rc = -1;
		*all += a;
		*lib += l;
	}
	for (int i = 0; i < n; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	close(ready[0]);
	close(ready[1]);
	return n == PSS_PROCS ? rc : -1;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 20, links, status = 1;
	char self[PATH_MAX], linux_prog[PATH_MAX + 32];
	uint64_t *pl = NULL, *hl = NULL, *pf = NULL, *ps = NULL, *lf = NULL, *ls = NULL;
	struct kx_error err;

	if (runs < 5 || runs > 10000) {
		fprintf(stderr, "usage: bench_link [RUNS 5..10000]\n");
		return 2;
	}
	if (hv_probe(&hv_kvm_backend, &err) != 0) {
		printf("bench_link: skipped, no usable /dev/kvm: %s\n", err.msg);
		return 0;
	}
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(guest_dir, sizeof(guest_dir), "%s/../guest", dirname(self));
	snprintf(linux_prog, sizeof(linux_prog), "%s/lazyb_linux", self);
	links = runs * 10;
	pl = calloc((size_t)links, sizeof(*pl));
	hl = calloc((size_t)links, sizeof(*hl));
	pf = calloc((size_t)runs, sizeof(*pf));
	ps = calloc((size_t)runs, sizeof(*ps));
	lf = calloc((size_t)runs, sizeof(*lf));
	ls = calloc((size_t)runs, sizeof(*ls));
	if (!pl || !hl || !pf || !ps || !lf || !ls)
		goto out;
	if (time_host_dlopen(hl, 5) != 0 || time_pvm_links(pl, 5) != 0) /* warm up */
		goto out;
	if (time_pvm_links(pl, links) != 0 || time_host_dlopen(hl, links) != 0)
		goto out;
	for (int i = 0; i < runs; i++)
		if (pvm_lazy(&pf[i], &ps[i]) != 0 || linux_lazy(linux_prog, &lf[i], &ls[i]) != 0)
			goto out;
	char kvmath[PATH_MAX + 80];
	long pvm_all, pvm_lib, lin_all, lin_lib;

	snprintf(kvmath, sizeof(kvmath), "%s/libkvmath.so", guest_dir);
	serve.shared_fd = fake_sealed_file(kvmath, NULL, NULL);
	if (serve.shared_fd < 0 || measure_pss(1, &pvm_all, &pvm_lib) != 0 ||
	    measure_pss(0, &lin_all, &lin_lib) != 0) {
		fprintf(stderr, "bench_link: PSS measurement failed\n");
		goto out;
	}
	double pv = median(pl, links) / 1e3, ho = median(hl, links) / 1e3;
	uint64_t f = median(pf, runs), s = median(ps, runs), lfm = median(lf, runs);
	uint64_t lsm = median(ls, runs);

	printf("link libacme-log.so, median of %d:\n", links);
	printf("  pVM link  %9.1f us  (monitor: map, relocate, rights, read-only GOT, shared "
	       "text)\n",
	       pv);
	printf("  Linux     %9.1f us  (dlopen RTLD_NOW + dlclose of the same file)\n", ho);
	printf("  ratio     %9.2fx pVM / Linux\n", pv / ho);
	printf("first call through lazy binding, TSC cycles, median of %d runs x 32 functions:\n",
	       runs);
	printf("  pVM       first %8llu  second %4llu  (du_resolve: one hypercall)\n",
	       (unsigned long long)f, (unsigned long long)s);
	printf("  Linux     first %8llu  second %4llu  (ld.so _dl_runtime_resolve)\n",
	       (unsigned long long)lfm, (unsigned long long)lsm);
	printf("  ratio     %9.2fx first call pVM / Linux; first / second: pVM %.0fx, Linux "
	       "%.0fx\n",
	       (double)f / (double)lfm, (double)f / (double)(s ? s : 1),
	       (double)lfm / (double)(lsm ? lsm : 1));
	printf("memory, %d pVMs linking libkvmath.so vs %d processes dlopen'ing it (PSS, kB):\n",
	       PSS_PROCS, PSS_PROCS);
	printf("  pVM       %9ld total  %4ld the library's memfd mappings (text shared)\n", pvm_all,
	       pvm_lib);
	printf("  Linux     %9ld total  %4ld the library file's mappings\n", lin_all, lin_lib);
	printf("  ratio     %9.2fx total pVM / Linux\n", (double)pvm_all / (double)lin_all);
	status = 0;
out:
	if (serve.shared_fd >= 0)
		close(serve.shared_fd);
	free(pl);
	free(hl);
	free(pf);
	free(ps);
	free(lf);
	free(ls);
	return status;
}
