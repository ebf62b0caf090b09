/*
 * The pVM registry: boot (gate_boot, then a kxmon per pVM), the end of a
 * pVM (kill, reap) and who waits for it.
 *
 * Rules (docs/kxd.md): a pVM started by `kxctl run` lives as long as that
 * connection — when kxctl goes away (Ctrl-C, crash), kxd ends the pVM, so
 * no pVM outlives the terminal its console is on.  Every kxmon is started
 * with PR_SET_PDEATHSIG(SIGKILL): when kxd dies, its pVMs die with it.
 * Forked pVMs are kxmons forked twice by their parent's kxmon; kxd is a
 * subreaper (main.c), so they become its children, and a pVM's children
 * are ended when it ends (the orphan rule).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "manager/kxd/internal.h"

struct kxd_pvm *kxd_pvm_find(struct kxd *d, uint64_t id)
{
	for (int i = 0; i < KXD_MAX_PVMS; i++)
		if (d->pvms[i].used && d->pvms[i].id == id)
			return &d->pvms[i];
	return NULL;
}

void kxd_pvm_subject(const struct kxd_pvm *p, struct gate_subject *out)
{
	*out = (struct gate_subject){ .kind = GATE_SUBJECT_PVM, .pvm_id = p->id,
				      .app = p->app[0] ? p->app : NULL, /* "": an empty pVM */
				      .family_id = p->family_id, .depth = p->depth };
}

/* A free slot, or the one of the pVM that ended first. */
static struct kxd_pvm *new_slot(struct kxd *d)
{
	struct kxd_pvm *oldest = NULL;

	for (int i = 0; i < KXD_MAX_PVMS; i++) {
		struct kxd_pvm *p = &d->pvms[i];

		if (!p->used)
			return p;
		if (p->state == KXD_PVM_EXITED && p->client < 0 && !kxd_pvm_zombie(d, p) &&
		    (!oldest || p->id < oldest->id))
			oldest = p;
	}
	return oldest;
}

/* The app to boot as: the one asked for, or the name the image is signed
 * with (unverified here: gate_boot verifies it), or the file's stem. */
static void pick_app(const char *asked, const uint8_t *img, size_t len, const char *path,
		     char *app, size_t size)
{
	struct kxsig_meta meta;
	struct kx_error err;
	const char *base = strrchr(path, '/');
	size_t n;

	if (asked[0]) {
		snprintf(app, size, "%s", asked);
		return;
	}
	if (kxsig_read(img, len, &meta, &err) == 0 && meta.name[0]) {
		snprintf(app, size, "%s", meta.name);
		return;
	}
	base = base ? base + 1 : path;
	n = strcspn(base, ".");
	snprintf(app, size, "%.*s", (int)(n < size ? n : size - 1), base);
}

/* In the child: fds to their numbers (1, 2 console; 3 image; 4 channel),
 * then exec.  Never returns. */
