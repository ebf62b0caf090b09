/*
 * kxmon — the per-pVM monitor: one process runs one pVM on a backend of
 * the monitor's core (manager/hv; kvm by default).
 *
 *   kxmon [options] IMAGE [ARG...]
 *   kxmon --channel FD --image-fd FD --image-name NAME [options] [-- ARG...]
 *
 * Loads IMAGE, passes it IMAGE ARG... as argv, copies its console to
 * stdout and exits with its exit status.  When the pVM is ended for a
 * reason of its own making (a bad hypercall, a CPU fault, forbidden I/O, a
 * triple fault, a panic), one line "pVM <pid>: <what happened>" goes to
 * stderr and the exit status says which kind of end it was.
 *
 * The second form is how kxd starts it (manager/chan/chan.h): the image
 * is a sealed memfd, and every library the image needs (DT_NEEDED) or asks
 * for (kx_dlopen) is a LINK_REQ to kxd over the channel, which is the
 * core's manager (client.c).  Without a channel only images without
 * DT_NEEDED run and kx_dlopen fails: there is no way to a library around
 * the policy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/kxfd.h"
#include "manager/jail/jail.h"
#include "manager/kxmon/kxmon.h"

#define KXMON_VERSION "0.1"
#define KXMON_ENV_MAX 256 /* posix-mon: -e at most this many times */

/* Exit statuses: 0..EXIT_STATUS_MAX are the guest's own. */
enum {
	EXIT_STATUS_MAX = 122,
	EXIT_OUT_OF_RANGE = 123, /* the guest exited with a status outside 0..122 */
	EXIT_TIMEOUT = 124,
	EXIT_MONITOR = 125,	/* kxmon could not run the pVM: usage, image, backend */
	EXIT_GUEST_ERROR = 126, /* the pVM was ended for what it did */
};

struct options {
	const char *backend;
	uint64_t mem_size;
	uint64_t stack_size;
	unsigned timeout;
	int verbose;
	int check;
	int pool; /* an empty pVM of kxd's pool: its placeholder waits for an app */
	int channel_fd; /* -1: no channel */
	int image_fd;
	const char *image_name;
	/* The jail (docs/jail.md): kxd gives the ids and the cgroup's name;
	 * by hand they come from the default range and the pid. */
	int no_jail;
	uint32_t jail_id;       /* 0: from the default range */
	const char *jail_cgroup; /* NULL: kxmon-<pid> */
	uint32_t cpu_milli, pids;
	int envc; /* posix-mon: -e NAME=VALUE, the guest's environment */
	char *envv[KXMON_ENV_MAX + 1];
};

/* One table for getopt, --help and the man page's OPTIONS. */
static const struct option_row {
	const char *name;
	int key;
	int has_arg;
	const char *arg;
	const char *help;
} option_rows[] = {
	{"memory", 'm', required_argument, "SIZE",
	 "guest memory, 8M..1G in 2M steps (default 64M)"},
	{"stack", 's', required_argument, "SIZE", "guest stack (default 1M)"},
	{"timeout", 't', required_argument, "SECS", "end the pVM after SECS seconds (exit 124)"},
	{"verbose", 'v', no_argument, NULL, "also report a normal exit on stderr"},
	{"backend", 'b', required_argument, "NAME", "the hypervisor backend (default kvm)"},
	{"check", 'c', no_argument, NULL, "only check that the backend can run pVMs here"},
	{"channel", 'C', required_argument, "FD", "kxd's channel (kxd starts kxmon this way)"},
	{"image-fd", 'F', required_argument, "FD", "with --channel: the image, a sealed memfd"},
	{"image-name", 'N', required_argument, "NAME", "with --channel: the image's name, argv[0]"},
	{"env", 'e', required_argument, "NAME=VALUE",
	 "put NAME=VALUE in the guest's environment (an SDK program's environ)"},
	{"pool", 'P', no_argument, NULL, "with --channel: a pooled pVM, recycled by kxd"},
	{"jail-id", 'u', required_argument, "ID", "the jail's uid and gid (default: from 0x70000000 up)"},
	{"jail-cgroup", 'g', required_argument, "NAME", "the jail's cgroup kx/NAME (default kxmon-PID)"},
	{"jail-cpu", 'U', required_argument, "MILLI", "CPU limit in thousandths of a CPU (default none)"},
	{"jail-pids", 'n', required_argument, "N", "process limit (default 64)"},
	{"no-jail", 'J', no_argument, NULL, "UNSAFE, debugging only: run without the jail"},
	{"help", 'h', no_argument, NULL, "show this help"},
	{"version", 'V', no_argument, NULL, "show the version"},
};
#define N_OPTIONS (sizeof(option_rows) / sizeof(option_rows[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: kxmon [options] IMAGE [ARG...]\n"
		     "       kxmon --channel FD --image-fd FD --image-name NAME [options]"
		     " [-- ARG...]\n"
		     "Run one pVM; its console goes to stdout.\n\noptions:\n");
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct option_row *o = &option_rows[i];
		char left[40];

		snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		fprintf(out, "  %-26s %s\n", left, o->help);
	}
	fprintf(out, "\nexit status: 0..122 the pVM's own; 123 pVM status out of range;\n"
		     "124 timed out; 125 kxmon failed (usage, image, backend, a library, the\n"
		     "channel); 126 the pVM was ended for a fault or a bad hypercall;\n"
		     "128+N a signal's default action ended it.\n");
}

