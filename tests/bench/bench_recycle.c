/*
 * bench_recycle — a recycled start beside a cold boot of the same app,
 * with kxd in the loop (what `kxctl run` users see), median of N.
 *
 *   recycled: `kxctl run --recycle libkvcount.so ...` as one request on
 *             kxd's control socket: gate_recycle, the app library handed to
 *             a pooled pVM (placeholder already waiting), linked with its
 *             DT_NEEDED libkvmath (through the gate), app_entry run
 *   cold:     `kxctl run kvcount.kxe ...`: gate_boot, a new kxmon, a new
 *             KVM VM, the image linked with libkvmath, main -> app_entry
 *
 * Two points per start: the request until the app's first console byte
 * arrives (the app is running: kvcount prints from app_entry), and until
 * kxd reports its exit.  Between two recycled starts the bench waits
 * (untimed) until the pool has a ready pVM again.  Setup: a scratch policy
 * (kxpool + kvcount) compiled and the guest images signed with the test
 * keys of tests/data/keys, a kxd on a scratch socket; everything is run
 * from the repository root (make bench does) with the build's own tools.
 * usage: bench_recycle [RUNS]   (default 30)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager/kxd/kxd.h"
#include "tests/bench/bench_fork_kxd.h"
#include "tests/bench/bench_time.h"

static char build[PATH_MAX], scratch[64], sock[PATH_MAX]; /* scratch: under /tmp */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_recycle: failed: %s\n", cmd);
		return -1;
	}
	return 0;
}

static int setup(void)
{
	char self[PATH_MAX], root[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0 || !getcwd(root, sizeof(root)))
		return -1;
	self[n] = '\0';
	snprintf(build, sizeof(build), "%s", dirname(dirname(self)));
	snprintf(scratch, sizeof(scratch), "%s/kx-bench-recycle.XXXXXX", P_tmpdir);
	if (!mkdtemp(scratch))
		return -1;
	snprintf(sock, sizeof(sock), "%s/kxd.sock", scratch);
	return sh("mkdir -p %1$s/lib && K=%2$s/manifests/keys && "
		  "printf 'kx-manifest: 1\\napp: kxpool\\nimage: kxpool.kxe\\nmemory: 8M\\n"
		  "keys:\\n  acme: %%s/acme.pub\\n' $K > %1$s/kxpool.yaml && "
		  "printf 'kx-manifest: 1\\napp: kvcount\\nimage: kvcount.kxe\\nmemory: 16M\\n"
		  "keys:\\n  acme: %%s/acme.pub\\n  libc-team: %%s/libc-team.pub\\nlibraries:\\n"
		  "  - name: libkvmath\\n    signed-by: [libc-team]\\n    loader: self\\n"
		  "recycle: { allow: true, pool: 1 }\\n' $K $K > %1$s/kvcount.yaml && "
		  "%3$s/bin/kxpolicy compile -o %1$s/kx.kxp %1$s/kxpool.yaml %1$s/kvcount.yaml "
		  ">/dev/null && S=%2$s/tests/data/keys && "
		  "%3$s/bin/kxsign sign -s $S/acme.sec --name kxpool --version 1.0 "
		  "-o %1$s/kxpool.kxe %3$s/guest/kxpool.kxe >/dev/null && "
		  "%3$s/bin/kxsign sign -s $S/acme.sec --name kvcount --version 1.0 "
		  "-o %1$s/kvcount.kxe %3$s/guest/kvcount.kxe >/dev/null && "
		  "%3$s/bin/kxsign sign -s $S/acme.sec --name kvcount --version 1.0 "
		  "-o %1$s/libkvcount.so %3$s/guest/libkvcount.so >/dev/null && "
		  "%3$s/bin/kxsign sign -s $S/libc-team.sec --name libkvmath --version 1.16.2 "
		  "-o %1$s/lib/libkvmath.so %3$s/guest/libkvmath.so >/dev/null && "
		  "%3$s/bin/kxd --policy %1$s/kx.kxp --socket %4$s --audit-log %1$s/audit.log "
		  "--libdir %1$s/lib --pool-image %1$s/kxpool.kxe --audit-sync '%5$s'",
		  scratch, root, build, sock, kxd_bench_audit_sync());
}

/* One answer of kxd, checked. */
static int answer(int fd, struct kxd_resp *r)
{
	char why[128];
	size_t len;
	int nfds = 0, fds[KXD_MAX_FDS];

	if (kxd_recv(fd, r, sizeof(*r), &len, fds, &nfds) != 0 || len == 0 ||
	    kxd_check_resp(r, len, nfds, why, sizeof(why)) != 0)
		return -1;
	return 0;
}

