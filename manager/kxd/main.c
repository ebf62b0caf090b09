/*
 * kxd — the mapper: loads and verifies a policy once, owns the gate, the
 * audit log and the pVM registry, and serves the control socket and every
 * pVM's channel from one poll loop.  docs/kxd.md, kxd(8).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manager/jail/jail.h"
#include "manager/kxd/internal.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define ROOT_AUDIT_DIR "/var/log/kx" /* root's default audit log lives here */

static const struct option_row {
	const char *name;
	int key;
	const char *arg;
	const char *help;
} option_rows[] = {
	{ "policy", 'p', "P.kxp", "the compiled policy (required)" },
	{ "admin-key", 'k', "K.pub", "the policy must be signed by this key" },
	{ "libdir", 'L', "DIR", "where libraries are looked up (repeatable, in order)" },
	{ "socket", 's', "PATH", "control socket (default $XDG_RUNTIME_DIR/kx/kxd.sock)" },
	{ "audit-log", 'a', "PATH", "audit log (default: beside the socket; root: /var/log/kx)" },
	{ "monitor", 'm', "PATH", "the kxmon to run (default: kxmon beside kxd)" },
	{ "foreground", 'f', NULL, "stay in the foreground, log to stderr" },
	{ "pool-image", 'i', "KXE", "recycle pools: the signed placeholder image (kxpool)" },
	{ "pool-max", 'n', "N", "at most N pooled pVMs per app (0: no pools)" },
	{ "pvm-timeout", 't', "SECS", "end each pVM after SECS s (a fork: its parent's deadline)" },
	{ "jail-ids", 'j', "LO-HI", "the monitors' uids/gids (default 1879048192-1879113727)" },
	{ "no-jail", 'J', NULL, "UNSAFE, debugging only: monitors run unjailed, as kxd" },
	{ "help", 'h', NULL, "show this help" },
};
#define N_OPTIONS (sizeof(option_rows) / sizeof(option_rows[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: kxd --policy P.kxp [options]\n\noptions:\n");
	for (size_t i = 0; i < N_OPTIONS; i++) {
		char left[40];

		snprintf(left, sizeof(left), "--%s%s%s", option_rows[i].name,
			 option_rows[i].arg ? " " : "", option_rows[i].arg ? option_rows[i].arg : "");
		fprintf(out, "  -%c, %-22s %s\n", option_rows[i].key, left, option_rows[i].help);
	}
	fprintf(out, "\nexit status: 0 stopped cleanly; 1 could not start (policy, socket,\n"
		     "another kxd answering); 2 usage.\n");
}

