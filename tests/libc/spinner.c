/* spinner: threads that spin without a system call.  main waits for a
 * flag a second thread sets, by spinning on it; then two threads count in
 * tight loops until main (spinning too) has seen both advance.  On Linux
 * the kernel's timer preempts them; in a pVM the monitor's ticks must
 * (KX_HC_PREEMPT): without preemption the first spin never ends.  Also:
 * a spinlock handed between threads, floating-point and vector state that
 * survives being interrupted mid-computation, and malloc/realloc/free from
 * four threads at once (each interrupted inside the allocator's lock now
 * and then), every block checked byte for byte. */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"

#define TARGET 2000000l

static atomic_int flag, stop;
static atomic_long counts[2];
static pthread_spinlock_t spin;
static long shared_total;

static void *set_flag(void *arg)
{
	(void)arg;
	atomic_store(&flag, 1);
	return NULL;
}

static void *count(void *arg)
{
	long i = (long)arg;

	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		atomic_fetch_add_explicit(&counts[i], 1, memory_order_relaxed);
	return NULL;
}

static void *locker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++) {
		pthread_spin_lock(&spin);
		for (volatile int k = 0; k < 20000; k++) /* hold it a while */
			;
		shared_total++;
		pthread_spin_unlock(&spin);
	}
	return NULL;
}

/* A long floating-point and vector computation: an interruption that lost
 * any x87/SSE register would change its result. */
static void *fp_work(void *arg)
{
	double x = 1.0, acc = 0.0;
	long n = (long)arg;

	for (long i = 1; i <= n; i++) {
		x = x * 1.0000001 + 1e-9;
		acc += x / (double)i;
	}
	return (void *)(long)(acc * 1000.0);
}

/* Blocks of every size, filled with a pattern of the thread's own, grown,
 * checked and freed in a shuffled order. */
static void *allocator(void *arg)
{
	unsigned seed = (unsigned)(long)arg * 2654435761u, bad = 0;
	unsigned char *blocks[64] = {0};
	size_t sizes[64] = {0};

	for (int round = 0; round < 4000; round++) {
		int i = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 64;
		unsigned char want = (unsigned char)((long)arg * 31 + i);

		for (size_t k = 0; k < sizes[i]; k++)
			bad += blocks[i][k] != want;
		if (blocks[i] && (seed & 0x100)) {
			size_t n = sizes[i] * 2 + 1;
			unsigned char *p = realloc(blocks[i], n);

			if (!p)
				return (void *)1;
			memset(p + sizes[i], want, n - sizes[i]);
			blocks[i] = p;
			sizes[i] = n;
		} else {
			free(blocks[i]);
			sizes[i] = (seed >> 20) % 3000 + 1;
			blocks[i] = malloc(sizes[i]);
			if (!blocks[i])
				return (void *)1;
			memset(blocks[i], want, sizes[i]);
		}
	}
	for (int i = 0; i < 64; i++)
		free(blocks[i]);
	return (void *)(long)(bad != 0);
}

int main(int argc, char **argv)
{
	pthread_t t[4];
	void *r1, *r2;

	enter_scratch(argc, argv);
	check(pthread_create(&t[0], NULL, set_flag, NULL) == 0, "a thread that sets a flag");
	while (!atomic_load(&flag)) /* no system call: only preemption lets it run */
		;
	check(pthread_join(t[0], NULL) == 0, "main spun until the other thread set the flag");

	pthread_create(&t[0], NULL, count, (void *)0);
	pthread_create(&t[1], NULL, count, (void *)1);
	while (atomic_load(&counts[0]) < TARGET || atomic_load(&counts[1]) < TARGET)
		;
	atomic_store(&stop, 1);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	check(counts[0] >= TARGET && counts[1] >= TARGET,
	      "two spinning threads and a spinning main all make progress");

	pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, locker, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	check(shared_total == 600, "a spinlock passed among 3 threads: %ld increments", shared_total);

	r1 = fp_work((void *)3000000l);
	pthread_create(&t[0], NULL, fp_work, (void *)3000000l);
	pthread_create(&t[1], NULL, fp_work, (void *)3000000l);
	pthread_join(t[0], &r2);
	check(r1 == r2, "floating point computed alongside other threads: same result");
	pthread_join(t[1], &r2);
	check(r1 == r2, "and in the other thread too");

	{
		long bad = 0;
		void *r;

		for (long i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, allocator, (void *)(i + 1));
		for (int i = 0; i < 4; i++) {
			pthread_join(t[i], &r);
			bad += (long)r;
		}
		check(bad == 0, "malloc, realloc and free from 4 threads: every block intact");
	}
	return summary();
}
