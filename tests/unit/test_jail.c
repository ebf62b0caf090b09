/*
 * The jail's parts that need no root (manager/jail): the id ranges kxd and
 * kxmon accept, the cgroup names that may reach a path, the size of each
 * thread's allowlist (below Firecracker's 27), and, in forked children,
 * the loaded filter itself: an allowed call goes through, an allowed ioctl
 * code goes through, and a call or an ioctl code outside the list kills
 * the process with SIGSYS; and the Landlock wall around host directories,
 * under the filter as kxmon has it: hostfs's calls work beneath a granted
 * directory, ".." and absolute paths reach nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/openat2.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "manager/jail/jail.h"
#if JAIL_SANITIZED
#include <sanitizer/lsan_interface.h>
#endif

static void test_ids(void **state)
{
	uint32_t lo, hi;

	(void)state;
	assert_int_equal(jail_ids_parse("100000-165535", &lo, &hi), 0);
	assert_int_equal(lo, 100000);
	assert_int_equal(hi, 165535);
	assert_int_equal(jail_ids_parse("7-7", &lo, &hi), 0);
	/* root is never a jail id; empty, reversed, signed, overflowing,
	 * trailing bytes and the reserved -1 are refused */
	const char *bad[] = {"0-10", "", "-", "10", "10-", "-10", "10-5", "+1-2", "1-+2",
			     "1-4294967295", "1-99999999999999999999", "1-2x", "1 -2", NULL};
	for (int i = 0; bad[i]; i++)
		assert_int_equal(jail_ids_parse(bad[i], &lo, &hi), -EINVAL);
	assert_int_equal(jail_ids_parse(NULL, &lo, &hi), -EINVAL);
}

static void test_cgroup_names(void **state)
{
	char path[256];
	char long_name[JAIL_CGROUP_NAME_MAX + 1];

	(void)state;
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	const char *bad[] = {"", ".", "..", "../x", "a/b", "a b", "x\n", long_name, NULL};
	for (int i = 0; bad[i]; i++) {
		assert_int_equal(jail_cgroup_file(bad[i], "pids", "pids.max", path, sizeof(path)),
				 -EINVAL);
		assert_int_equal(jail_cgroup_make(bad[i], &(struct jail_limits){0}, NULL), -EINVAL);
		assert_int_equal(jail_cgroup_join(bad[i], 0, NULL), -EINVAL);
		assert_int_equal(jail_cgroup_remove(bad[i]), -EINVAL);
	}
	assert_int_equal(jail_cgroup_file("kxd-1-2", "pids", "pids.max", path, sizeof(path)), 0);
	assert_non_null(strstr(path, "/kx/kxd-1-2/pids.max"));
}

static bool listed(const int *nrs, size_t n, int nr)
{
	for (size_t i = 0; i < n; i++)
		if (nrs[i] == nr)
			return true;
	return false;
}

static void test_allowlist_size(void **state)
{
	int nrs[128], vcpu[128], net[128];
	size_t n = jail_allowlist(JAIL_THREAD_ENTRY, nrs, 128);
	size_t nv = jail_allowlist(JAIL_THREAD_VCPU, vcpu, 128);
	size_t nn = jail_allowlist(JAIL_THREAD_NET, net, 128);

	(void)state;
	/* docs/jail.md lists each with these counts; raise one only with a
	 * row there (an ASan build has a few more: docs/jail.md) */
	assert_true(nv > 0 && nv <= 51 + 3 * JAIL_SANITIZED);
	assert_true(nn > 0 && nn <= 9 + 5 * JAIL_SANITIZED);
	assert_true(n <= 60 + 3 * JAIL_SANITIZED);
	assert_int_equal(jail_allowlist(JAIL_THREAD_COUNT, nrs, 128), 0);
	/* the entry filter holds every thread's list: what a thread starts
	 * inherits it, and then narrows itself */
	for (size_t i = 0; i < nv; i++)
		assert_true(listed(nrs, n, vcpu[i]));
	for (size_t i = 0; i < nn; i++)
		assert_true(listed(nrs, n, net[i]));
	/* the network thread: no ioctl, no memory mapping, no file opening,
	 * no process or thread, no channel */
	const int not_net[] = {SYS_ioctl, SYS_mprotect, SYS_openat2, SYS_clone, SYS_recvmsg,
			       SYS_sendto,  SYS_seccomp,  SYS_getpid,
#if !JAIL_SANITIZED
			       SYS_mmap, /* ASan's allocator maps on the thread (docs/jail.md) */
#endif
	};
	for (size_t i = 0; i < sizeof(not_net) / sizeof(not_net[0]); i++)
		assert_false(listed(net, nn, not_net[i]));
	/* the vCPU thread, narrowed: it starts no thread (no eventfd,
	 * mprotect, sigaction) and loads no further filter */
	const int not_vcpu[] = {SYS_sched_yield, SYS_exit, SYS_mprotect, SYS_eventfd2,
				SYS_rt_sigaction, SYS_seccomp, SYS_set_robust_list, SYS_rseq};
	for (size_t i = 0; i < sizeof(not_vcpu) / sizeof(not_vcpu[0]); i++)
		assert_false(listed(vcpu, nv, not_vcpu[i]));
	for (size_t i = 0; i < n; i++) {
		/* never these, whatever is added later */
		assert_int_not_equal(nrs[i], SYS_execve);
		assert_int_not_equal(nrs[i], SYS_openat);
		assert_int_not_equal(nrs[i], SYS_open);
		assert_int_not_equal(nrs[i], SYS_ptrace);
		assert_int_not_equal(nrs[i], SYS_socket);
		assert_int_not_equal(nrs[i], SYS_kill);
		assert_int_not_equal(nrs[i], SYS_setuid);
		assert_int_not_equal(nrs[i], SYS_mount);
	}
}