static void exec_monitor(struct kxd *d, int out_fd, int err_fd, int img_fd, int chan_fd,
			 char *const *mon_argv)
{
	int src[4] = { out_fd, err_fd, img_fd, chan_fd }, high[4];
	int null_fd = open("/dev/null", O_RDONLY);
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(125);
	for (int i = 0; i < 4; i++)
		high[i] = src[i] >= 0 ? fcntl(src[i], F_DUPFD_CLOEXEC, 10) : -1;
	if (null_fd >= 0)
		dup2(null_fd, STDIN_FILENO);
	for (int i = 0; i < 4; i++)
		if (high[i] >= 0)
			dup2(high[i], i + 1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execv(d->monitor, mon_argv);
	dprintf(STDERR_FILENO, "kxd: %s: %s\n", d->monitor, strerror(errno));
	_exit(125);
}

struct kxd_pvm *kxd_pvm_slot(struct kxd *d)
{
	return new_slot(d);
}

int kxd_pvm_spawn(struct kxd *d, struct kxd_pvm *p, const char *app, int ci, int out_fd,
		  int err_fd, int img_fd, char *const *mon_argv, char *why, size_t whylen)
{
	static struct kxd_jail_args jail; /* big: the argv of one exec at a time */
	struct kxd_pvm next = { .id = d->next_id, .family_id = d->next_id };
	struct kxd_pvm_net net;
	int sp[2], rc;
	pid_t pid;

	rc = kxd_jail_argv(d, &next, app, mon_argv, &jail);
	if (rc != 0) {
		snprintf(why, whylen, "cannot prepare the pVM: too many arguments");
		return rc;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot prepare the pVM: %s", strerror(-rc));
		return rc;
	}
	kxd_net_spawn(d, d->next_id, app, sp[0], &net); /* network: the first message */
	/* the boot's record (and the network's) durable before the pVM runs */
	rc = kxd_audit_durable(d);
	if (rc != 0) {
		close(sp[0]);
		close(sp[1]);
		snprintf(why, whylen, "its audit record could not be made durable: %s",
			 strerror(-rc));
		return rc;
	}
	pid = fork();
	if (pid == 0)
		exec_monitor(d, out_fd, err_fd, img_fd, sp[1], jail.argv);
	rc = pid < 0 ? -errno : 0;
	close(sp[1]);
	if (pid < 0) {
		close(sp[0]);
		snprintf(why, whylen, "fork: %s", strerror(-rc));
		return rc;
	}
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->id = d->next_id++;
	snprintf(p->app, sizeof(p->app), "%s", app);
	p->pid = pid;
	p->chan = sp[0];
	fcntl(p->chan, F_SETFL, O_NONBLOCK);
	p->state = KXD_PVM_STARTING;
	p->started = time(NULL);
	p->status = -1;
	p->client = ci;
	p->push_client = -1;
	p->family_id = p->id;
	p->net = net;
	return 0;
}

int kxd_pvm_run(struct kxd *d, int ci, const char *asked_app, int image_fd, int out_fd,
		int err_fd, char *const *argv, char *const *env, struct kxd_pvm **out, char *why,
		size_t whylen)
{
	struct gate_subject op = { .kind = GATE_SUBJECT_OPERATOR, .uid = d->clients[ci].uid };
	char *mon_argv[KXD_ARGC_MAX + 2 * KXD_ENVC_MAX + 16];
	char app[KXD_APP_MAX], mem[32];
	struct gate_decision dec;
	struct kxp_app_info info;
	struct kxd_pvm *p = new_slot(d);
	uint8_t *img = NULL;
	size_t len = 0, na = 0;
	int memfd = -1, rc;

	if (!p) {
		snprintf(why, whylen, "too many pVMs (%d)", KXD_MAX_PVMS);
		return -EAGAIN;
	}
	rc = kxd_read_fd(image_fd, KXD_IMAGE_MAX, &img, &len);
	if (rc != 0) {
		snprintf(why, whylen, "%s: %s", argv[0],
			 rc == -EINVAL  ? "not a regular file"
			 : rc == -EFBIG ? "empty, or larger than 256 MiB"
					: strerror(-rc));
		goto out;
	}
	pick_app(asked_app, img, len, argv[0], app, sizeof(app));
	rc = gate_boot(d->gate, &op, app, img, len, &dec);
	if (rc != 0 || dec.verdict != KXP_ALLOW) {
		char what[KXD_APP_MAX + 16];

		snprintf(what, sizeof(what), "boot of %s", app);
		kxd_describe_denial(&dec, rc, what, why, whylen);
		rc = -EACCES;
		goto out;
	}
	if (kxp_app_lookup(d->policy, app, &info) != 0) {
		snprintf(why, whylen, "app %s: not in the policy", app);
		rc = -ENOENT;
		goto out;
	}
	memfd = kxd_sealed_memfd(app, img, len);
	if (memfd < 0) {
		rc = memfd;
		snprintf(why, whylen, "cannot prepare the pVM: %s", strerror(-rc));
		goto out;
	}
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)info.memory);
	mon_argv[na++] = (char *)d->monitor;
	mon_argv[na++] = (char *)"--channel";
	mon_argv[na++] = (char *)"4";
	mon_argv[na++] = (char *)"--image-fd";
	mon_argv[na++] = (char *)"3";
	mon_argv[na++] = (char *)"--image-name";
	mon_argv[na++] = argv[0];
	mon_argv[na++] = (char *)"-m";
	mon_argv[na++] = mem;
	mon_argv[na++] = (char *)"--backend";
	mon_argv[na++] = (char *)d->backend;
	if (d->pvm_timeout) {
		mon_argv[na++] = (char *)"--timeout";
		mon_argv[na++] = (char *)d->pvm_timeout;
	}
	for (size_t i = 0; env && env[i] && i < KXD_ENVC_MAX; i++) { /* posix-mon */
		mon_argv[na++] = (char *)"-e";
		mon_argv[na++] = env[i];
	}
	mon_argv[na++] = (char *)"--";
	for (size_t i = 1; argv[i]; i++)
		mon_argv[na++] = argv[i];
	mon_argv[na] = NULL;
	rc = kxd_pvm_spawn(d, p, app, ci, out_fd, err_fd, memfd, mon_argv, why, whylen);
	if (rc == 0)
		*out = p;
out:
	free(img);
	if (memfd >= 0)
		close(memfd);
	return rc;
}

void kxd_pvm_end_now(struct kxd *d, struct kxd_pvm *p, const char *why)
{
	(void)d;
	if (p->state == KXD_PVM_EXITED || p->pid <= 0)
		return;
	if (!p->report[0])
		snprintf(p->report, sizeof(p->report), "%s", why);
	kill(p->pid, SIGKILL);
}

