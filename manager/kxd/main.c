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
	/* the audit log (audit.c) */
	{ "audit-log", 'a', "PATH", "audit log (default: /var/log/kx, ~/.local/state/kx; see kxd(8))" },
	{ "audit-key", 'K', "PATH", "seal key, made at first start (default: audit-seal.key beside the log)" },
	{ "audit-seal", 'E', "SECS", "seal the log's chain every SECS s when written (default 60)" },
	{ "audit-sync", 'Y', "MODE", "always, group (default) or interval=MS: see kxd(8)" },
	{ "audit-rate", 'R', "R[/B]", "per family, R refused guest requests a second (allowed: 10R), B at once (20/100)" },
	{ "monitor", 'm', "PATH", "the kxmon to run (default: kxmon beside kxd)" },
	{ "backend", 'b', "NAME", "the hypervisor every pVM runs on: kvm (default), xen" },
	{ "foreground", 'f', NULL, "stay in the foreground, log to stderr" },
	{ "pool-image", 'i', "KXE", "recycle pools: the signed placeholder image (kxpool)" },
	{ "pool-max", 'n', "N", "at most N pooled pVMs per app (0: no pools)" },
	{ "pvm-timeout", 't', "SECS", "end each pVM after SECS s (a fork: its parent's deadline)" },
	/* the policy (policy.c) */
	{ "serial-file", 'N', "PATH", "highest policy serial loaded (default: beside the audit log)" },
	{ "jail-ids", 'j', "LO-HI", "the monitors' uids/gids (default 1879048192-1879113727)" },
	{ "no-jail", 'J', NULL, "UNSAFE, debugging only: monitors run unjailed, as kxd" },
	{ "net-netns", 'W', "NAME", "create pVMs' TAPs in this network namespace" },
	{ "net-bridge", 'B', "BR", "add pVMs' TAPs to this bridge (else: routed)" },
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

/* One line per message, whatever it quotes: names and reasons may come from
 * guests and files, so a newline, any other control byte, a byte beyond
 * ASCII and the backslash itself are written as \xNN (kx_dlopen("lib\nALLOW
 * link fake") must not forge a line). */