/* Fork a child that loads the vCPU filter (ioctl code 0x1234 allowed) and
 * runs what; its wait status. */
enum probe { P_ALLOWED, P_OPENAT, P_IOCTL_BAD, P_IOCTL_OK, P_MMAP_EXEC, P_THREAD_CLONE };

static int run_probe(enum probe what)
{
	static const unsigned long codes[] = {0x1234};
	int status;
	pid_t pid = fork();

	if (pid == 0) {
#if JAIL_SANITIZED
		__lsan_do_leak_check(); /* now: at exit it would need calls the filter kills */
#endif
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    jail_seccomp_load(JAIL_THREAD_VCPU, codes, 1, NULL) != 0)
			_exit(100);
		switch (what) {
		case P_ALLOWED:
			(void)getpid();
			if (write(-1, "", 0) != -1)
				_exit(102);
			_exit(7);
		case P_OPENAT:
			syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
			_exit(8);
		case P_IOCTL_BAD:
			ioctl(-1, 0x4321, 0);
			_exit(9);
		case P_IOCTL_OK:
			ioctl(-1, 0x1234, 0); /* EBADF, but let through */
			_exit(10);
		case P_MMAP_EXEC:
			mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			_exit(11);
		case P_THREAD_CLONE:
			syscall(SYS_clone, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND, NULL, NULL, NULL,
				0);
			_exit(12);
		}
		_exit(101);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_killed(int status)
{
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void test_filter(void **state)
{
	int st;

	(void)state;
	st = run_probe(P_ALLOWED);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 7);
	st = run_probe(P_IOCTL_OK);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 10);
	assert_killed(run_probe(P_OPENAT));
	assert_killed(run_probe(P_IOCTL_BAD));
	assert_killed(run_probe(P_MMAP_EXEC));
	assert_killed(run_probe(P_THREAD_CLONE));
}

/* The Xen monitor's profile: its own ioctl codes (privcmd, evtchn), none of
 * KVM's; the KVM monitor's calls and wait4; in a forked child, a privcmd
 * hypercall code goes through and KVM_RUN's kills. */