/* "64M", "1G", "512K" or bytes. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || s[0] == '-')
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift != 0)
		end++;
	if (*end != '\0' || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	struct option longopts[N_OPTIONS + 1];
	char shortopts[2 * N_OPTIONS + 2] = "+";
	size_t n = 1;
	int c;

	memset(longopts, 0, sizeof(longopts));
	for (size_t i = 0; i < N_OPTIONS; i++) {
		longopts[i] = (struct option){option_rows[i].name, option_rows[i].has_arg, NULL,
					      option_rows[i].key};
		shortopts[n++] = (char)option_rows[i].key;
		if (option_rows[i].has_arg)
			shortopts[n++] = ':';
	}
	shortopts[n] = '\0';
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		uint64_t secs;

		switch (c) {
		case 'm':
			if (parse_size(optarg, &opt->mem_size) != 0)
				goto bad_value;
			break;
		case 's':
			if (parse_size(optarg, &opt->stack_size) != 0)
				goto bad_value;
			break;
		case 't':
			if (parse_size(optarg, &secs) != 0 || secs == 0 || secs > 86400)
				goto bad_value;
			opt->timeout = (unsigned)secs;
			break;
		case 'v':
			opt->verbose = 1;
			break;
		case 'b':
			opt->backend = optarg;
			break;
		case 'c':
			opt->check = 1;
			break;
		case 'C':
		case 'F': {
			uint64_t fd;

			if (parse_size(optarg, &fd) != 0 || fd > INT_MAX || fd < 3)
				goto bad_value;
			*(c == 'C' ? &opt->channel_fd : &opt->image_fd) = (int)fd;
			break;
		}
		case 'P':
			opt->pool = 1;
			break;
		case 'u':
		case 'U':
		case 'n': {
			uint64_t v;

			if (parse_size(optarg, &v) != 0 || v == 0 || v >= UINT32_MAX)
				goto bad_value;
			*(c == 'u' ? &opt->jail_id : c == 'U' ? &opt->cpu_milli : &opt->pids) =
				(uint32_t)v;
			break;
		}
		case 'g':
			opt->jail_cgroup = optarg;
			break;
		case 'J':
			opt->no_jail = 1;
			break;
		case 'N':
			if (optarg[0] == '\0' || strlen(optarg) >= KXMON_NAME_MAX)
				goto bad_value;
			opt->image_name = optarg;
			break;
		case 'e':
			if (optarg[0] == '=' || strchr(optarg, '=') == NULL ||
			    opt->envc >= KXMON_ENV_MAX)
				goto bad_value;
			opt->envv[opt->envc++] = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("kxmon %s (hypercall ABI %u)\n", KXMON_VERSION,
			       KX_HCALL_ABI_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	return 0;
bad_value:
	fprintf(stderr, "kxmon: invalid value '%s' for -%c\n", optarg, c);
	return -EINVAL;
}

/*
 * Read the whole image; it is untrusted, the loader checks it.  Returns 0,
 * -errno, or -EINVAL with *why saying what is wrong with the file.
 */
