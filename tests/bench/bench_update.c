/*
 * bench_update — an online update of libupd (111 functions + 111 variables,
 * tests/guest/gen_updlib.py) in a running pVM, beside its host floor
 * measured in the same run (docs/update.md, "Performance").
 *
 *   pVM:   updt runs "until" (the library called in a loop); it is paused
 *          (SIGALRM -> hv_pause) and hv_update replaces libupd by
 *          the other version (1.16 <-> 1.18), phase by phase: quiesce,
 *          load (map + relocate, invisible), resolve (every GOT entry's new
 *          value), variables (carried, pointers rebased), and the commit
 *          (share: rights + shared text; got: the entries written; unmap:
 *          the old library's pages taken away + the TLB flush).  Both
 *          modes: entries resolved at once (the default) and reset to lazy.
 *          kxd's gate_update (signature, policy, durable audit record) is
 *          not part of it: it is bench_gate's.
 *   Linux: dlopen(RTLD_NOW) of the same library built for the host, dlsym
 *          of all 222 symbols, copying the 111 variables, rewriting a
 *          222-slot GOT-like table; dlclose not timed.
 * usage: bench_update [RUNS]   (default 20)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "manager/hv/backend.h"
#include "tests/hv/hv_fake.h"
#include "tests/bench/bench_time.h"

#define NUMBERED 106 /* upd_fn_NNN / upd_var_NNN; five more of each by name */
#define NSYMS	 222
#define PAUSE_US 3000 /* the guest runs this long between two updates */

static const char *const extra_fns[] = {"upd_version", "upd_calls", "upd_set_ptrs",
					"upd_check_ptrs", "upd_busy"};
static const char *const extra_vars[] = {"upd_table", "upd_generation", "upd_self_ptr",
					 "upd_heap_ptr", "upd_app_ptr"};

static char guest_dir[PATH_MAX + 16];
static struct hv_pvm *paused_vm;
static void *volatile host_got[NSYMS]; /* the host floor's GOT-like table */

/* The stand-in for kxd: libupd.so (1.16) for the image's DT_NEEDED. */
static struct fake_serve serve = {.dir = guest_dir};
static struct fake_mgr stand_in = {.answer = fake_serve_answer, .ctx = &serve};
static const struct hv_manager manager = {.ops = &fake_mgr_ops, .ctx = &stand_in};

static void on_alarm(int sig)
{
	(void)sig;
	if (paused_vm != NULL)
		hv_pause(paused_vm);
}