#define N_NOT_XEN 7
static void test_xen_profile(void **state)
{
	const unsigned long *codes;
	enum jail_thread thread;
	int kvm[128], xen[128];
	size_t n, nk, nx;
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(jail_backend_profile("kvm", &thread, &codes, &n), -ENOENT);
	assert_int_equal(jail_backend_profile("skeleton", &thread, &codes, &n), -ENOENT);
	assert_int_equal(jail_backend_profile(NULL, &thread, &codes, &n), -ENOENT);
	assert_int_equal(jail_backend_profile("xen", &thread, &codes, &n), 0);
	assert_int_equal(thread, JAIL_THREAD_XEN);
	assert_true(n >= 1 && n <= 4);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(codes[i], 0xae80ul); /* KVM_RUN */
	/* the KVM monitor's calls (its entry filter, every thread's) but those
	 * of a fork (none on Xen), of HALT_WATCH and of narrowing a thread
	 * (Xen keeps its one filter), and wait4 for the domain's reaper */
	nk = jail_allowlist(JAIL_THREAD_ENTRY, kvm, 128);
	nx = jail_allowlist(JAIL_THREAD_XEN, xen, 128);
	const int not_xen[] = {SYS_fallocate, SYS_getsockopt, SYS_getitimer, SYS_prctl,
			       SYS_getppid, SYS_futex_waitv, SYS_seccomp};
	assert_int_equal(nx, nk - N_NOT_XEN + 1);
	for (size_t i = 0; i < N_NOT_XEN; i++) {
		assert_true(listed(kvm, nk, not_xen[i]));
		assert_false(listed(xen, nx, not_xen[i]));
	}
	assert_true(listed(xen, nx, SYS_wait4));
	assert_false(listed(kvm, nk, SYS_wait4));
	for (size_t i = 0; i < nx; i++)
		assert_true(xen[i] == SYS_wait4 || listed(kvm, nk, xen[i]));
	for (int probe = 0; probe < 3; probe++) {
		pid = fork();
		if (pid == 0) {
#if JAIL_SANITIZED
			__lsan_do_leak_check();
#endif
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
			    jail_seccomp_load(thread, codes, n, NULL) != 0)
				_exit(100);
			ioctl(-1, codes[0], 0); /* EBADF, but let through */
			if (probe == 1)
				ioctl(-1, 0xae80ul, 0); /* KVM_RUN: not Xen's */
			if (probe == 2)
				syscall(SYS_getppid); /* a forked monitor's: not Xen's */
			_exit(7);
		}
		assert_true(pid > 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (probe == 0) {
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 7);
		} else {
			assert_killed(status);
		}
	}
}

static int open2(int dir, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {.flags = (uint64_t)flags, .mode = (flags & O_CREAT) ? 0644 : 0,
			       .resolve = resolve};

	return (int)syscall(SYS_openat2, dir, path, &how, sizeof(how));
}

/* In a child, as a jailed kxmon: the filter, then the wall around rw/ and
 * ro/ (O_PATH fds, as kxd grants them).  Exit 0: every check held; 77: no
 * Landlock ABI 2 here; else the number of the check that failed. */
static void confined_child(const char *top)
{
	char path[512];
	int rw, ro, fd, dir;

	snprintf(path, sizeof(path), "%s/rw", top);
	rw = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/ro", top);
	ro = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rw < 0 || ro < 0)
		_exit(2);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    jail_seccomp_load(JAIL_THREAD_VCPU, NULL, 0, NULL) != 0)
		_exit(3);
	{
		const int fds[] = {rw, ro};
		const bool writable[] = {true, false};
		int rc = jail_confine_beneath(fds, writable, 2, NULL);

		if (rc == -EOPNOTSUPP)
			_exit(77);
		if (rc != 0)
			_exit(4);
	}
	/* hostfs's calls beneath the writable directory */
	fd = open2(rw, "new", O_CREAT | O_RDWR | O_CLOEXEC, RESOLVE_BENEATH);
	if (fd < 0 || write(fd, "data", 4) != 4 || ftruncate(fd, 2) != 0)
		_exit(10);
	close(fd);
	if (mkdirat(rw, "sub", 0755) != 0)
		_exit(11);
	if (renameat2(rw, "new", rw, "sub/moved", 0) != 0) /* across directories */
		_exit(12);
	dir = open2(rw, "sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC, RESOLVE_BENEATH);
	if (dir < 0)
		_exit(13);
	if (unlinkat(dir, "moved", 0) != 0)
		_exit(14);
	if (unlinkat(rw, "sub", AT_REMOVEDIR) != 0)
		_exit(15);
	close(dir);
	/* reading beneath the read-only one, and nothing more */
	fd = open2(ro, "conf", O_RDONLY | O_CLOEXEC, RESOLVE_BENEATH);
	if (fd < 0)
		_exit(20);
	close(fd);
	if (open2(ro, "made", O_CREAT | O_WRONLY | O_CLOEXEC, 0) != -1 || errno != EACCES)
		_exit(21);
	if (open2(ro, "conf", O_WRONLY | O_CLOEXEC, 0) != -1 || errno != EACCES)
		_exit(22);
	/* what a monitor its guest took over would try: climbing out of a
	 * granted fd without RESOLVE_BENEATH, an absolute path */
	if (open2(rw, "../secret", O_RDONLY | O_CLOEXEC, 0) != -1 || errno != EACCES)
		_exit(30);
	if (mkdirat(rw, "../escaped", 0755) != -1 || errno != EACCES)
		_exit(31);
	if (renameat2(rw, "../secret", rw, "stolen", 0) != -1 || errno != EACCES)
		_exit(32);
	if (open2(AT_FDCWD, "/etc/hostname", O_RDONLY | O_CLOEXEC, 0) != -1 || errno != EACCES)
		_exit(33);
	_exit(0);
}

