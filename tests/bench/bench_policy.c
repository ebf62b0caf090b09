/*
 * make bench: the policy back end on a policy of realistic size (hundreds of
 * apps, thousands of library rules), built in memory:
 *   compile  kxp_write, beside its floor: copying and BLAKE2b-hashing the
 *            output once (what any writer of that many bytes must do)
 *   open     kxp_open (full validation), beside the same floor
 *   decide   kxp_decide on a mix of link/update/ipc/fork/boot requests,
 *            beside two host equivalents measured in the same run:
 *            - the lookups alone: bsearch() of the app among all app names
 *              and of the library among its app's names (same sizes)
 *            - Linux's own permission decision: faccessat(2) on a file
 * Figures are printed with their ratios; there are no thresholds.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "policy-lang/back.h"

#define NAPPS 400
#define NLIBS 12 /* per app */
#define NKEYS 4  /* per app */
#define NREQ 4096

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL) {
		perror("calloc");
		exit(2);
	}
	return p;
}

static char app_names[NAPPS][16], lib_names[NLIBS][16], key_names[NKEYS][16];
static char peer_names[NAPPS][2][16];

/* ---- a synthetic policy ----------------------------------------------- */

static struct pm_bound bound(uint32_t major, uint32_t minor, bool inclusive)
{
	struct pm_bound b = {.inclusive = inclusive};

	b.v.part[0] = major;
	b.v.part[1] = minor;
	b.v.nparts = 2;
	return b;
}

static void build_app(struct pm_app *a, uint32_t i, char *file)
{
	struct pm_src src = {file, 1, 1};

	snprintf(app_names[i], sizeof(app_names[i]), "app%04u", i);
	a->name = app_names[i];
	a->image = app_names[i];
	a->memory = 64u << 20;
	a->src = a->ipc_src = src;
	a->keys = xcalloc(NKEYS, sizeof(*a->keys));
	a->nkeys = NKEYS;
	for (uint32_t k = 0; k < NKEYS; k++) {
		a->keys[k] = (struct pm_key){.name = key_names[k], .path = key_names[k], .src = src};
		memset(a->keys[k].keyid, (int)(k + 1), KXSIG_KEYID_BYTES);
		a->keys[k].keyid[0] = (uint8_t)i;
	}
	a->libs = xcalloc(NLIBS, sizeof(*a->libs));
	a->nlibs = NLIBS;
	for (uint32_t l = 0; l < NLIBS; l++) {
		struct pm_library *lib = &a->libs[l];

		lib->name = lib_names[l];
		lib->version_text = lib_names[l];
		lib->signers = xcalloc(2, sizeof(size_t));
		lib->signers[0] = l % NKEYS;
		lib->signers[1] = (l + 1) % NKEYS;
		if (lib->signers[0] > lib->signers[1]) {
			lib->signers[0] = lib->signers[1];
			lib->signers[1] = l % NKEYS;
		}
		lib->nsigners = 2;
		/* ">= 1.L && < 2 || >= 3" */
		lib->version.iv = xcalloc(2, sizeof(struct pm_interval));
		lib->version.iv[0] = (struct pm_interval){bound(1, l, true), bound(2, 0, false)};
		lib->version.iv[1] = (struct pm_interval){bound(3, 0, true), {.unbounded = true}};
		lib->version.n = 2;
		lib->loader = (enum pm_loader)(l % 3);
		lib->update = l % 2;
		lib->src = src;
	}
	a->fork = (struct pm_fork_limits){16, 3, 64, src};
	a->ipc_kinds = PM_IPC_PIPE | PM_IPC_MSGQ;
	/* mutual trust with the two neighbours on a ring */
	a->trust = xcalloc(2, sizeof(*a->trust));
	a->ntrust = 2;
	for (int t = 0; t < 2; t++) {
		uint32_t peer = (i + (t ? 1 : NAPPS - 1)) % NAPPS;

		snprintf(peer_names[i][t], sizeof(peer_names[i][t]), "app%04u", peer);
		a->trust[t] = (struct pm_trust){peer_names[i][t], PM_IPC_SHM, src};
	}
	if (strcmp(a->trust[0].peer, a->trust[1].peer) > 0) {
		struct pm_trust tmp = a->trust[0];

		a->trust[0] = a->trust[1];
		a->trust[1] = tmp;
	}
	a->recycle = (struct pm_recycle){true, 4, src};
	a->revoked.keyids = xcalloc(2, KXSIG_KEYID_BYTES);
	a->revoked.keyid_src = xcalloc(2, sizeof(struct pm_src));
	a->revoked.nkeyids = 2;
	memset(a->revoked.keyids[0], 0xee, KXSIG_KEYID_BYTES);
	memset(a->revoked.keyids[1], 0xef, KXSIG_KEYID_BYTES);
}

static void build_policy(struct pm_policy *pol, char **file)
{
	for (uint32_t l = 0; l < NLIBS; l++)
		snprintf(lib_names[l], sizeof(lib_names[l]), "lib%02u", l);
	for (uint32_t k = 0; k < NKEYS; k++)
		snprintf(key_names[k], sizeof(key_names[k]), "key%u", k);
	pol->files = file;
	pol->nfiles = 1;
	pol->apps = xcalloc(NAPPS, sizeof(*pol->apps));
	pol->napps = NAPPS;
	for (uint32_t i = 0; i < NAPPS; i++)
		build_app(&pol->apps[i], i, file[0]);
}