/* Let the guest run PAUSE_US, then stop it between two instructions. */
static int run_a_while(struct hv_pvm *vm)
{
	struct itimerval it = {.it_value = {.tv_usec = PAUSE_US}};
	struct kx_error err;
	struct hv_end end;

	hv_resume(vm);
	paused_vm = vm;
	setitimer(ITIMER_REAL, &it, NULL);
	if (hv_run(vm, &end, &err) != 0 || end.reason != HV_END_PAUSED) {
		fprintf(stderr, "bench_update: the pVM ended: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* runs updates in one pVM, alternating 1.18 and 1.16; phase medians into
 * med[], totals into total[]. */
static int time_pvm(int runs, unsigned bind, uint64_t med[HV_UPD_PHASES], uint64_t *total)
{
	char path[PATH_MAX + 80], a0[] = "updt", a1[] = "until", a2[] = "999";
	char *argv[] = {a0, a1, a2, NULL};
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC), fds[2] = {-1, -1}, rc = -1;
	struct hv_config cfg = {.mem_size = HV_MEM_DEFAULT,
				.argc = 3,
				.argv = argv,
				.console_fd = devnull,
				.manager = &manager};
	uint64_t *ph[HV_UPD_PHASES] = {0};
	struct hv_pvm *vm = NULL;
	struct kx_error err;
	uint8_t *image = NULL;
	size_t len = 0;
	int fd;

	for (int v = 0; v < 2; v++) {
		snprintf(path, sizeof(path), "%s/upd/libupd-%s.kx.so", guest_dir, v ? "116" : "118");
		fds[v] = fake_sealed_file(path, NULL, NULL);
	}
	snprintf(path, sizeof(path), "%s/updt.kxe", guest_dir);
	fd = fake_sealed_file(path, &image, &len);
	if (fd >= 0)
		close(fd);
	for (int p = 0; p < HV_UPD_PHASES; p++)
		ph[p] = calloc((size_t)runs, sizeof(uint64_t));
	if (fd < 0 || fds[0] < 0 || fds[1] < 0 || devnull < 0 || ph[HV_UPD_PHASES - 1] == NULL ||
	    hv_create(&hv_kvm_backend, &cfg, &vm, &err) != 0 || hv_load(vm, image, len, &err) != 0) {
		fprintf(stderr, "bench_update: cannot start updt.kxe\n");
		goto out;
	}
	for (int i = 0; i < runs; i++) {
		struct hv_update_req req = {.old_name = "libupd", .fd = fds[i % 2], .bind = bind};
		struct hv_update_result res;
		int urc;

		do {
			if (run_a_while(vm) != 0)
				goto out;
			urc = hv_update(vm, &req, &res, &err);
		} while (urc == -EBUSY);
		if (urc != 0) {
			fprintf(stderr, "bench_update: update: %s\n", err.msg);
			goto out;
		}
		total[i] = 0;
		for (int p = 0; p < HV_UPD_PHASES; p++) {
			ph[p][i] = res.phase_ns[p];
			total[i] += res.phase_ns[p];
		}
	}
	for (int p = 0; p < HV_UPD_PHASES; p++)
		med[p] = median(ph[p], runs);
	rc = 0;
out:
	paused_vm = NULL;
	hv_destroy(vm, 0, NULL, "");
	for (int p = 0; p < HV_UPD_PHASES; p++)
		free(ph[p]);
	free(image);
	for (int v = 0; v < 2; v++)
		if (fds[v] >= 0)
			close(fds[v]);
	if (devnull >= 0)
		close(devnull);
	return rc;
}

/* The host floor, per run in ns. */
static int time_host(const char *lib, int runs, uint64_t *t)
{
	static long old_values[NUMBERED + 8][4]; /* the "old library's" variables */
	char names[NSYMS][24];
	size_t sizes[NSYMS] = {0};

	for (int i = 0; i < NUMBERED; i++) {
		snprintf(names[i], sizeof(names[i]), "upd_fn_%03d", i + 1);
		snprintf(names[NUMBERED + 5 + i], sizeof(names[0]), "upd_var_%03d", i + 1);
		sizes[NUMBERED + 5 + i] = sizeof(long);
	}
	for (int i = 0; i < 5; i++) {
		snprintf(names[NUMBERED + i], sizeof(names[0]), "%s", extra_fns[i]);
		snprintf(names[2 * NUMBERED + 5 + i], sizeof(names[0]), "%s", extra_vars[i]);
		sizes[2 * NUMBERED + 5 + i] = i == 0 ? 4 * sizeof(long) : sizeof(long);
	}
	for (int r = 0; r < runs; r++) {
		uint64_t t0 = now_ns();
		void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);

		if (h == NULL) {
			fprintf(stderr, "bench_update: dlopen %s: %s\n", lib, dlerror());
			return -1;
		}
		for (int i = 0; i < NSYMS; i++) {
			void *p = dlsym(h, names[i]);

			if (p == NULL) {
				fprintf(stderr, "bench_update: %s: no %s\n", lib, names[i]);
				dlclose(h);
				return -1;
			}
			if (sizes[i] != 0)
				memcpy(p, old_values[i - NUMBERED - 5], sizes[i]);
			host_got[i] = p;
		}
		t[r] = now_ns() - t0;
		dlclose(h);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const mode_names[2] = {"now", "lazy"};
	int runs = argc > 1 ? atoi(argv[1]) : 20, status = 1;
	uint64_t med[2][HV_UPD_PHASES], *tot[2] = {0}, *host = NULL;
	char self[PATH_MAX], lib[PATH_MAX + 32], *dir;
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: KVM_RUN returns */
	struct kx_error err;

	if (runs < 5 || runs > 200) {
		fprintf(stderr, "usage: bench_update [RUNS 5..200]\n");
		return 2;
	}
	if (hv_probe(&hv_kvm_backend, &err) != 0) {
		printf("bench_update: skipped, no usable /dev/kvm: %s\n", err.msg);
		return 0;
	}
	snprintf(self, sizeof(self), "%s", argv[0]);
	dir = dirname(self); /* the build's bench/ */
	snprintf(guest_dir, sizeof(guest_dir), "%s/../guest", dir);
	snprintf(lib, sizeof(lib), "%s/libupd-host.so", dir);
	sigaction(SIGALRM, &sa, NULL);
	host = calloc((size_t)runs, sizeof(*host));
	tot[0] = calloc((size_t)runs, sizeof(uint64_t));
	tot[1] = calloc((size_t)runs, sizeof(uint64_t));
	if (host == NULL || tot[0] == NULL || tot[1] == NULL || time_host(lib, 3, host) != 0 ||
	    time_pvm(runs, HV_BIND_NOW, med[0], tot[0]) != 0 ||
	    time_pvm(runs, HV_BIND_LAZY, med[1], tot[1]) != 0 || time_host(lib, runs, host) != 0)
		goto out;
	double floor_us = median(host, runs) / 1e3;

	printf("online update of libupd (111 functions + 111 variables), median of %d:\n", runs);
	for (int m = 0; m < 2; m++) {
		double t = median(tot[m], runs) / 1e3;

		printf("  pVM %-4s  %8.1f us  (", mode_names[m], t);
		for (unsigned p = 0; p < HV_UPD_PHASES; p++)
			printf("%s%s %.1f", p ? ", " : "", hv_update_phase_name(p),
			       med[m][p] / 1e3);
		printf(")\n");
	}
	printf("  Linux     %8.1f us  (dlopen RTLD_NOW + 222 dlsym + copy 111 variables + "
	       "rewrite 222 GOT slots)\n",
	       floor_us);
	printf("  ratio     %8.2fx pVM now / Linux, %.2fx pVM lazy / Linux (goal: <= 500 us; "
	       "KylinX ~5 ms)\n",
	       median(tot[0], runs) / 1e3 / floor_us, median(tot[1], runs) / 1e3 / floor_us);
	status = 0;
out:
	free(host);
	free(tot[0]);
	free(tot[1]);
	return status;
}