static int read_image(const char *path, uint8_t **out, size_t *len, const char **why)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t done = 0;
	int fd, rc = 0;

	*why = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode))
		*why = "not a regular file";
	else if (st.st_size == 0)
		*why = "empty file";
	else if ((uint64_t)st.st_size > HV_MEM_MAX)
		*why = "larger than the largest guest memory (1 GiB)";
	if (*why != NULL) {
		rc = -EINVAL;
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto out;
		}
		done += (size_t)n;
	}
	*out = buf;
	*len = done;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

/* The image kxd verified: a sealed memfd, mapped read-only. */
static int map_image_fd(int fd, uint8_t **out, size_t *len, const char **why)
{
	struct stat st;
	void *p;

	*why = NULL;
	if (!kx_fd_sealed(fd, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW))
		*why = "not a sealed memfd";
	else if (fstat(fd, &st) != 0)
		return -errno;
	else if (st.st_size <= 0 || (uint64_t)st.st_size > HV_MEM_MAX)
		*why = "empty or larger than the largest guest memory";
	if (*why != NULL)
		return -EINVAL;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	*len = (size_t)st.st_size;
	return 0;
}

/*
 * The jail (manager/jail, docs/jail.md), entered once the VM exists and
 * before the loader reads the image: from here on kxmon holds what it
 * needs and can get nothing more.  KXMON_TEST_JAIL_FORBIDDEN is a
 * test-only hook (tests/cli/kvm_jail.bats): right after the jail closes,
 * kxmon makes a call outside its allowlist, which must kill it (SIGSYS).
 */
static int enter_jail(const struct options *opt, const struct hv_backend *be,
		      struct kx_error *err)
{
	char name[JAIL_CGROUP_NAME_MAX];
	uint32_t id = opt->jail_id;
	struct jail_config cfg;
	enum jail_thread thread = JAIL_THREAD_VCPU;
	const unsigned long *ioctls;
	size_t nioctls;
	int rc;

	ioctls = hv_backend_ioctls(be, &nioctls);
	/* A backend with no list of its own may have a profile in the jail
	 * (Xen's); else a jail would kill its first ioctl. */
	if (nioctls == 0 &&
	    jail_backend_profile(hv_backend_name(be), &thread, &ioctls, &nioctls) != 0)
		return kx_err(err, -EOPNOTSUPP,
			      "the %s backend has no jail profile yet (docs/jail.md): run it with "
			      "--no-jail, knowing the monitor is then not confined",
			      hv_backend_name(be));
	if (id == 0)
		id = JAIL_IDS_DEFAULT_LO +
		     (uint32_t)getpid() % (JAIL_IDS_DEFAULT_HI - JAIL_IDS_DEFAULT_LO + 1);
	if (opt->jail_cgroup == NULL) {
		jail_cgroup_sweep();
		snprintf(name, sizeof(name), "kxmon-%d", (int)getpid());
	}
	cfg = (struct jail_config){
		.uid = id,
		.gid = id,
		.cgroup = opt->jail_cgroup ? opt->jail_cgroup : name,
		.limits = {.memory = opt->mem_size + JAIL_MEMORY_OVERHEAD,
			   .cpu_milli = opt->cpu_milli,
			   .pids = opt->pids ? opt->pids : JAIL_PIDS_DEFAULT},
		.ioctls = ioctls,
		.nioctls = nioctls,
		.thread = thread,
	};
	rc = jail_enter(&cfg, err);
	if (rc == -EPERM || rc == -EACCES)
		kx_err_wrap(err, rc, "kxmon must be root to jail itself (--no-jail: debugging only)");
	if (rc == 0 && getenv("KXMON_TEST_JAIL_FORBIDDEN") != NULL)
		syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY); /* killed here */
	return rc;
}