/* Is a pooled pVM of kvcount ready? */
static int pool_ready(void)
{
	struct kxd_req req = { .type = KXD_REQ_LIST, .size = sizeof(req) };
	struct kxd_resp r;
	int fd = kxd_connect(sock), ready = 0;

	if (fd < 0 || kxd_send(fd, &req, sizeof(req), NULL, 0) != 0)
		goto out;
	while (answer(fd, &r) == 0 && r.type == KXD_RESP_PVM)
		ready |= r.state == KXD_PVM_POOLED && strcmp(r.app, "kvcount") == 0;
out:
	if (fd >= 0)
		close(fd);
	return ready;
}

/* One `kxctl run [--recycle] FILE a b a c`: the ns until the first console
 * byte and until the EXITED answer.  0 when the app ran and exited 3. */
static int start(const char *file, unsigned flags, uint64_t *running, uint64_t *exited)
{
	static const char args[] = "kvcount\0a\0b\0a\0c";
	struct kxd_req req = { .type = KXD_REQ_RUN, .size = sizeof(req), .flags = flags,
			       .argc = 5, .args_len = sizeof(args) };
	struct kxd_resp r;
	int pipefd[2] = { -1, -1 }, fds[3] = { -1, -1, -1 }, fd = -1, rc = -1;
	char path[PATH_MAX], byte;
	uint64_t t0;

	memcpy(req.args, args, sizeof(args));
	snprintf(path, sizeof(path), "%s/%s", scratch, file);
	fds[0] = open(path, O_RDONLY | O_CLOEXEC);
	fds[2] = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fds[0] < 0 || fds[2] < 0 || pipe2(pipefd, O_CLOEXEC) != 0)
		goto out;
	fds[1] = pipefd[1];
	fd = kxd_connect(sock);
	if (fd < 0)
		goto out;
	t0 = now_ns();
	if (kxd_send(fd, &req, sizeof(req), fds, 3) != 0)
		goto out;
	close(pipefd[1]);
	pipefd[1] = fds[1] = -1;
	if (read(pipefd[0], &byte, 1) != 1)
		goto out;
	*running = now_ns() - t0;
	while (answer(fd, &r) == 0 && r.type != KXD_RESP_EXITED && r.type != KXD_RESP_ERROR)
		;
	*exited = now_ns() - t0;
	rc = r.type == KXD_RESP_EXITED && r.status == 3 ? 0 : -1;
out:
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (fd >= 0)
		close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 30, rc = 1;
	uint64_t *cold_run, *cold_exit, *rec_run, *rec_exit;
	double c_run, c_exit, r_run, r_exit;

	if (runs < 3)
		runs = 3;
	cold_run = calloc((size_t)runs, sizeof(uint64_t));
	cold_exit = calloc((size_t)runs, sizeof(uint64_t));
	rec_run = calloc((size_t)runs, sizeof(uint64_t));
	rec_exit = calloc((size_t)runs, sizeof(uint64_t));
	if (!cold_run || !cold_exit || !rec_run || !rec_exit || setup() != 0)
		goto out;
	for (int i = 0; i < runs; i++) {
		for (int w = 0; w < 10000 && !pool_ready(); w++)
			usleep(1000);
		if (start("libkvcount.so", KXD_RUN_RECYCLE, &rec_run[i], &rec_exit[i]) != 0 ||
		    start("kvcount.kxe", 0, &cold_run[i], &cold_exit[i]) != 0) {
			fprintf(stderr, "bench_recycle: a start failed (see %s.log)\n", sock);
			goto out;
		}
	}
	c_run = median(cold_run, runs) / 1e3;
	c_exit = median(cold_exit, runs) / 1e3;
	r_run = median(rec_run, runs) / 1e3;
	r_exit = median(rec_exit, runs) / 1e3;
	printf("recycle vs cold boot, kxd in the loop (kvcount + libkvmath, median of %d; "
	       "audit sync %s):\n", runs, kxd_bench_audit_sync());
	printf("  request -> app_entry running: recycled %8.1f us   cold boot %8.1f us   %5.1f%%\n",
	       r_run, c_run, 100.0 * r_run / c_run);
	printf("  request -> exit reported:     recycled %8.1f us   cold boot %8.1f us   %5.1f%%\n",
	       r_exit, c_exit, 100.0 * r_exit / c_exit);
	printf("  (goal: a recycled start <= 10%% of a cold boot)\n");
	rc = 0;
out:
	if (sock[0])
		sh("%s/bin/kxctl stop --socket %s >/dev/null 2>&1; rm -rf %s", build, sock, scratch);
	free(cold_run);
	free(cold_exit);
	free(rec_run);
	free(rec_exit);
	return rc;
}
