/*
 * kxctl run: boot an image in a pVM through kxd, in the foreground.  When
 * no kxd answers on the socket, start one with the options given (kxd
 * returns once its socket is ready).  The pVM's console is this terminal:
 * kxctl hands its own stdout and stderr to kxd with the image (SCM_RIGHTS),
 * and kxmon writes to them directly.  kxctl then waits for the end and
 * exits with the app's status.  If kxctl goes away first, kxd ends the pVM.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manager/kxctl/kxctl.h"

#define MAX_LIBDIRS 16

struct run_opts {
	const char *policy, *admin_key, *socket, *app, *kxd;
	const char *libdirs[MAX_LIBDIRS];
	size_t nlibdirs;
	bool recycle; /* --recycle: an app library into a pooled pVM */
	char *env[KXD_ENVC_MAX]; /* posix-mon: -e NAME=VALUE */
	int nenv;
};

/* The kxd beside this kxctl, unless --kxd says otherwise. */
static int kxd_path(const struct run_opts *o, char *buf, size_t size)
{
	char self[KXD_PATH_MAX];
	ssize_t n;

	if (o->kxd) {
		snprintf(buf, size, "%s", o->kxd);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	snprintf(buf, size, "%s/kxd", dirname(self));
	return 0;
}

/* Start kxd in the background with our options; it returns when ready. */
static int start_kxd(const struct run_opts *o, const char *sock)
{
	char path[KXD_PATH_MAX];
	const char *argv[8 + 2 * MAX_LIBDIRS];
	size_t n = 0;
	int status;
	pid_t pid;

	if (!o->policy) {
		fprintf(stderr, "kxctl: no kxd answers on %s; give --policy to start one\n", sock);
		return -1;
	}
	if (kxd_path(o, path, sizeof(path)) != 0) {
		fprintf(stderr, "kxctl: cannot find kxd: use --kxd\n");
		return -1;
	}
	argv[n++] = path;
	argv[n++] = "--policy";
	argv[n++] = o->policy;
	argv[n++] = "--socket";
	argv[n++] = sock;
	if (o->admin_key) {
		argv[n++] = "--admin-key";
		argv[n++] = o->admin_key;
	}
	for (size_t i = 0; i < o->nlibdirs; i++) {
		argv[n++] = "--libdir";
		argv[n++] = o->libdirs[i];
	}
	argv[n] = NULL;
	pid = fork();
	if (pid < 0) {
		perror("kxctl: fork");
		return -1;
	}
	if (pid == 0) {
		execv(path, (char *const *)argv);
		fprintf(stderr, "kxctl: %s: %s\n", path, strerror(errno));
		_exit(KXCTL_EXIT_USAGE);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	/* kxd said why it did not start; if it lost a race with another
	 * kxctl run starting one, that one answers and the run goes on */
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int parse(const struct kxctl_cmd *cmd, int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'P' },
		{ "libdir", required_argument, NULL, 'L' },
		{ "admin-key", required_argument, NULL, 'k' },
		{ "socket", required_argument, NULL, 'S' },
		{ "app", required_argument, NULL, 'a' },
		{ "kxd", required_argument, NULL, 'x' },
		{ "recycle", no_argument, NULL, 'r' },
		{ "env", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+P:L:k:S:a:x:e:", longopts, NULL)) != -1) {
		switch (c) {
		case 'P': o->policy = optarg; break;
		case 'k': o->admin_key = optarg; break;
		case 'S': o->socket = optarg; break;
		case 'a': o->app = optarg; break;
		case 'x': o->kxd = optarg; break;
		case 'r': o->recycle = true; break;
		case 'e': /* posix-mon: the pVM's environment */
			if (optarg[0] == '=' || !strchr(optarg, '=') || o->nenv == KXD_ENVC_MAX) {
				fprintf(stderr, "kxctl: -e wants NAME=VALUE (at most %u)\n",
					KXD_ENVC_MAX);
				return -1;
			}
			o->env[o->nenv++] = optarg;
			break;
		case 'L':
			if (o->nlibdirs == MAX_LIBDIRS) {
				fprintf(stderr, "kxctl: at most %d --libdir\n", MAX_LIBDIRS);
				return -1;
			}
			o->libdirs[o->nlibdirs++] = optarg;
			break;
		default: return -1;
		}
	}
	if (optind >= argc) {
		kxctl_usage(cmd, stderr);
		return -1;
	}
	return optind;
}

/* IMAGE [ARG...], then the environment, into the request's argument vector. */
static int pack_args(struct kxd_req *req, int argc, char **argv, int nenv, char **env)
{
	size_t used = 0;

	if (argc > KXD_ARGC_MAX) {
		fprintf(stderr, "kxctl: at most %d arguments\n", KXD_ARGC_MAX);
		return -1;
	}
	for (int i = 0; i < argc + nenv; i++) {
		const char *s = i < argc ? argv[i] : env[i - argc];
		size_t n = strlen(s) + 1;

		if (n > sizeof(req->args) - used) {
			fprintf(stderr, "kxctl: arguments longer than %d bytes\n", KXD_ARGS_MAX);
			return -1;
		}
		memcpy(req->args + used, s, n);
		used += n;
	}
	req->argc = (uint32_t)argc;
	req->args_len = (uint32_t)used;
	return 0;
}

int kxctl_run(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	struct run_opts o = { 0 };
	struct kxd_req req;
	struct kxd_resp resp;
	char sock[KXD_PATH_MAX];
	int first, fd = -1, fds[3] = { -1, STDOUT_FILENO, STDERR_FILENO };
	int rc = KXCTL_EXIT_USAGE;
	bool started = false;

	first = parse(cmd, argc, argv, &o);
	if (first < 0 || kxctl_socket_path(o.socket, sock, sizeof(sock)) != 0)
		return KXCTL_EXIT_USAGE;
	kxctl_req_init(&req, KXD_REQ_RUN);
	req.flags = o.recycle ? KXD_RUN_RECYCLE : 0;
	if (o.app && strlen(o.app) >= sizeof(req.app)) {
		fprintf(stderr, "kxctl: app name too long\n");
		return KXCTL_EXIT_USAGE;
	}
	snprintf(req.app, sizeof(req.app), "%s", o.app ? o.app : "");
	if (o.nenv > 0 && o.recycle) {
		fprintf(stderr, "kxctl: -e does not go with --recycle (the pool's pVM exists)\n");
		return KXCTL_EXIT_USAGE;
	}
	if (o.nenv > 0)
		req.flags = KXD_RUN_ENV;
	if (pack_args(&req, argc - first, argv + first, o.nenv, o.env) != 0)
		return KXCTL_EXIT_USAGE;
	fds[0] = open(argv[first], O_RDONLY | O_CLOEXEC);
	if (fds[0] < 0) {
		fprintf(stderr, "kxctl: %s: %s\n", argv[first], strerror(errno));
		goto out;
	}
	fd = kxd_connect(sock);
	if (fd == -ENOENT || fd == -ECONNREFUSED) {
		started = start_kxd(&o, sock) == 0;
		if (!started && !o.policy)
			goto out;
		fd = kxd_connect(sock);
	}
	if (fd < 0) {
		fprintf(stderr, "kxctl: %s: %s\n", sock, strerror(-fd));
		goto out;
	}
	/* a kxd that was already there must enforce the policy asked for */
	if (o.policy && !started && kxctl_policy_matches(fd, o.policy, sock) != 0)
		goto out;
	if (kxctl_request(fd, &req, fds, 3) != 0 || kxctl_answer(fd, &resp) != 0)
		goto out;
	close(fds[0]);
	fds[0] = -1;
	if (resp.type == KXD_RESP_ERROR) {
		fprintf(stderr, "kxctl: %s\n", resp.text);
		rc = KXCTL_EXIT_REJECTED;
		goto out;
	}
	if (resp.type != KXD_RESP_STARTED || kxctl_answer(fd, &resp) != 0)
		goto out;
	if (resp.type != KXD_RESP_EXITED) {
		fprintf(stderr, "kxctl: unexpected answer from kxd (%u)\n", resp.type);
		goto out;
	}
	/* kxmon reports a fault itself, on the console; kxd's own reasons
	 * (killed, malformed channel) are said here */
	if (resp.status >= 128 && resp.text[0])
		fprintf(stderr, "kxctl: pVM %llu: %s\n", (unsigned long long)resp.pvm_id, resp.text);
	rc = resp.status >= 0 && resp.status <= 255 ? resp.status : KXCTL_EXIT_USAGE;
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fd >= 0)
		close(fd);
	return rc;
}
