/*
 * kxd's audit plumbing: the seal key (generated at the first start, kept
 * beside the log), the gate's log opened with it, a seal of the chain every
 * --audit-seal seconds when records were written and at stop, and rotation
 * on request (KXD_REQ_AUDIT_ROTATE), the default log's place, and the rate
 * limit of each pVM's audited requests.  The chain, its seals and the
 * records are the gate's (manager/gate/audit_*.c); docs/audit-log.md.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "manager/kxd/internal.h"

#define SEAL_COMMENT "kxd audit seal key"

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000L + (now.tv_nsec - t->tv_nsec) / 1000000L;
}

int kxd_audit_seal_parse(const char *arg, long *ms)
{
	char *end;
	long secs;

	errno = 0;
	secs = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || secs < 1 || secs > 86400)
		return -EINVAL;
	*ms = secs * 1000L;
	return 0;
}

/* mkdir -p of an absolute path, each new level `mode`. */
static int make_path(const char *path, mode_t mode)
{
	char tmp[KXD_PATH_MAX];

	if (strlen(path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	strcpy(tmp, path);
	for (char *s = tmp + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return -errno;
		if (c == '\0')
			return 0;
		*s = c;
	}
}

int kxd_audit_default(struct kxd *d, const char *sock_dir, char *buf, size_t size)
{
	char def[KXD_PATH_MAX], dir[KXD_PATH_MAX];
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int rc = 0, n;

	if (kxd_default_socket(def, sizeof(def)) != 0 || strcmp(def, d->socket_path) != 0) {
		n = snprintf(dir, sizeof(dir), "%s", sock_dir); /* a kxd of its own */
	} else if (d->owner == 0) {
		n = snprintf(dir, sizeof(dir), "%s", KXD_AUDIT_ROOT_DIR);
	} else if (state != NULL && state[0] == '/') {
		n = snprintf(dir, sizeof(dir), "%s/kx", state);
	} else if (home != NULL && home[0] == '/') {
		n = snprintf(dir, sizeof(dir), "%s/.local/state/kx", home);
	} else {
		fprintf(stderr, "kxd: no default audit log (HOME and XDG_STATE_HOME unset): "
			"use --audit-log\n");
		return -1;
	}
	if (n >= 0 && (size_t)n < sizeof(dir))
		rc = make_path(dir, d->owner == 0 ? 0750 : 0700);
	if (n >= 0 && (size_t)n < sizeof(dir))
		n = snprintf(buf, size, "%s/audit.log", dir);
	if (rc != 0 || n < 0 || (size_t)n >= size) {
		fprintf(stderr, "kxd: default audit log in %.*s: %s: use --audit-log\n",
			(int)sizeof(dir), dir, rc != 0 ? strerror(-rc) : "path too long");
		return -1;
	}
	d->audit_path = buf;
	return 0;
}

/* The key's paths: --audit-key, or audit-seal.key beside the log; the public
 * half is the same name with .pub. */
static int key_paths(struct kxd *d, char *sec, char *pub, size_t size)
{
	char tmp[KXD_PATH_MAX];
	size_t n;
	int w;

	if (d->audit_key_path != NULL) {
		w = snprintf(sec, size, "%s", d->audit_key_path);
	} else {
		if (strlen(d->audit_path) >= sizeof(tmp))
			return -ENAMETOOLONG;
		strcpy(tmp, d->audit_path);
		w = snprintf(sec, size, "%s/audit-seal.key", dirname(tmp));
	}
	if (w < 0 || (size_t)w >= size)
		return -ENAMETOOLONG;
	n = strlen(sec);
	if (n > 4 && strcmp(sec + n - 4, ".key") == 0)
		n -= 4;
	w = snprintf(pub, size, "%.*s.pub", (int)n, sec);
	return w < 0 || (size_t)w >= size ? -ENAMETOOLONG : 0;
}

/* Load kxd's seal key, or make one (atomically, both halves) at the first start. */
static int seal_key(struct kxd *d)
{
	char sec[KXD_PATH_MAX], pub[KXD_PATH_MAX], hex[2 * KXSIG_KEYID_BYTES + 1];
	uint8_t keyid[KXSIG_KEYID_BYTES];
	struct kx_error err;
	bool made = false;
	int rc;

	if (key_paths(d, sec, pub, sizeof(sec)) != 0) {
		fprintf(stderr, "kxd: audit seal key: path too long\n");
		return -1;
	}
	if (access(sec, F_OK) != 0 && errno == ENOENT) {
		rc = kxsig_keygen(pub, sec, SEAL_COMMENT, KXSIG_KEYGEN_NO_PASSPHRASE, keyid, &err);
		if (rc != 0) {
			fprintf(stderr, "kxd: audit seal key %s: %s\n", sec, err.msg);
			return -1;
		}
		made = true;
	}
	rc = kxsig_seckey_open(sec, &d->seal_key, &err);
	if (rc != 0) {
		fprintf(stderr, "kxd: audit seal key %s: %s\n", sec, err.msg);
		return -1;
	}
	kxsig_seckey_keyid(d->seal_key, keyid);
	kxsig_keyid_hex(keyid, hex);
	if (made)
		fprintf(stderr, "kxd: new audit seal key %s: public half %s\n", hex, pub);
	snprintf(d->seal_keyid, sizeof(d->seal_keyid), "%s", hex);
	return 0;
}

int kxd_audit_open(struct kxd *d)
{
	struct gate_opts opts = d->audit_opts;
	struct kx_error err;

	opts.backend = d->backend; /* named in every record */
	if (d->audit_seal_ms == 0)
		d->audit_seal_ms = KXD_AUDIT_SEAL_MS;
	if (d->audit_rate == 0) {
		d->audit_rate = KXD_AUDIT_RATE;
		d->audit_burst = KXD_AUDIT_BURST;
	}
	clock_gettime(CLOCK_MONOTONIC, &d->suppress_flushed);
	if (seal_key(d) != 0)
		return -1;
	opts.seal_key = d->seal_key;
	/* a kxd that was just told to stop may still be closing this log */
	for (int tries = 0;; tries++) {
		int rc = gate_open(d->policy, d->audit_path, &opts, &d->gate, &err);
		struct timespec pause = { 0, 100000000L };

		if (rc == 0)
			break;
		if (rc != -EBUSY || tries == KXD_AUDIT_LOCK_TRIES) {
			fprintf(stderr, "kxd: %s: %s\n", d->audit_path, err.msg);
			return -1;
		}
		nanosleep(&pause, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &d->sealed_at);
	gate_audit_hold(d->gate, true); /* group commit in the loop: audit_commit.c */
	return 0;
}

static bool any_suppressed(const struct kxd *d);
static void flush_all_suppressed(struct kxd *d, bool now);

/* The poll timeout: `other`, or less when a seal or a suppressed count is due. */
int kxd_audit_timeout(struct kxd *d, int other)
{
	struct gate_audit_stats st = { 0 };
	long left = -1, s;

	if (d->gate != NULL)
		gate_audit_stats(d->gate, &st);
	if (st.unsealed > 0) {
		left = d->audit_seal_ms - ms_since(&d->sealed_at);
		left = left < 0 ? 0 : left;
	}
	if (any_suppressed(d)) {
		s = KXD_AUDIT_SUPPRESS_MS - ms_since(&d->suppress_flushed);
		s = s < 0 ? 0 : s;
		left = left < 0 || s < left ? s : left;
	}
	if (left < 0)
		return other;
	return other >= 0 && other < left ? other : (int)left;
}

void kxd_audit_tick(struct kxd *d)
{
	struct kx_error err;

	flush_all_suppressed(d, false);
	if (d->gate == NULL || ms_since(&d->sealed_at) < d->audit_seal_ms)
		return;
	if (gate_seal(d->gate, GATE_SEAL_INTERVAL, &err) != 0)
		kxd_log("%s", err.msg); /* tried again at the next interval */
	clock_gettime(CLOCK_MONOTONIC, &d->sealed_at);
}

void kxd_audit_rotate(struct kxd *d, int ci)
{
	struct kx_error err;

	if (gate_rotate(d->gate, &err) != 0) {
		kxd_log("audit rotate: %s", err.msg);
		kxd_reply(d, ci, KXD_RESP_ERROR, NULL, "%s", err.msg);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &d->sealed_at);
	kxd_log("audit log %s: sealed and reopened", d->audit_path);
	kxd_reply(d, ci, KXD_RESP_OK, NULL, "%s", d->audit_path);
}

void kxd_audit_close(struct kxd *d)
{
	struct gate_audit_stats st = { 0 };
	struct kx_error err;

	kxd_audit_commit_close(d); /* what waited for a flush goes out first */
	flush_all_suppressed(d, true);
	if (d->gate != NULL) {
		gate_audit_stats(d->gate, &st);
		/* the figure of group commit (tests/cli/kxd-audit.bats) */
		kxd_log("audit log %s: %llu records, %llu flushes", d->audit_path,
			(unsigned long long)st.records, (unsigned long long)st.flushes);
	}
	if (d->gate != NULL && gate_seal(d->gate, GATE_SEAL_CLOSE, &err) != 0)
		kxd_log("%s", err.msg);
	gate_close(d->gate);
	d->gate = NULL;
	kxsig_seckey_free(d->seal_key);
	d->seal_key = NULL;
}

/* ---- the rate of a pVM's audited requests ------------------------------------------ */

/*
 * A guest that loops on a refused kx_dlopen would otherwise write a record
 * per call until the disk is full, and then every decision on the host is
 * refused.  Each family gets a token bucket, kept on its root (--audit-rate
 * R/B: R tokens a second, at most B; the app's `audit: {rate, burst}` in
 * the policy lowers them: kxd_audit_rate_of).  Every refusal the gate gives
 * to a guest request of one of its pVMs (link, fork, IpC object, signal: a
 * DENY record) costs one token, every allowed one a tenth
 * (KXD_AUDIT_ALLOW_COST): a pVM may make ten times as many objects as it
 * may be refused, but a loop of allowed requests (pipe and close, signals
 * to two pVMs in turn) no longer writes a record per turn forever — a
 * review finding, as was a bucket per pVM, which a parent multiplied by
 * forking children that arrived full.  With no token left, the family's
 * audited requests are refused at once, without the gate, with an error for
 * the guest, and counted per pVM; the count goes into one "suppressed"
 * record when there are tokens again, every KXD_AUDIT_SUPPRESS_MS while it
 * floods, and when kxd stops.  `kxctl list` shows the total.  Links of the
 * image's own DT_NEEDED tree at boot are neither charged nor refused: the
 * signed image bounds them (and kxd takes a request marked "at boot" only
 * before the mounts, at most KXD_BOOT_LINKS_MAX: chan.c's
 * boot_link_expected).  Nor are host-directory mounts (files.c): kxd
 * takes them only while the pVM boots, in order, once each (chan.c's
 * mount_expected), so the policy's rules bound them.
 */

int kxd_audit_rate_parse(const char *arg, struct kxd *d)
{
	char *end;
	unsigned long rate, burst;

	errno = 0;
	rate = strtoul(arg, &end, 10);
	burst = rate;
	if (errno == 0 && *end == '/')
		burst = strtoul(end + 1, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || rate < 1 || rate > 100000 || burst < 1 ||
	    burst > 100000)
		return -EINVAL;
	d->audit_rate = (unsigned)rate;
	d->audit_burst = (unsigned)burst;
	return 0;
}

static bool audited_request(const struct kxmon_msg *m)
{
	return (m->type == KXMON_MSG_LINK_REQ && !m->u.link_req.at_boot) ||
	       m->type == KXMON_MSG_FORK_REQ || m->type == KXMON_MSG_KILL_REQ ||
	       (m->type == KXMON_MSG_IPC_REQ && m->u.ipc_req.op == KXMON_IPC_GET);
}

/* The pVM's bucket: its app's `audit: {rate, burst}` from the policy,
 * each at most kxd's --audit-rate (the host's ceiling), or --audit-rate
 * itself when the manifest sets none (or the pVM has no app yet: pooled).
 * Read at each request: a reloaded policy applies at once. */
void kxd_audit_rate_of(const struct kxd *d, const struct kxd_pvm *p, unsigned *rate,
		       unsigned *burst)
{
	struct kxp_app_info info;

	*rate = d->audit_rate;
	*burst = d->audit_burst;
	if (d->policy == NULL || p->app[0] == '\0' || kxp_app_lookup(d->policy, p->app, &info) != 0 ||
	    info.audit_rate == 0)
		return;
	if (info.audit_rate < *rate)
		*rate = info.audit_rate;
	if (info.audit_burst < *burst)
		*burst = info.audit_burst;
}

static void refill(struct kxd *d, struct kxd_pvm *p)
{
	struct timespec now;
	unsigned rate, burst;
	double add;

	kxd_audit_rate_of(d, p, &rate, &burst);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->audit_refill.tv_sec == 0 && p->audit_refill.tv_nsec == 0) {
		p->audit_tokens = burst; /* a new pVM starts full */
	} else {
		add = (double)(now.tv_sec - p->audit_refill.tv_sec) +
		      (double)(now.tv_nsec - p->audit_refill.tv_nsec) / 1e9;
		p->audit_tokens += add * rate;
		if (p->audit_tokens > burst)
			p->audit_tokens = burst;
	}
	p->audit_refill = now;
}

/* The suppressed count into the log; kept for later when it cannot be written. */
static void flush_suppressed(struct kxd *d, struct kxd_pvm *p)
{
	struct gate_subject self;
	unsigned rate, burst;
	char why[128];

	if (p->audit_suppressed == 0 || d->gate == NULL)
		return;
	kxd_pvm_subject(p, &self);
	kxd_audit_rate_of(d, p, &rate, &burst);
	snprintf(why, sizeof(why), "pVM %llu was over its audit rate (%u a second, at most %u)",
		 (unsigned long long)p->id, rate, burst);
	if (gate_audit_suppressed(d->gate, &self, p->audit_suppressed, why) == 0)
		p->audit_suppressed = 0;
}

/* Refuse `in` without asking the gate: an error for the guest. */
static void refuse(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	static const char why[] = "refused: over the pVM's audit rate (its manifest's 'audit', "
				  "at most kxd --audit-rate)";
	struct kxmon_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.size = sizeof(msg);
	msg.seq = in->seq;
	switch (in->type) {
	case KXMON_MSG_LINK_REQ:
		msg.type = KXMON_MSG_LINK_RESP;
		snprintf(msg.u.link.name, sizeof(msg.u.link.name), "%s", in->u.link_req.name);
		snprintf(msg.u.link.reason, sizeof(msg.u.link.reason), "%s", why);
		break;
	case KXMON_MSG_FORK_REQ:
		msg.type = KXMON_MSG_FORK_RESP;
		msg.u.fork.error = -EAGAIN;
		snprintf(msg.u.fork.reason, sizeof(msg.u.fork.reason), "%s", why);
		break;
	case KXMON_MSG_IPC_REQ:
		msg.type = KXMON_MSG_IPC_RESP;
		msg.u.ipc_resp.result = -EAGAIN;
		snprintf(msg.u.ipc_resp.reason, sizeof(msg.u.ipc_resp.reason), "%s", why);
		break;
	default: /* KILL_REQ: the channel admits -EACCES */
		msg.type = KXMON_MSG_KILL_RESP;
		msg.u.sig = in->u.sig;
		msg.u.sig.result = -EACCES;
		break;
	}
	if (kxd_chan_send(d, p, &msg, sizeof(msg), NULL, 0) != 0)
		kxd_pvm_end(d, p, "ended by kxd: cannot answer on its channel");
}

/* Whose bucket p's requests draw on: its family's root's (alive as long as
 * any member: no pVM outlives its parent), p's own when it is the root. */
static struct kxd_pvm *bucket_of(struct kxd *d, struct kxd_pvm *p)
{
	struct kxd_pvm *root = p->family_id != p->id ? kxd_pvm_find(d, p->family_id) : NULL;

	return root != NULL ? root : p;
}

static void audit_counts(struct kxd *d, uint64_t *records, uint64_t *denied)
{
	struct gate_audit_stats st = { 0 };

	if (d->gate != NULL)
		gate_audit_stats(d->gate, &st);
	*records = st.records;
	*denied = st.denials;
}

bool kxd_audit_limited(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	struct kxd_pvm *b;

	if (!audited_request(in))
		return false;
	b = bucket_of(d, p);
	refill(d, b);
	if (b->audit_tokens >= 1.0) {
		flush_suppressed(d, p); /* the flood is over: say how big it was */
		audit_counts(d, &d->records_before, &d->denials_before);
		return false;
	}
	if (p->audit_suppressed_total++ == 0 || p->audit_suppressed == 0)
		kxd_log("pVM %llu (%s): over its audit rate; its requests are refused and "
			"counted until it slows down", (unsigned long long)p->id, p->app);
	p->audit_suppressed++;
	refuse(d, p, in);
	return true;
}

/* Every KXD_AUDIT_SUPPRESS_MS: the counts of pVMs that still flood. */
static void flush_all_suppressed(struct kxd *d, bool now)
{
	if (!now && ms_since(&d->suppress_flushed) < KXD_AUDIT_SUPPRESS_MS)
		return;
	for (int i = 0; i < KXD_MAX_PVMS; i++)
		if (d->pvms[i].used)
			flush_suppressed(d, &d->pvms[i]);
	clock_gettime(CLOCK_MONOTONIC, &d->suppress_flushed);
}

static bool any_suppressed(const struct kxd *d)
{
	for (int i = 0; i < KXD_MAX_PVMS; i++)
		if (d->pvms[i].used && d->pvms[i].audit_suppressed > 0)
			return true;
	return false;
}

void kxd_audit_charge(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	struct kxd_pvm *b;
	uint64_t records, denied, refusals, allows;

	if (!audited_request(in))
		return;
	b = bucket_of(d, p);
	audit_counts(d, &records, &denied);
	refusals = denied > d->denials_before ? denied - d->denials_before : 0;
	records = records > d->records_before ? records - d->records_before : 0;
	allows = records > refusals ? records - refusals : 0;
	b->audit_tokens -= (double)refusals + (double)allows * KXD_AUDIT_ALLOW_COST;
	if (b->audit_tokens < 0)
		b->audit_tokens = 0;
}

size_t kxd_audit_list_note(const struct kxd_pvm *p, char *buf, size_t size)
{
	int n;

	if (p->audit_suppressed_total == 0 || size == 0)
		return 0;
	n = snprintf(buf, size, "!audit-suppressed %llu\n",
		     (unsigned long long)p->audit_suppressed_total);
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}