/*
 * Each thread's own filter (docs/jail.md): the core calls this on the
 * network thread first thing, and on the vCPU thread once it starts no
 * more threads.  KXMON_TEST_JAIL_THREAD is a test-only hook
 * (tests/cli/kvm_jail.bats): "net" makes the network thread, once
 * narrowed, call getpid (the vCPU thread's), "vcpu" makes the vCPU thread
 * call sched_yield (the network thread's); either must kill kxmon.
 */
static int jail_thread(enum hv_thread thread)
{
	enum jail_thread kind = thread == HV_THREAD_NET ? JAIL_THREAD_NET : JAIL_THREAD_VCPU;
	const char *hook = getenv("KXMON_TEST_JAIL_THREAD");
	struct kx_error err;
	int rc = jail_thread_enter(kind, &err);

	if (rc < 0) {
		fprintf(stderr, "kxmon: %s\n", err.msg);
		return rc;
	}
	if (rc == 1 && hook != NULL && strcmp(hook, kind == JAIL_THREAD_NET ? "net" : "vcpu") == 0)
		syscall(kind == JAIL_THREAD_NET ? SYS_getpid : SYS_sched_yield); /* killed here */
	return 0;
}

/* The timeout: SIGALRM pauses the vCPU and makes blocking hypercalls give
 * up; hv_run then returns HV_END_PAUSED. */
static struct hv_pvm *signal_pvm;

static void on_alarm(int sig)
{
	(void)sig;
	if (signal_pvm != NULL)
		hv_pause(signal_pvm);
}

/* SIGTERM (kxd's kxd_pvm_end, or an operator): end the pVM as on the
 * timeout, so that its module's finish steps run — the network's resets
 * its open TCP connections (manager/hv/net.c) — instead of the process
 * just dying with the guest's TCP stack in it. */
static volatile sig_atomic_t term_requested;

static void on_term(int sig)
{
	(void)sig;
	term_requested = 1;
	if (signal_pvm != NULL)
		hv_pause(signal_pvm);
}

/* A message from kxd (a LINK_PUSH, a SIGNAL...) kicks the vCPU out to a
 * safe point, so a guest that makes no hypercalls still gets it: SIGIO on
 * the channel (and the core's retry timers). */
static void on_kick(int sig)
{
	(void)sig;
	if (signal_pvm != NULL)
		hv_kick(signal_pvm);
}

static int handle(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn; /* no SA_RESTART: the vCPU must leave the guest */
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

static int arm_channel_kick(struct hv_pvm *p, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETOWN, getpid()) != 0 || fcntl(fd, F_SETFL, fl | O_ASYNC) != 0)
		return -errno;
	/* Anything that arrived before O_ASYNC was set. */
	hv_kick(p);
	return 0;
}

/* The exit status for how the pVM ended; the report line in line. */
static int report_end(const struct hv_end *end, const struct options *opt, char *line,
		      size_t size)
{
	int pid = (int)getpid();

	hv_end_describe(end, line, size);
	switch (end->reason) {
	case HV_END_EXIT:
		if (end->exit_status < 0 || end->exit_status > EXIT_STATUS_MAX) {
			fprintf(stderr, "pVM %d: %s (outside 0..%d)\n", pid, line, EXIT_STATUS_MAX);
			return EXIT_OUT_OF_RANGE;
		}
		if (opt->verbose)
			fprintf(stderr, "pVM %d: %s\n", pid, line);
		return (int)end->exit_status;
	case HV_END_PAUSED:
		if (term_requested) {
			snprintf(line, size, "ended by SIGTERM to its monitor");
			fprintf(stderr, "pVM %d: %s\n", pid, line);
			return 128 + SIGTERM;
		}
		fprintf(stderr, "pVM %d: timed out after %u s, %s\n", pid, opt->timeout, line);
		return EXIT_TIMEOUT;
	case HV_END_CHANNEL:
		fprintf(stderr, "pVM %d: %s\n", pid, line);
		return EXIT_MONITOR;
	case HV_END_SIGNAL:
		fprintf(stderr, "pVM %d: %s\n", pid, line);
		return 128 + (int)end->signal;
	default:
		fprintf(stderr, "pVM %d: %s\n", pid, line);
		return EXIT_GUEST_ERROR;
	}
}

