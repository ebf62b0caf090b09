/*
 * snapshot — the Redis pattern on pVMs: a parent keeps changing its table
 * while a forked child writes a consistent snapshot of the table as it was
 * at the fork (manifests/snapshot.yaml; README "Snapshots").
 *
 * Copy-on-write does the work: the child's memory is the parent's at the
 * fork, and the parent's later writes copy pages for the parent only.  To
 * show it, the parent rewrites the whole table BEFORE the child starts its
 * snapshot (it tells the child with KX_SIGUSR1), then keeps writing while
 * the child reads.  The child's exit status carries its checksum modulo
 * 101; the parent checks it against the checksum it took at the fork, and
 * that its own table moved on.  Exit 0 when both hold.
 *
 *   snapshot [ENTRIES]    table size in 8-byte entries (default 1 Mi: 8 MiB)
 */
#include "guest/kxguest.h"

#define DEFAULT_ENTRIES (1u << 20)
#define STATUS_MOD	101u /* exit statuses stop at 122 */

static volatile int go;

static void on_go(int sig)
{
	(void)sig;
	go = 1;
}

static uint64_t table_checksum(const uint64_t *t, size_t n)
{
	uint64_t sum = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		sum = (sum ^ t[i]) * 1099511628211ull;
	return sum;
}

/* One round of updates: every entry changes. */
static void update(uint64_t *t, size_t n, uint64_t round)
{
	for (size_t i = 0; i < n; i++)
		t[i] = t[i] * 6364136223846793005ull + round;
}

static int child_snapshot(const uint64_t *t, size_t n)
{
	uint64_t sum;

	while (!go)
		kx_pause(); /* until the parent has rewritten its whole table */
	sum = table_checksum(t, n);
	printf("child: snapshot of %zu entries, first %llx, checksum %llx\n", n,
	       (unsigned long long)t[0], (unsigned long long)sum);
	return (int)(sum % STATUS_MOD);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : DEFAULT_ENTRIES;
	uint64_t at_fork, now;
	uint64_t *table;
	int status = -1, ok;
	long child;

	table = n > 0 ? calloc(n, sizeof(*table)) : NULL;
	if (table == NULL) {
		printf("snapshot: cannot allocate %zu entries\n", n);
		return 2;
	}
	for (size_t i = 0; i < n; i++)
		table[i] = i * 2654435761u;
	kx_signal(KX_SIGUSR1, on_go);
	at_fork = table_checksum(table, n);
	child = kx_fork();
	if (child < 0) {
		printf("snapshot: fork: %ld\n", child);
		return 3;
	}
	if (child == 0)
		return child_snapshot(table, n);
	printf("parent: state at fork, checksum %llx\n", (unsigned long long)at_fork);
	update(table, n, 1);
	kx_kill((uint64_t)child, KX_SIGUSR1);
	for (uint64_t round = 2; round < 5; round++)
		update(table, n, round); /* while the child writes its snapshot */
	if (kx_wait((uint64_t)child, &status) != 0) {
		printf("snapshot: the child could not be waited for\n");
		return 4;
	}
	now = table_checksum(table, n);
	ok = (uint64_t)status == at_fork % STATUS_MOD && now != at_fork;
	printf("parent: the snapshot %s the state at fork; the table moved on to %llx\n",
	       (uint64_t)status == at_fork % STATUS_MOD ? "matches" : "DOES NOT match",
	       (unsigned long long)now);
	return ok ? 0 : 1;
}