void kxd_log(const char *fmt, ...)
{
	char msg[4096], out[sizeof("kxd: ") + 4 * sizeof(msg) + 1];
	size_t n = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = (size_t)snprintf(out, sizeof(out), "kxd: ");
	for (const unsigned char *c = (const unsigned char *)msg; *c != '\0'; c++) {
		if (*c < 0x20 || *c >= 0x7f || *c == '\\')
			n += (size_t)snprintf(out + n, sizeof(out) - n, "\\x%02x", *c);
		else
			out[n++] = (char)*c;
	}
	out[n++] = '\n';
	fwrite(out, 1, n, stderr);
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
		case 'K': d->audit_key_path = optarg; break;
		case 'E':
			if (kxd_audit_seal_parse(optarg, &d->audit_seal_ms) != 0) {
				fprintf(stderr, "kxd: --audit-seal: want 1..86400 seconds\n");
				return -1;
			}
			break;
		case 'R':
			if (kxd_audit_rate_parse(optarg, d) != 0) {
				fprintf(stderr, "kxd: --audit-rate: want R or R/B, 1..100000\n");
				return -1;
			}
			break;
		case 'Y':
			if (gate_sync_parse(optarg, &d->audit_opts) != 0) {
				fprintf(stderr, "kxd: --audit-sync: want always, group or "
					"interval=1..%d (ms)\n", GATE_SYNC_INTERVAL_MAX_MS);
				return -1;
			}
			break;
		case 'm': d->monitor = optarg; break;
		case 'b':
			if (optarg[0] == '\0' || strlen(optarg) >= GATE_BACKEND_MAX ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(optarg)) {
				fprintf(stderr, "kxd: --backend: want a backend's name (kvm, xen)\n");
				return -1;
			}
			d->backend = optarg; /* every kxmon's --backend; kxmon checks it */
			break;
		case 'f': d->foreground = true; break;
		case 'i': d->pool_image = optarg; break;
		case 'N': d->serial_path = optarg; break;
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
		case 'W': d->net_netns = optarg; break;
		case 'B': d->net_bridge = optarg; break;
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

/* The socket's directory holds what kxd creates by name (the socket, its
 * log, by default the audit log and the policy serial): someone else who
 * can write there could plant a symbolic link or a file in kxd's way.  It
 * must be a real directory (not a symbolic link), owned by kxd's uid, and
 * writable by nobody else. */
static int check_dir(const struct kxd *d, const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		fprintf(stderr, "kxd: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "kxd: %s: the socket's directory is %s\n", dir,
			S_ISLNK(st.st_mode) ? "a symbolic link" : "not a directory");
		return -1;
	}
	if (st.st_uid != d->owner) {
		fprintf(stderr, "kxd: %s: the socket's directory belongs to uid %u, not to kxd's "
			"uid %u\n", dir, (unsigned)st.st_uid, (unsigned)d->owner);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		fprintf(stderr, "kxd: %s: the socket's directory is writable by others (mode "
			"%03o): use a directory only kxd's uid can write\n", dir,
			(unsigned)(st.st_mode & 0777));
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
	if (check_dir(d, dir) != 0)
		return -1;
	/* audit.c: the kxd on the default socket (by hand or by kxctl run) keeps
	 * its log where it outlives a boot; one on a socket of its own, beside it */
	if (!d->audit_path && kxd_audit_default(d, dir, audit_buf, size) != 0)
		return -1;
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

/* Background: the parent returns only when the socket is ready (so kxctl
 * can run `kxd` and then connect); the child logs to kxd.log beside the
 * socket. */
static int daemonize(struct kxd *d)
{
	char log_path[KXD_PATH_MAX + 16];
	pid_t pid;
	int null_fd, log_fd;

	/* never through a symbolic link: O_NOFOLLOW; opened before the fork so
	 * that a refusal is the exit status kxctl run sees */
	snprintf(log_path, sizeof(log_path), "%s.log", d->socket_path);
	log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (log_fd < 0) {
		fprintf(stderr, "kxd: %s: %s\n", log_path, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "kxd: fork: %s\n", strerror(errno));
		close(log_fd);
		return -1;
	}
	if (pid > 0)
		_exit(EXIT_OK);
	setsid();
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd >= 0) {
		dup2(null_fd, STDIN_FILENO);
		dup2(null_fd, STDOUT_FILENO);
		dup2(log_fd, STDERR_FILENO);
		close(null_fd);
	}
	close(log_fd);
	return 0;
}

static void handle_signals(struct kxd *d)
{
	struct signalfd_siginfo si;
	char report[KXD_TEXT_MAX];

	while (read(d->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			kxd_reap(d);
		else if (si.ssi_signo == SIGHUP) { /* re-read the policy file (policy.c) */
			if (kxd_policy_reload(d, NULL, false, report, sizeof(report)) != 0)
				kxd_log("SIGHUP: policy not reloaded, the old one stays: %s", report);
		} else
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

		/* audit_commit.c: one flush for the decisions of the round
		 * before, then their answers */
		kxd_audit_durable(d);

		pfd[SLOT_LISTEN] = (struct pollfd){ .fd = d->listen_fd, .events = POLLIN };
		pfd[SLOT_SIGNAL] = (struct pollfd){ .fd = d->signal_fd, .events = POLLIN };
		for (int i = 0; i < KXD_MAX_CLIENTS; i++)
			if (d->clients[i].fd >= 0) {
				short ev = POLLIN | (kxd_client_pending(d, i) ? POLLOUT : 0);

				owner[n] = i;
				pfd[n++] = (struct pollfd){ .fd = d->clients[i].fd, .events = ev };
			}
		for (int i = 0; i < KXD_MAX_PVMS; i++)
			if (d->pvms[i].used && d->pvms[i].chan >= 0) {
				owner[n] = -i - 1;
				pfd[n++] = (struct pollfd){ .fd = d->pvms[i].chan, .events = POLLIN };
			}
		/* pool.c refills when idle; audit.c seals when due */
		int ready = poll(pfd, n,
				 kxd_audit_timeout(d, kxd_pvm_end_timeout(d, kxd_pool_timeout(d))));

		kxd_audit_tick(d); /* audit.c: a seal when due */
		kxd_pvm_end_tick(d); /* registry.c: a kxmon that did not end its pVM */

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
			if (owner[i] >= 0 && d->clients[owner[i]].fd == pfd[i].fd &&
			    (pfd[i].revents & POLLOUT))
				kxd_client_writable(d, owner[i]); /* control.c: queued answers */
			if (owner[i] >= 0 && d->clients[owner[i]].fd == pfd[i].fd &&
			    (pfd[i].revents & ~POLLOUT))
				kxd_client_readable(d, owner[i]);
			else if (owner[i] < 0 && d->pvms[-owner[i] - 1].chan == pfd[i].fd)
				kxd_chan_readable(d, &d->pvms[-owner[i] - 1]);
		}
		if (pfd[SLOT_LISTEN].revents && !d->stopping)
			kxd_client_accept(d);
	}
	kxd_audit_durable(d); /* the last round's answers (a STOP's) */
}

static void shutdown_all(struct kxd *d)
{
	for (int i = 0; i < KXD_MAX_PVMS; i++)
		if (d->pvms[i].used && d->pvms[i].pid > 0) {
			kxd_pvm_end_now(d, &d->pvms[i], "kxd stopped");
			while (waitpid(d->pvms[i].pid, NULL, 0) < 0 && errno == EINTR)
				;
			kxd_jail_gone(d, &d->pvms[i]); /* its cgroup */
			d->pvms[i].pid = 0;
		}
	for (int i = 0; i < KXD_MAX_PVMS; i++)
		if (d->pvms[i].used && d->pvms[i].chan >= 0)
			close(d->pvms[i].chan);
}

/*
 * Last of all: `kxctl stop` returns when its connection closes, so the
 * operator's next `kxctl audit verify` must find the closing records (the
 * suppressed counts, the seal) already written.  The pVMs are gone by now:
 * forgetting their clients ends nothing.
 */
static void close_clients(struct kxd *d)
{
	for (int i = 0; i < KXD_MAX_CLIENTS; i++)
		if (d->clients[i].fd >= 0)
			kxd_client_close(d, i);
}

int main(int argc, char **argv)
{
	static struct kxd d; /* large: the registry and the store */
	char sock_buf[KXD_PATH_MAX], audit_buf[KXD_PATH_MAX], mon_buf[KXD_PATH_MAX];
	char serial_buf[KXD_PATH_MAX];
	sigset_t mask;
	int rc = EXIT_FAIL;

	d.listen_fd = d.signal_fd = -1;
	d.next_id = 1;
	d.next_seq = 1;
	d.pool_max = -1; /* the policy's pool sizes */
	d.backend = "kvm";
	d.owner = geteuid();
	d.jail_lo = JAIL_IDS_DEFAULT_LO;
	d.jail_hi = JAIL_IDS_DEFAULT_HI;
	for (int i = 0; i < KXD_MAX_CLIENTS; i++)
		d.clients[i].fd = -1;
	if (parse_options(&d, argc, argv) != 0)
		return EXIT_USAGE;
	if (make_dirs(&d, sock_buf, audit_buf, mon_buf, sizeof(sock_buf)) != 0)
		goto out;
	if (kxd_serial_path(&d, serial_buf, sizeof(serial_buf)) != 0) {
		fprintf(stderr, "kxd: the serial file's path is too long: use --serial-file\n");
		goto out;
	}
	/* the socket first: a second kxd is told that one answers before it
	 * touches the first one's audit log (which it could not lock) */
	if (listen_socket(&d) != 0 || kxd_policy_start(&d) != 0 || kxd_pool_open(&d) != 0)
		goto out;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN); /* a file size limit: the audit write fails, closed */
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
	kxd_audit_close(&d); /* the closing seal */
	kxd_policy_close(&d);
	close_clients(&d);
	return rc;
}