static void print_link_stats(const struct hv_pvm *p)
{
	struct hv_link_stats st;

	hv_link_stats(p, &st);
	fprintf(stderr,
		"kxmon: linking: %llu modules, %llu link requests (%llu denied), "
		"%llu lazy resolves, %llu slots bound at link time, %llu bytes of shared text, "
		"%llu GOT pages read-only, %llu pushed links, %llu TLB flushes\n",
		(unsigned long long)st.modules, (unsigned long long)st.requests,
		(unsigned long long)st.denials, (unsigned long long)st.resolves,
		(unsigned long long)st.bound_now, (unsigned long long)st.shared_text_bytes,
		(unsigned long long)st.got_pages, (unsigned long long)st.pushes,
		(unsigned long long)st.tlb_flushes);
}

static void print_posix_stats(const struct hv_pvm *p)
{
	struct hv_posix_stats st;

	hv_posix_stats(p, &st);
	if (!st.used)
		return; /* not an SDK program: nothing to say */
	fprintf(stderr,
		"kxmon: exits: %llu hypercalls, %llu kicks; posix: %llu halts, %llu preemptions "
		"(%llu deferred), %llu unimplemented system calls\n",
		(unsigned long long)st.hcalls, (unsigned long long)st.kicks,
		(unsigned long long)st.halts, (unsigned long long)st.preemptions,
		(unsigned long long)st.preempt_deferred, (unsigned long long)st.reported);
}

/* The guest's argv: NAME then the arguments after the options. */
static char **channel_argv(const char *name, int argc, char **argv, int *out_argc)
{
	char **v = calloc((size_t)argc + 2, sizeof(*v));

	if (v == NULL)
		return NULL;
	v[0] = (char *)(uintptr_t)name;
	for (int i = 0; i < argc; i++)
		v[i + 1] = argv[i];
	*out_argc = argc + 1;
	return v;
}