void kxd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("kxd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int parse_options(struct kxd *d, int argc, char **argv)
{
	struct option longopts[N_OPTIONS + 1];
	char shortopts[2 * N_OPTIONS + 1];
	size_t ns = 0;
	int c;

	memset(longopts, 0, sizeof(longopts));
	for (size_t i = 0; i < N_OPTIONS; i++) {
		longopts[i].name = option_rows[i].name;
		longopts[i].has_arg = option_rows[i].arg ? required_argument : no_argument;
		longopts[i].val = option_rows[i].key;
		shortopts[ns++] = (char)option_rows[i].key;
		if (option_rows[i].arg)
			shortopts[ns++] = ':';
	}
	shortopts[ns] = '\0';
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'p': d->policy_path = optarg; break;
		case 'k': d->admin_key = optarg; break;
		case 's': d->socket_path = optarg; break;
		case 'a': d->audit_path = optarg; break;
		case 'm': d->monitor = optarg; break;
		case 'f': d->foreground = true; break;
		case 'i': d->pool_image = optarg; break;
		case 'J': d->no_jail = true; break;
		case 'j':
			if (jail_ids_parse(optarg, &d->jail_lo, &d->jail_hi) != 0) {
				fprintf(stderr, "kxd: --jail-ids: want LO-HI, 1 <= LO <= HI\n");
				return -1;
			}
			break;
		case 't':
			if (strspn(optarg, "0123456789") != strlen(optarg) || strlen(optarg) > 5 ||
			    atoi(optarg) < 1) {
				fprintf(stderr, "kxd: --pvm-timeout: want 1..99999 seconds\n");
				return -1;
			}
			d->pvm_timeout = optarg; /* kxmon --timeout, as given */
			break;
		case 'n':
			if (kxd_pool_max_parse(optarg, &d->pool_max) != 0) {
				fprintf(stderr, "kxd: --pool-max: want 0..%d\n", KXD_MAX_PVMS);
				return -1;
			}
			break;
		case 'L':
			if (d->nlibdirs == KXD_MAX_LIBDIRS) {
				fprintf(stderr, "kxd: at most %d --libdir\n", KXD_MAX_LIBDIRS);
				return -1;
			}
			d->libdirs[d->nlibdirs++] = optarg;
			break;
		case 'h': usage(stdout); exit(EXIT_OK);
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc || !d->policy_path) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Where the default files go: the socket's directory, created 0700. */
static int make_dirs(struct kxd *d, char *sock_buf, char *audit_buf, char *mon_buf, size_t size)
{
	char tmp[KXD_PATH_MAX];
	const char *dir;

	if (!d->socket_path) {
		int rc = kxd_default_socket(sock_buf, size);

		if (rc != 0) {
			fprintf(stderr, "kxd: no default socket (XDG_RUNTIME_DIR unset): use --socket\n");
			return -1;
		}
		d->socket_path = sock_buf;
	}
	if (strlen(d->socket_path) >= sizeof(tmp)) {
		fprintf(stderr, "kxd: %s: path too long\n", d->socket_path);
		return -1;
	}
	strcpy(tmp, d->socket_path);
	dir = dirname(tmp);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "kxd: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	/* root's socket is on a tmpfs (/run): its audit log must outlive a boot */
	if (!d->audit_path && d->owner == 0 && d->socket_path == sock_buf) {
		if (mkdir(ROOT_AUDIT_DIR, 0750) != 0 && errno != EEXIST) {
			fprintf(stderr, "kxd: %s: %s\n", ROOT_AUDIT_DIR, strerror(errno));
			return -1;
		}
		snprintf(audit_buf, size, "%s/audit.log", ROOT_AUDIT_DIR);
		d->audit_path = audit_buf;
	}
	if (!d->audit_path) {
		snprintf(audit_buf, size, "%s/audit.log", dir);
		d->audit_path = audit_buf;
	}
	if (!d->monitor) {
		ssize_t n = readlink("/proc/self/exe", tmp, sizeof(tmp) - 1);

		if (n <= 0) {
			fprintf(stderr, "kxd: cannot find kxmon: use --monitor\n");
			return -1;
		}
		tmp[n] = '\0';
		snprintf(mon_buf, size, "%s/kxmon", dirname(tmp));
		d->monitor = mon_buf;
	}
	return 0;
}

/* Bind the control socket: refuse when a kxd answers there, replace a stale
 * socket, never anything else.  Mode 0600 via the umask (no window). */
static int listen_socket(struct kxd *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd = -1, rc;

	if (strlen(d->socket_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "kxd: %s: path too long for a socket\n", d->socket_path);
		return -1;
	}
	memcpy(sa.sun_path, d->socket_path, strlen(d->socket_path) + 1);
	if (lstat(d->socket_path, &st) == 0) {
		int peer;

		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "kxd: %s exists and is not a socket\n", d->socket_path);
			return -1;
		}
		peer = kxd_connect(d->socket_path);
		if (peer >= 0) {
			close(peer);
			fprintf(stderr, "kxd: another kxd answers on %s\n", d->socket_path);
			return -1;
		}
		if (unlink(d->socket_path) != 0) {
			fprintf(stderr, "kxd: %s: stale socket: %s\n", d->socket_path,
				strerror(errno));
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0 || listen(fd, 16) != 0)
		goto fail;
	d->listen_fd = fd;
	return 0;
fail:
	fprintf(stderr, "kxd: %s: %s\n", d->socket_path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int open_policy(struct kxd *d)
{
	struct kxsig_pubkey admin, *adminp = NULL;
	struct kx_error err;
	int rc;

	if (kxsig_init() != 0) {
		fprintf(stderr, "kxd: cannot initialise libsodium\n");
		return -1;
	}
	if (d->admin_key) {
		if (kxsig_pubkey_load(d->admin_key, &admin, &err) != 0) {
			fprintf(stderr, "kxd: %s: %s\n", d->admin_key, err.msg);
			return -1;
		}
		adminp = &admin;
	}
	rc = kxp_open_file(d->policy_path, adminp, &d->policy, &err);
	if (rc != 0) { /* the reader's message names the file */
		fprintf(stderr, "kxd: %s\n", err.msg);
		return -1;
	}
	rc = gate_open(d->policy, d->audit_path, NULL, &d->gate, &err);
	if (rc != 0) {
		fprintf(stderr, "kxd: %s: %s\n", d->audit_path, err.msg);
		return -1;
	}
	return 0;
}

/* Background: the parent returns only when the socket is ready (so kxctl
 * can run `kxd` and then connect); the child logs to kxd.log beside the
 * socket. */
static int daemonize(struct kxd *d)
{
	char log_path[KXD_PATH_MAX + 16];
	pid_t pid = fork();
	int null_fd, log_fd;

	if (pid < 0) {
		fprintf(stderr, "kxd: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(EXIT_OK);
	setsid();
	snprintf(log_path, sizeof(log_path), "%s.log", d->socket_path);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (null_fd >= 0) {
		dup2(null_fd, STDIN_FILENO);
		dup2(null_fd, STDOUT_FILENO);
		dup2(log_fd >= 0 ? log_fd : null_fd, STDERR_FILENO);
		close(null_fd);
	}
	if (log_fd >= 0)
		close(log_fd);
	return 0;
}

static void handle_signals(struct kxd *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			kxd_reap(d);
		else
			d->stopping = true;
	}
}

enum { SLOT_LISTEN, SLOT_SIGNAL, SLOT_FIRST };
#define MAX_POLL (SLOT_FIRST + KXD_MAX_CLIENTS + KXD_MAX_PVMS)

static void serve(struct kxd *d)
{
	struct pollfd pfd[MAX_POLL];
	int owner[MAX_POLL]; /* client index, or -(pvm index)-1 */

	while (!d->stopping) {
		nfds_t n = SLOT_FIRST;

		pfd[SLOT_LISTEN] = (struct pollfd){ .fd = d->listen_fd, .events = POLLIN };
		pfd[SLOT_SIGNAL] = (struct pollfd){ .fd = d->signal_fd, .events = POLLIN };
		for (int i = 0; i < KXD_MAX_CLIENTS; i++)
			if (d->clients[i].fd >= 0) {
				owner[n] = i;
				pfd[n++] = (struct pollfd){ .fd = d->clients[i].fd, .events = POLLIN };
			}
		for (int i = 0; i < KXD_MAX_PVMS; i++)
			if (d->pvms[i].used && d->pvms[i].chan >= 0) {
				owner[n] = -i - 1;
				pfd[n++] = (struct pollfd){ .fd = d->pvms[i].chan, .events = POLLIN };
			}
		int ready = poll(pfd, n, kxd_pool_timeout(d)); /* pool.c: refills when idle */

		if (ready < 0) {
			if (errno == EINTR)
				continue;
			kxd_log("poll: %s", strerror(errno));
			break;
		}
		if (ready == 0) {
			kxd_pool_idle(d);
			continue;
		}
		if (pfd[SLOT_SIGNAL].revents)
			handle_signals(d);
		for (nfds_t i = SLOT_FIRST; i < n && !d->stopping; i++) {
			if (!pfd[i].revents)
				continue;
			if (owner[i] >= 0 && d->clients[owner[i]].fd == pfd[i].fd)
				kxd_client_readable(d, owner[i]);
			else if (owner[i] < 0 && d->pvms[-owner[i] - 1].chan == pfd[i].fd)
				kxd_chan_readable(d, &d->pvms[-owner[i] - 1]);
		}
		if (pfd[SLOT_LISTEN].revents && !d->stopping)
			kxd_client_accept(d);
	}
}

static void shutdown_all(struct kxd *d)
{
	for (int i = 0; i < KXD_MAX_PVMS; i++)
		if (d->pvms[i].used && d->pvms[i].pid > 0) {
			kxd_pvm_end(d, &d->pvms[i], "kxd stopped");
			while (waitpid(d->pvms[i].pid, NULL, 0) < 0 && errno == EINTR)
				;
			kxd_jail_gone(d, &d->pvms[i]); /* its cgroup */
			d->pvms[i].pid = 0;
		}
	for (int i = 0; i < KXD_MAX_CLIENTS; i++)
		if (d->clients[i].fd >= 0)
			kxd_client_close(d, i);
	for (int i = 0; i < KXD_MAX_PVMS; i++)
		if (d->pvms[i].used && d->pvms[i].chan >= 0)
			close(d->pvms[i].chan);
}

int main(int argc, char **argv)
{
	static struct kxd d; /* large: the registry and the store */
	char sock_buf[KXD_PATH_MAX], audit_buf[KXD_PATH_MAX], mon_buf[KXD_PATH_MAX];
	sigset_t mask;
	int rc = EXIT_FAIL;

	d.listen_fd = d.signal_fd = -1;
	d.next_id = 1;
	d.next_seq = 1;
	d.pool_max = -1; /* the policy's pool sizes */
	d.owner = geteuid();
	d.jail_lo = JAIL_IDS_DEFAULT_LO;
	d.jail_hi = JAIL_IDS_DEFAULT_HI;
	for (int i = 0; i < KXD_MAX_CLIENTS; i++)
		d.clients[i].fd = -1;
	if (parse_options(&d, argc, argv) != 0)
		return EXIT_USAGE;
	if (make_dirs(&d, sock_buf, audit_buf, mon_buf, sizeof(sock_buf)) != 0 ||
	    open_policy(&d) != 0 || listen_socket(&d) != 0 || kxd_pool_open(&d) != 0)
		goto out;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!d.foreground && daemonize(&d) != 0)
		goto out;
	/* Forked pVMs (kxmons forked twice by their parent's) become ours to reap. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
		kxd_log("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
		goto out;
	}
	d.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d.signal_fd < 0) {
		kxd_log("signalfd: %s", strerror(errno));
		goto out;
	}
	kxd_log("serving %s (policy %s, audit log %s)", d.socket_path, d.policy_path,
		d.audit_path);
	if (!d.no_jail)
		jail_cgroup_sweep(); /* the groups of kxds and kxmons that are gone */
	kxd_pool_fill(&d); /* pool.c: the empty pVMs of every recycle pool */
	serve(&d);
	/* no new client from here on: a kxd started next finds no one answering */
	close(d.listen_fd);
	d.listen_fd = -1;
	unlink(d.socket_path);
	shutdown_all(&d);
	kxd_log("stopped");
	rc = EXIT_OK;
out:
	if (d.listen_fd >= 0) {
		close(d.listen_fd);
		unlink(d.socket_path);
	}
	if (d.signal_fd >= 0)
		close(d.signal_fd);
	kxd_store_close(&d);
	kxd_pool_close(&d);
	kxd_ipc_close(&d);
	gate_close(d.gate);
	kxp_close(d.policy);
	return rc;
}
