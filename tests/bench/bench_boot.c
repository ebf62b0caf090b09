/*
 * bench_boot — boot to the app's main: a pVM beside a Linux process,
 * measured in the same run, median of N, as a ratio.
 *
 *   kxmon: fork + execve of `kxmon exit.kxe 0` + wait: what a user (or kxd)
 *          pays to get a pVM to main and back, process included
 *   pVM:   the same in-process, by phase: create (VM, memory, vCPU), load
 *          exit.kxe, run until main's first hypercall (exit(0)) returns
 *   Linux: fork + execve of a tiny static program that only exits + wait
 *
 * Built twice from this file: normally as the benchmark (BENCHES), and with
 * KX_BENCH_EXIT as that tiny static Linux program (manager/hv/module.mk), so the
 * comparison needs nothing outside the tree.
 * usage: bench_boot [RUNS]   (default 200)
 */
#ifdef KX_BENCH_EXIT

void _start(void);

void _start(void)
{
	__asm__ volatile("mov $60, %eax\n\txor %edi, %edi\n\tsyscall");
}

#else

#define _GNU_SOURCE
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "manager/hv/backend.h"
#include "tests/bench/bench_time.h"

static double median_us(uint64_t *v, int n)
{
	return median(v, n) / 1e3;
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0)
		goto out;
	*buf = malloc((size_t)st.st_size);
	if (*buf != NULL && read(fd, *buf, (size_t)st.st_size) == st.st_size) {
		*len = (size_t)st.st_size;
		rc = 0;
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* One pVM boot; phases in ns: create, load, run. */
static int boot_pvm(const uint8_t *image, size_t len, char *image_path, uint64_t t[3])
{
	char status_arg[] = "0";
	char *argv[] = {image_path, status_arg, NULL};
	struct hv_config cfg = {
		.mem_size = HV_MEM_DEFAULT, .argc = 2, .argv = argv, .console_fd = STDOUT_FILENO};
	struct hv_pvm *p = NULL;
	struct kx_error err;
	struct hv_end end;
	uint64_t t0 = now_ns(), t1, t2;
	int rc;

	rc = hv_create(&hv_kvm_backend, &cfg, &p, &err);
	t1 = now_ns();
	if (rc == 0)
		rc = hv_load(p, image, len, &err);
	t2 = now_ns();
	if (rc == 0)
		rc = hv_run(p, &end, &err);
	t[0] = t1 - t0;
	t[1] = t2 - t1;
	t[2] = now_ns() - t2;
	if (rc == 0 && (end.reason != HV_END_EXIT || end.exit_status != 0)) {
		hv_end_describe(&end, err.msg, sizeof(err.msg));
		rc = -1;
	}
	if (rc != 0)
		fprintf(stderr, "bench_boot: pVM: %s\n", err.msg);
	hv_destroy(p, 0, NULL, "");
	return rc;
}

/* fork + execve(argv) + wait; the child must exit 0. */
static int spawn(char *const argv[], uint64_t *t)
{
	const char *path = argv[0];
	uint64_t t0 = now_ns();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execve(path, argv, NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_boot: %s did not run and exit 0\n", path);
		return -1;
	}
	*t = now_ns() - t0;
	return 0;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 200;
	char self[PATH_MAX], image_path[PATH_MAX + 32], linux_path[PATH_MAX + 32];
	char kxmon_path[PATH_MAX + 32], status_arg[] = "0";
	char *linux_argv[] = {linux_path, NULL};
	char *kxmon_argv[] = {kxmon_path, image_path, status_arg, NULL};
	uint64_t *create, *load, *run, *total, *linux_t, *kxmon_t;
	uint8_t *image = NULL;
	size_t len = 0;
	struct kx_error err;
	int status = 1;

	if (runs < 5 || runs > 100000) {
		fprintf(stderr, "usage: bench_boot [RUNS 5..100000]\n");
		return 2;
	}
	if (hv_probe(&hv_kvm_backend, &err) != 0) {
		printf("bench_boot: skipped, no usable /dev/kvm: %s\n", err.msg);
		return 0;
	}
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(image_path, sizeof(image_path), "%s/../guest/exit.kxe", dirname(self));
	snprintf(linux_path, sizeof(linux_path), "%s/linux_exit", self);
	snprintf(kxmon_path, sizeof(kxmon_path), "%s/../bin/kxmon", self);
	if (read_file(image_path, &image, &len) != 0) {
		fprintf(stderr, "bench_boot: cannot read %s\n", image_path);
		return 1;
	}
	create = calloc((size_t)runs, sizeof(uint64_t));
	load = calloc((size_t)runs, sizeof(uint64_t));
	run = calloc((size_t)runs, sizeof(uint64_t));
	total = calloc((size_t)runs, sizeof(uint64_t));
	linux_t = calloc((size_t)runs, sizeof(uint64_t));
	kxmon_t = calloc((size_t)runs, sizeof(uint64_t));
	if (!create || !load || !run || !total || !linux_t || !kxmon_t)
		goto out;
	/* Interleave the three so machine noise hits all alike; warm up first. */
	for (int i = -5; i < runs; i++) {
		uint64_t t[3], tl, tk;

		if (boot_pvm(image, len, image_path, t) != 0 || spawn(linux_argv, &tl) != 0 ||
		    spawn(kxmon_argv, &tk) != 0)
			goto out;
		if (i < 0)
			continue;
		create[i] = t[0];
		load[i] = t[1];
		run[i] = t[2];
		total[i] = t[0] + t[1] + t[2];
		linux_t[i] = tl;
		kxmon_t[i] = tk;
	}
	double pvm = median_us(total, runs), lin = median_us(linux_t, runs);
	double kx = median_us(kxmon_t, runs);
	printf("boot to main and exit, median of %d runs:\n", runs);
	printf("  kxmon     %9.1f us  (fork + execve kxmon + pVM to main and exit + wait)\n", kx);
	printf("  pVM only  %9.1f us  (create %.1f, load %.1f, run to main's exit %.1f)\n", pvm,
	       median_us(create, runs), median_us(load, runs), median_us(run, runs));
	printf("  Linux     %9.1f us  (fork + execve a static program + exit + wait)\n", lin);
	printf("  ratio     %9.2fx kxmon / Linux, %.2fx pVM only / Linux\n", kx / lin, pvm / lin);
	status = 0;
out:
	free(create);
	free(load);
	free(run);
	free(total);
	free(linux_t);
	free(kxmon_t);
	free(image);
	return status;
}

#endif