int main(int argc, char **argv)
{
	struct options opt = {.backend = "kvm", .mem_size = HV_MEM_DEFAULT, .channel_fd = -1,
			      .image_fd = -1};
	const struct hv_backend *be;
	struct kxmon_client client = {.fd = -1};
	const struct hv_manager manager = {.ops = &kxmon_manager_ops, .ctx = &client};
	struct hv_pvm *pvm = NULL;
	struct kx_error err = {{0}};
	struct hv_config cfg;
	struct hv_end end = {.reason = HV_END_INTERNAL};
	uint8_t *image = NULL;
	size_t image_len = 0;
	char **guest_argv = NULL, report[1280] = "";
	const char *path, *why;
	int rc, status = EXIT_MONITOR, guest_argc = 0;
	bool ran = false;

	if (parse_options(argc, argv, &opt) != 0)
		return EXIT_MONITOR;
	be = hv_backend(opt.backend);
	if (be == NULL) {
		fprintf(stderr, "kxmon: no backend '%s'\n", opt.backend);
		return EXIT_MONITOR;
	}
	if (opt.check) {
		rc = hv_probe(be, &err);
		if (rc != 0) {
			fprintf(stderr, "kxmon: backend %s cannot run pVMs here: %s\n", opt.backend,
				err.msg);
			return EXIT_MONITOR;
		}
		printf("kxmon: backend %s can run pVMs here\n", opt.backend);
		return 0;
	}
	if (opt.channel_fd >= 0 || opt.image_fd >= 0 || opt.image_name != NULL) {
		if (opt.channel_fd < 0 || opt.image_fd < 0 || opt.image_name == NULL) {
			fprintf(stderr,
				"kxmon: --channel, --image-fd and --image-name go together\n");
			return EXIT_MONITOR;
		}
	} else if (optind >= argc) {
		usage(stderr);
		return EXIT_MONITOR;
	}
	signal(SIGPIPE, SIG_IGN); /* a closed stdout becomes -KX_EIO for the guest */
	if (opt.channel_fd >= 0) {
		path = opt.image_name;
		rc = kxmon_client_start(&client, opt.channel_fd);
		if (rc != 0) {
			fprintf(stderr, "kxmon: %s\n", client.reason);
			goto out;
		}
		rc = map_image_fd(opt.image_fd, &image, &image_len, &why);
		guest_argv = channel_argv(path, argc - optind, argv + optind, &guest_argc);
		if (rc == 0 && guest_argv == NULL)
			rc = -ENOMEM, why = NULL;
	} else {
		path = argv[optind];
		rc = read_image(path, &image, &image_len, &why);
	}
	if (rc != 0) {
		snprintf(report, sizeof(report), "%s: %s", path, why ? why : strerror(-rc));
		fprintf(stderr, "kxmon: %s\n", report);
		goto out;
	}
	cfg = (struct hv_config){
		.mem_size = opt.mem_size,
		.stack_size = opt.stack_size,
		.argc = guest_argv ? guest_argc : argc - optind,
		.argv = guest_argv ? guest_argv : argv + optind,
		.console_fd = STDOUT_FILENO,
		.log_fd = STDERR_FILENO,
		.has_stdio = true,
		.err_fd = STDERR_FILENO,
		.input_fd = STDIN_FILENO,
		.envc = opt.envc,
		.envv = opt.envv,
		.manager = opt.channel_fd >= 0 ? &manager : NULL,
		.pool = opt.channel_fd >= 0 && opt.pool,
		.kick_signal = SIGIO,
		.update_fail_step = getenv("KXMON_TEST_FAIL_UPDATE"),
		.jail_thread = opt.no_jail ? NULL : jail_thread,
	};
	rc = hv_create(be, &cfg, &pvm, &err);
	if (rc != 0) {
		snprintf(report, sizeof(report), "cannot create the pVM: %s", err.msg);
		fprintf(stderr, "kxmon: %s\n", report);
		goto out;
	}
	signal_pvm = pvm;
	/* KXMON_TEST_IGNORE_SIGTERM: a monitor that does not end its pVM when
	 * asked, for kxd's grace (tests/cli/net.bats) */
	if (handle(SIGIO, on_kick) != 0 || handle(SIGALRM, on_alarm) != 0 ||
	    (getenv("KXMON_TEST_IGNORE_SIGTERM") != NULL ? signal(SIGTERM, SIG_IGN) == SIG_ERR
							 : handle(SIGTERM, on_term) != 0)) {
		fprintf(stderr, "kxmon: cannot handle signals: %s\n", strerror(errno));
		goto out;
	}
	if (!opt.no_jail && (rc = enter_jail(&opt, be, &err)) != 0) {
		snprintf(report, sizeof(report), "%s", err.msg);
		fprintf(stderr, "kxmon: %s\n", report);
		goto out;
	}
	if (!opt.no_jail)
		hv_set_jailed(jail_confine_beneath);
	rc = hv_load(pvm, image, image_len, &err);
	if (rc != 0) {
		/* A denial names the library and the rule: kxd's reason in full. */
		snprintf(report, sizeof(report), "%s: %s", path, err.msg);
		fprintf(stderr, "kxmon: %s\n", report);
		goto out;
	}
	if (client.fd >= 0 && arm_channel_kick(pvm, client.fd) != 0) {
		fprintf(stderr, "kxmon: cannot watch the channel: %s\n", strerror(errno));
		goto out;
	}
	client.recycle_timeout = opt.pool ? opt.timeout : 0; /* idle in a pool: not counted */
	if (opt.timeout != 0 && !opt.pool)
		kxmon_alarm(opt.timeout);
	rc = hv_run(pvm, &end, &err);
	kxmon_alarm(0);
	if (rc != 0) {
		snprintf(report, sizeof(report), "pVM %d: %s", (int)getpid(), err.msg);
		fprintf(stderr, "kxmon: %s\n", report);
		goto out;
	}
	ran = true;
	status = report_end(&end, &opt, report, sizeof(report));
	if (opt.verbose && client.fd >= 0)
		print_link_stats(pvm);
	if (opt.verbose)
		print_posix_stats(pvm);
out:
	signal_pvm = NULL;
	if (pvm != NULL)
		hv_destroy(pvm, status, ran ? &end : NULL, report);
	else if (client.fd >= 0)
		kxmon_client_exit(&client, status, report);
	kxmon_client_close(&client);
	if (opt.channel_fd >= 0 && image != NULL)
		munmap(image, image_len);
	else
		free(image);
	free(guest_argv);
	return status;
}
