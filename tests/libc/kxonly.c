/* What a pVM does differently from a Linux process, on purpose: checked
 * inside a pVM only (tests/cli/libc.bats), never compared with a native
 * run.  `kxonly deadlock` blocks every thread forever: the pVM must end
 * with a panic, not spin.  `kxonly exit N` exits with N from a second
 * thread while main waits.  `kxonly argv A B...` prints its arguments
 * after changing them. */
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>

#include <kx/kxrt.h>
#include <kx/posix.h>

#include "check.h"

static int cpu_has_rdrand(void)
{
	unsigned a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	return (c >> 30) & 1;
}

static void *exit_from_thread(void *arg)
{
	exit((int)(long)arg);
}

int main(int argc, char **argv)
{
	struct utsname u;
	struct winsize ws;
	unsigned char r1[32], r2[32];
	unsigned short nrs[64];
	size_t pg = 4096;
	char *p;
	int n, found;

	if (argc > 1 && strcmp(argv[1], "deadlock") == 0) {
		int fds[2];
		char c;

		pipe(fds);
		read(fds[0], &c, 1); /* its own write end is open: never readable */
		printf("FAIL read returned\n");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "argv") == 0) {
		/* argv is the program's to write (getopt_long permutes it). */
		for (int i = 2; i < argc; i++) {
			argv[i][0] = (char)toupper((unsigned char)argv[i][0]);
			printf("argv[%d] = %s\n", i, argv[i]);
		}
		printf("argc = %d, environ[0] = %s\n", argc, environ[0] ? environ[0] : "(null)");
		return 0;
	}
	if (argc > 1 && (strcmp(argv[1], "rowrite") == 0 || strcmp(argv[1], "guard") == 0)) {
		int guard = strcmp(argv[1], "guard") == 0;
		volatile char *q = mmap(NULL, 4096, guard ? PROT_NONE : PROT_READ,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		printf("mapped\n");
		fflush(stdout);
		if (guard)
			printf("read %d\n", q[100]); /* must fault */
		else
			q[100] = 1; /* must fault */
		printf("FAIL the access went through\n");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "env") == 0) {
		/* The environment kxmon -e (kxctl run --env) gave, then edited. */
		for (char **e = environ; *e; e++)
			printf("env: %s\n", *e);
		setenv("ADDED", "yes", 1);
		unsetenv("EMPTY");
		printf("getenv: ADDED=%s EMPTY=%s PATH=%s\n", getenv("ADDED"),
		       getenv("EMPTY") ? getenv("EMPTY") : "(unset)",
		       getenv("PATH") ? getenv("PATH") : "(unset)");
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "exit") == 0) {
		pthread_t t;

		pthread_create(&t, NULL, exit_from_thread, (void *)(long)atoi(argv[2]));
		pthread_join(t, NULL);
		return 99;
	}
	check(kx_boot_info()->magic == KX_BOOT_MAGIC, "the kx runtime is linked (<kx/kxrt.h>)");
	check(getpid() == 1 && getppid() == 0 && getuid() == 0 && geteuid() == 0 && getgid() == 0,
	      "fixed ids: pid 1, ppid 0, uid and gid 0");
	check(uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0 && strcmp(u.machine, "x86_64") == 0 &&
		      strstr(u.release, "kx") != NULL,
	      "uname: Linux x86_64, a kx release");
	CHECK_ERR(ioctl(1, TIOCGWINSZ, &ws), ENOTTY, "the console is no terminal");
	check(!isatty(0) && !isatty(1), "isatty(0), isatty(1) are false");
	check(sysconf(_SC_NPROCESSORS_ONLN) == 1, "one CPU");

	/* W^X: the monitor never maps a page writable and executable. */
	p = mmap(NULL, pg, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(p == MAP_FAILED && errno == EACCES, "mmap W+X: EACCES");
	p = mmap(NULL, pg, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(p == MAP_FAILED && errno == ENOSYS, "mmap R+X: ENOSYS (needs the monitor)");
	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_ERR(mprotect(p, pg, PROT_READ | PROT_WRITE | PROT_EXEC), EACCES, "mprotect W+X");
	CHECK_ERR(mprotect(p, pg, PROT_READ | PROT_EXEC), ENOSYS, "mprotect R+X");
	/* Read-only and no-access pages: the monitor enforces them
	 * (`kxonly rowrite` and `kxonly guard` fault on purpose). */
	memset(p, 'k', pg);
	check(mprotect(p, pg, PROT_READ) == 0 && p[0] == 'k' && p[pg - 1] == 'k',
	      "mprotect read-only: still readable");
	check(mprotect(p, pg, PROT_NONE) == 0 && mprotect(p, pg, PROT_READ | PROT_WRITE) == 0 &&
		      p[7] == 'k' && (p[7] = 'w') == 'w',
	      "no access, then read-write again: the bytes kept");
	{
		char *r = mmap(NULL, 3 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		check(r != MAP_FAILED && r[0] == 0 && r[3 * pg - 1] == 0, "mmap PROT_READ: zeros");
		r = mremap(r, 3 * pg, 40 * pg, MREMAP_MAYMOVE);
		check(r != MAP_FAILED && r[39 * pg] == 0 && mprotect(r, 40 * pg, PROT_WRITE) == 0 &&
			      (r[39 * pg] = 1) == 1 && munmap(r, 40 * pg) == 0,
		      "mremap keeps it readable; write-only means read-write");
	}
	check(munmap(p, pg) == 0, "munmap");
	p = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(p != MAP_FAILED && munmap(p, pg) == 0 &&
		      (p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
				0)) != MAP_FAILED && (p[5] = 3) == 3 && p[0] == 0,
	      "a guard page given back is a fresh zero page for the next mapping");
	CHECK_ERR(mprotect((void *)kx_boot_info(), pg, PROT_READ), ENOSYS,
		  "mprotect outside the heap (the monitor's pages)");

	/* RDRAND when the CPU has it, the host's entropy otherwise: either way
	 * getrandom, AT_RANDOM and /dev/urandom work. */
	check(getrandom(r1, sizeof(r1), 0) == 32 && getrandom(r2, sizeof(r2), 0) == 32 &&
		      memcmp(r1, r2, sizeof(r1)) != 0,
	      "getrandom (%s): two reads differ", cpu_has_rdrand() ? "RDRAND" : "the host's");
	check(getauxval(AT_RANDOM) != 0, "AT_RANDOM is there for the stack protector");
	{
		int fd = open("/dev/urandom", O_RDONLY);

		check(fd >= 0 && read(fd, r1, 32) == 32 && read(fd, r2, 32) == 32 &&
			      memcmp(r1, r2, 32) != 0,
		      "/dev/urandom reads the same source");
		close(fd);
	}
	/* The monitor's getrandom (KX_HC_ENTROPY), more than one exit's worth. */
	{
		static unsigned char h1[600], h2[600], zero[600];

		check(kx_posix_host_entropy(h1, sizeof(h1)) == (long)sizeof(h1) &&
			      kx_posix_host_entropy(h2, sizeof(h2)) == (long)sizeof(h2) &&
			      memcmp(h1, h2, sizeof(h1)) != 0 &&
			      memcmp(h1 + 512, zero, 88) != 0 && memcmp(h2 + 256, zero, 256) != 0,
		      "the host's entropy: 600 bytes twice, all filled, different");
	}
	{
		int fd = open("/dev/zero", O_RDONLY), nul = open("/dev/null", O_WRONLY);

		memset(r1, 1, sizeof(r1));
		check(fd >= 0 && read(fd, r1, sizeof(r1)) == 32 && r1[0] == 0 && r1[31] == 0,
		      "/dev/zero");
		check(nul >= 0 && write(nul, r1, 32) == 32, "/dev/null");
		close(fd);
		close(nul);
	}
	{
		/* RLIMIT_NOFILE is 1024 here: fds 3..1023 and no more. */
		int opened = 0, fds[2], last = -1, fd;

		while ((fd = open("/dev/null", O_RDONLY)) >= 0) {
			last = fd;
			opened++;
		}
		check(errno == EMFILE && opened == 1021 && last == 1023, "1021 more fds, then EMFILE");
		CHECK_ERR(pipe(fds), EMFILE, "pipe with no fd left");
		close(1023);
		CHECK_ERR(pipe(fds), EMFILE, "pipe with one fd left");
		close(1022);
		check(pipe(fds) == 0 && fds[0] == 1022 && fds[1] == 1023, "pipe with two");
		for (fd = 3; fd < 1024; fd++)
			close(fd);
		check(open("/dev/null", O_RDONLY) == 3, "all closed again");
		close(3);
	}
	check(kx_posix_implemented(SYS_read) && !kx_posix_implemented(SYS_mount),
	      "kx_posix_implemented");
	CHECK_ERR(syscall(SYS_mount, "a", "b", "c", 0, 0), ENOSYS, "mount");
	CHECK_ERR(syscall(SYS_mount, "a", "b", "c", 0, 0), ENOSYS, "mount again (reported once)");
	{
		/* A pVM alone has no kxd to fork through; under kxd it forks. */
		pid_t pid = fork();
		int st = -1;

		if (pid == 0)
			_exit(0);
		check((pid == -1 && errno == ENOSYS) ||
			      (pid > 0 && waitpid(pid, &st, 0) == pid && st == 0),
		      "fork: ENOSYS alone, a pVM child under kxd");
	}
	CHECK_ERR(wait(NULL), ECHILD, "wait: no children");
	CHECK_ERR(execve("/bin/sh", argv, NULL), ENOSYS, "execve (a pVM is one image)");
	n = kx_posix_unimplemented(nrs, 64);
	found = 0;
	for (int i = 0; i < n && i < 64; i++)
		found |= (nrs[i] == SYS_mount ? 1 : 0) | (nrs[i] == SYS_read ? 2 : 0);
	check(found == 1, "the ENOSYS record names mount, not read (%d numbers)", n);
	return summary();
}