/* A networked pVM's TCP stack is in its guest: killed outright, its
 * clients would wait for their own timeouts.  Its kxmon ends it on SIGTERM
 * as on its timeout, resetting what was open (manager/hv/net.c), then
 * sends EXIT; kxd keeps this report and the status of a kill (137). */
void kxd_pvm_end(struct kxd *d, struct kxd_pvm *p, const char *why)
{
	if (p->state == KXD_PVM_EXITED || p->pid <= 0)
		return;
	if (p->net.attached && !p->ending && !d->stopping) { /* a second end: at once */
		if (!p->report[0])
			snprintf(p->report, sizeof(p->report), "%s", why);
		clock_gettime(CLOCK_MONOTONIC, &p->ending_since);
		if (kill(p->pid, SIGTERM) == 0) {
			p->ending = true;
			return;
		}
	}
	kxd_pvm_end_now(d, p, why);
}

static long ending_left_ms(const struct kxd_pvm *p, const struct timespec *now)
{
	long waited_ms = (now->tv_sec - p->ending_since.tv_sec) * 1000 +
			 (now->tv_nsec - p->ending_since.tv_nsec) / 1000000;

	return waited_ms >= KXD_PVM_END_GRACE_MS ? 0 : KXD_PVM_END_GRACE_MS - waited_ms;
}

int kxd_pvm_end_timeout(struct kxd *d, int other)
{
	struct timespec now;
	long soonest = other;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (int i = 0; i < KXD_MAX_PVMS; i++) {
		const struct kxd_pvm *p = &d->pvms[i];
		long left;

		if (!p->used || !p->ending || p->ending_killed || p->state == KXD_PVM_EXITED ||
		    p->pid <= 0)
			continue;
		left = ending_left_ms(p, &now);
		if (soonest < 0 || left < soonest)
			soonest = left;
	}
	return (int)soonest;
}

void kxd_pvm_end_tick(struct kxd *d)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (int i = 0; i < KXD_MAX_PVMS; i++) {
		struct kxd_pvm *p = &d->pvms[i];

		if (p->used && p->ending && !p->ending_killed && p->state != KXD_PVM_EXITED &&
		    p->pid > 0 && ending_left_ms(p, &now) == 0) {
			kxd_log("pVM %llu (%s): its kxmon did not end it in %ld ms; killed",
				(unsigned long long)p->id, p->app, KXD_PVM_END_GRACE_MS);
			kill(p->pid, SIGKILL);
			p->ending_killed = true; /* once */
		}
	}
}

/* The orphan rule (docs/kxd.md): a pVM's descendants do not outlive it. */
static void end_children(struct kxd *d, const struct kxd_pvm *p)
{
	char why[KXMON_TEXT_MAX];

	snprintf(why, sizeof(why), "ended by kxd: its parent pVM %llu ended",
		 (unsigned long long)p->id);
	for (int i = 0; i < KXD_MAX_PVMS; i++) {
		struct kxd_pvm *c = &d->pvms[i];

		if (c->used && c->parent_id == p->id && c->state != KXD_PVM_EXITED)
			kxd_pvm_end(d, c, why);
	}
}

/* The pVM ended: read what is left on its channel (its EXIT), tell the
 * `kxctl run` waiting for it and a parent in kx_wait, end its children,
 * free the channel. */
static void ended(struct kxd *d, struct kxd_pvm *p, int wstatus)
{
	struct kxd_pvm *parent;
	/* An idle pool pVM that ended (killed, crashed) is replaced; one that
	 * died while booting is not, so a broken placeholder cannot loop. */
	bool idle_pool = p->pooled && p->state == KXD_PVM_POOLED;

	while (p->chan >= 0 && kxd_chan_readable(d, p) > 0)
		;
	kxd_jail_report(p, wstatus); /* before the report goes out */
	kxd_ipc_gone(d, p); /* its peers see it go (docs/ipc.md) */
	if (p->chan >= 0) {
		close(p->chan);
		p->chan = -1;
	}
	p->state = KXD_PVM_EXITED;
	if (p->ending) /* kxd_pvm_end: a kill, however its kxmon ended */
		wstatus = SIGKILL;
	p->ending = p->ending_killed = false;
	p->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	if (p->push_client >= 0)
		kxd_reply(d, p->push_client, KXD_RESP_ERROR, p, "pVM %llu ended during the link",
			  (unsigned long long)p->id);
	p->push_client = -1;
	kxd_update_ended(d, p);
	if (p->client >= 0) {
		int ci = p->client;

		p->client = -1;
		kxd_reply(d, ci, KXD_RESP_EXITED, p, "%s", p->report);
	}
	parent = p->parent_id ? kxd_pvm_find(d, p->parent_id) : NULL;
	if (parent && parent->wait_seq != 0 && parent->wait_child == p->id)
		kxd_wait_answer(d, parent, p);
	if (parent && parent->wait_seq != 0 && parent->wait_child == 0)
		kxd_wait_answer(d, parent, p); /* a wait for any child */
	kxd_sig_child_ended(d, p);
	end_children(d, p);
	if (idle_pool)
		kxd_pool_refill_later(d);
	kxd_jail_gone(d, p); /* its cgroup, once everyone waiting has the answer */
}