static void test_confine_beneath(void **state)
{
	char top[] = "/tmp/test_jail.XXXXXX", path[512], cmd[600];
	struct stat st;
	int status;
	pid_t pid;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/rw", top);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/ro", top);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/ro/conf", top);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	snprintf(path, sizeof(path), "%s/secret", top);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	pid = fork();
	if (pid == 0) {
#if JAIL_SANITIZED
		__lsan_do_leak_check();
#endif
		confined_child(top);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) /* then the kernel has no ABI 2: say so */
		assert_true(jail_landlock_abi() < 2);
	else
		assert_int_equal(WEXITSTATUS(status), 0);
	snprintf(path, sizeof(path), "%s/escaped", top);
	assert_int_not_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/secret", top);
	assert_int_equal(stat(path, &st), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
}

/*
 * The per-thread filters as kxmon loads them: the entry filter on the one
 * thread, the thread kinds' programs compiled before it; a thread started
 * then narrows itself to the network list and serves (read, write, poll,
 * a futex wake, sched_yield) and ends; the starter joins it and narrows
 * itself to the vCPU list.  Each probe adds one call outside its thread's
 * list, which must kill.
 */
enum tprobe { T_FINE, T_NET_GETPID, T_NET_IOCTL, T_VCPU_YIELD, T_VCPU_THREAD };

static struct jail_bpf vcpu_bpf, net_bpf;
static enum tprobe tprobe_what;

static void *probe_net(void *arg)
{
	int *fds = arg;
	struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
	uint32_t word = 0;
	char c = 'x';

	if (jail_seccomp_install(&net_bpf, NULL) != 0)
		_exit(103);
	if (write(fds[1], &c, 1) != 1 || poll(&pfd, 1, 0) != 1 || read(fds[0], &c, 1) != 1)
		_exit(104);
	syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	sched_yield();
	if (tprobe_what == T_NET_GETPID)
		syscall(SYS_getpid);
	if (tprobe_what == T_NET_IOCTL)
		ioctl(-1, 0x1234, 0); /* the vCPU's code, not the network thread's */
	return NULL;
}

static int run_thread_probe(enum tprobe what)
{
	static const unsigned long codes[] = {0x1234};
	int status;
	pid_t pid;

	assert_int_equal(jail_seccomp_compile(JAIL_THREAD_VCPU, codes, 1, &vcpu_bpf, NULL), 0);
	assert_int_equal(jail_seccomp_compile(JAIL_THREAD_NET, NULL, 0, &net_bpf, NULL), 0);
	tprobe_what = what;
	pid = fork();
	if (pid == 0) {
		int fds[2];
		pthread_t t;

#if JAIL_SANITIZED
		__lsan_do_leak_check();
#endif
		if (pipe2(fds, 0) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    jail_seccomp_load(JAIL_THREAD_ENTRY, codes, 1, NULL) != 0)
			_exit(100);
		if (pthread_create(&t, NULL, probe_net, fds) != 0 || pthread_join(t, NULL) != 0)
			_exit(105);
		if (jail_seccomp_install(&vcpu_bpf, NULL) != 0)
			_exit(106);
		(void)getpid();
		ioctl(-1, 0x1234, 0); /* EBADF, but let through */
		if (what == T_VCPU_YIELD)
			sched_yield();
		if (what == T_VCPU_THREAD)
			pthread_create(&t, NULL, probe_net, fds);
		_exit(7);
	}
	free(vcpu_bpf.prog.filter);
	free(net_bpf.prog.filter);
	vcpu_bpf.prog.filter = net_bpf.prog.filter = NULL;
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_thread_filters(void **state)
{
	int st;

	(void)state;
	st = run_thread_probe(T_FINE);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 7);
	assert_killed(run_thread_probe(T_NET_GETPID));
	assert_killed(run_thread_probe(T_NET_IOCTL));
	assert_killed(run_thread_probe(T_VCPU_YIELD));
	assert_killed(run_thread_probe(T_VCPU_THREAD));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_cgroup_names),
		cmocka_unit_test(test_allowlist_size),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_xen_profile),
		cmocka_unit_test(test_confine_beneath),
		cmocka_unit_test(test_thread_filters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