static void free_policy(struct pm_policy *pol)
{
	for (size_t i = 0; i < pol->napps; i++) {
		struct pm_app *a = &pol->apps[i];

		for (size_t l = 0; l < a->nlibs; l++) {
			free(a->libs[l].signers);
			free(a->libs[l].version.iv);
		}
		free(a->keys);
		free(a->libs);
		free(a->trust);
		free(a->revoked.keyids);
		free(a->revoked.keyid_src);
	}
	free(pol->apps);
}

/* ---- requests ---------------------------------------------------------- */

static void make_requests(struct kxp_request *req)
{
	uint32_t seed = 12345;

	for (int r = 0; r < NREQ; r++) {
		uint32_t a, l;

		seed = seed * 1103515245u + 12345u;
		a = (seed >> 8) % NAPPS;
		l = (seed >> 4) % NLIBS;
		kxp_request_init(&req[r], (enum kxp_op[]){KXP_OP_LINK, KXP_OP_LINK, KXP_OP_UPDATE,
							 KXP_OP_IPC, KXP_OP_FORK,
							 KXP_OP_BOOT}[r % 6]);
		req[r].app = app_names[a];
		req[r].lib = lib_names[l];
		req[r].has_version = req[r].has_old_version = true;
		req[r].version = (struct kxp_version){{1, l + (seed & 1), 0, 0}, 2};
		req[r].old_version = (struct kxp_version){{1, l, 0, 0}, 2};
		req[r].has_signer = true;
		memset(req[r].signer, (int)(l % NKEYS + 1), KXSIG_KEYID_BYTES);
		req[r].signer[0] = (uint8_t)a;
		req[r].peer = app_names[(a + 1) % NAPPS];
		req[r].ipc_kind = KXP_IPC_SHM;
		req[r].children = seed % 20;
	}
}

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, elem);
}

int main(void)
{
	char *file[1] = {(char *)"bench.yaml"};
	struct pm_policy pol = {0};
	struct kxp_policy *p = NULL;
	struct kx_error err = {{0}};
	static struct kxp_request req[NREQ];
	uint8_t *buf = NULL, *copy, digest[32];
	size_t len = 0;
	const int compiles = 20, opens = 200;
	const long decisions = 2000000, accesses = 1000000;
	volatile long sink = 0;
	double t0, t_compile, t_open, t_floor, t_decide, t_bsearch, t_access;
	char path[] = "/tmp/kxp-bench-XXXXXX";
	int fd;

	if (sodium_init() < 0)
		return 2;
	build_policy(&pol, file);
	t0 = now();
	for (int i = 0; i < compiles; i++) {
		free(buf);
		if (kxp_write(&pol, &buf, &len, &err) != 0) {
			fprintf(stderr, "bench: compile failed: %s\n", err.msg);
			return 2;
		}
	}
	t_compile = (now() - t0) / compiles;
	copy = xcalloc(1, len);
	t0 = now();
	for (int i = 0; i < opens; i++) {
		memcpy(copy, buf, len);
		crypto_generichash(digest, sizeof(digest), copy, len, NULL, 0);
		sink += digest[0];
	}
	t_floor = (now() - t0) / opens;
	t0 = now();
	for (int i = 0; i < opens; i++) {
		kxp_close(p);
		if (kxp_open(buf, len, NULL, &p, &err) != 0) {
			fprintf(stderr, "bench: open failed: %s\n", err.msg);
			return 2;
		}
	}
	t_open = (now() - t0) / opens;

	make_requests(req);
	t0 = now();
	for (long i = 0; i < decisions; i++) {
		struct kxp_decision d;

		kxp_decide(p, &req[i % NREQ], &d);
		sink += d.verdict;
	}
	t_decide = (now() - t0) / (double)decisions;
	t0 = now();
	for (long i = 0; i < decisions; i++) {
		const struct kxp_request *r = &req[i % NREQ];
		sink += bsearch(r->app, app_names, NAPPS, sizeof(app_names[0]), cmp_name) != NULL;
		sink += bsearch(r->lib, lib_names, NLIBS, sizeof(lib_names[0]), cmp_name) != NULL;
	}
	t_bsearch = (now() - t0) / (double)decisions;
	fd = mkstemp(path);
	if (fd < 0)
		return 2;
	close(fd);
	t0 = now();
	for (long i = 0; i < accesses; i++)
		sink += faccessat(AT_FDCWD, path, R_OK, 0);
	t_access = (now() - t0) / (double)accesses;
	unlink(path);

	printf("policy: %u apps, %u library rules, %u keys, %zu bytes\n", p->napps, p->nlibs,
	       p->nkeys, len);
	printf("compile  kxp_write      %8.3f ms   floor (copy + BLAKE2b of the output) %7.3f ms"
	       "   ratio %.1fx\n", t_compile * 1e3, t_floor * 1e3, t_compile / t_floor);
	printf("open     kxp_open       %8.3f ms   floor (copy + BLAKE2b of the output) %7.3f ms"
	       "   ratio %.1fx\n", t_open * 1e3, t_floor * 1e3, t_open / t_floor);
	printf("decide   kxp_decide     %8.2f M/s (%.0f ns)\n", 1e-6 / t_decide, t_decide * 1e9);
	printf("         bsearch app+lib %7.2f M/s (%.0f ns)   ratio %.1fx slower than the lookups "
	       "alone\n", 1e-6 / t_bsearch, t_bsearch * 1e9, t_decide / t_bsearch);
	printf("         faccessat(2)    %7.2f M/s (%.0f ns)   ratio %.2fx of Linux's permission "
	       "check\n", 1e-6 / t_access, t_access * 1e9, t_decide / t_access);
	kxp_close(p);
	free(buf);
	free(copy);
	free_policy(&pol);
	return sink == -1; /* keeps the loops */
}