void kxd_pvm_ended(struct kxd *d, struct kxd_pvm *p, int wstatus)
{
	ended(d, p, wstatus);
}

void kxd_pvm_lost(struct kxd *d, struct kxd_pvm *p)
{
	if (!p->report[0])
		snprintf(p->report, sizeof(p->report), "ended by kxd: the forked child never started");
	ended(d, p, 125 << 8); /* as kxmon's EXIT_MONITOR */
}

/* A forked kxmon is kxd's child only by reparenting (kxd is a subreaper);
 * its pid arrives with its HELLO, which it sends before its guest runs:
 * reading the HELLOs waiting on forked channels names every such pid. */
static struct kxd_pvm *by_pid(struct kxd *d, pid_t pid)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < KXD_MAX_PVMS; i++) {
			struct kxd_pvm *p = &d->pvms[i];

			if (p->used && p->pid == pid && p->state != KXD_PVM_EXITED)
				return p;
		}
		for (int i = 0; pass == 0 && i < KXD_MAX_PVMS; i++) {
			struct kxd_pvm *p = &d->pvms[i];

			if (p->used && p->forked && p->pid == 0 && p->chan >= 0)
				kxd_chan_readable(d, p);
		}
	}
	return NULL;
}

void kxd_family_counts(const struct kxd *d, const struct kxd_pvm *parent,
		       struct gate_family_counts *out)
{
	*out = (struct gate_family_counts){ 0, 0 };
	for (int i = 0; i < KXD_MAX_PVMS; i++) {
		const struct kxd_pvm *p = &d->pvms[i];

		/* an ended child not yet waited for still counts (a zombie) */
		if (!p->used || (p->state == KXD_PVM_EXITED && !kxd_pvm_zombie(d, p)))
			continue;
		if (p->parent_id == parent->id)
			out->children++;
		if (p->family_id == parent->family_id)
			out->members++;
	}
}

int kxd_pvm_fork(struct kxd *d, struct kxd_pvm *parent, struct kxd_pvm **child, int *child_fd,
		 char *why, size_t whylen)
{
	struct kxd_pvm *p = new_slot(d);
	int sp[2];

	if (!p) {
		snprintf(why, whylen, "too many pVMs (%d)", KXD_MAX_PVMS);
		return -EAGAIN;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
		snprintf(why, whylen, "socketpair: %s", strerror(errno));
		return -EAGAIN;
	}
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->id = d->next_id++;
	snprintf(p->app, sizeof(p->app), "%s", parent->app);
	p->chan = sp[0];
	fcntl(p->chan, F_SETFL, O_NONBLOCK);
	/* kxd did not fork this monitor: the kernel names the process that
	 * says HELLO on this channel (chan.c hello), not the message */
	if (setsockopt(p->chan, SOL_SOCKET, SO_PASSCRED, &(int){1}, sizeof(int)) != 0) {
		snprintf(why, whylen, "SO_PASSCRED: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		memset(p, 0, sizeof(*p));
		return -EAGAIN;
	}
	p->state = KXD_PVM_STARTING;
	p->started = time(NULL);
	p->status = -1;
	p->client = -1;
	p->push_client = -1;
	memcpy(p->libs, parent->libs, sizeof(p->libs)); /* the child has what the parent had */
	p->nlibs = parent->nlibs;
	p->parent_id = parent->id;
	p->family_id = parent->family_id;
	p->depth = parent->depth + 1;
	p->forked = true;
	*child = p;
	*child_fd = sp[1];
	return 0;
}

void kxd_reap(struct kxd *d)
{
	int wstatus;
	pid_t pid;

	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		struct kxd_pvm *p = by_pid(d, pid);

		if (p)
			ended(d, p, wstatus);
	}
}

void kxd_pvm_forget_client(struct kxd *d, int ci)
{
	for (int i = 0; i < KXD_MAX_PVMS; i++) {
		struct kxd_pvm *p = &d->pvms[i];

		if (!p->used)
			continue;
		if (p->push_client == ci)
			p->push_client = -1;
		kxd_update_forget_client(p, ci);
		if (p->client == ci) {
			p->client = -1;
			kxd_pvm_end(d, p, "its kxctl run went away");
		}
	}
}
