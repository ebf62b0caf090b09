/* threads: pthread_create/join, mutex + condition variable (a bounded
 * producer/consumer), thread-local storage, pthread_once, detached threads,
 * semaphores, rwlocks, a timed wait, thread ids and names. */
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include "check.h"

#define ITEMS	 2000
#define SLOTS	 8
#define WORKERS	 4

static struct {
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
	int buf[SLOTS];
	int head, count, done;
} q = {.lock = PTHREAD_MUTEX_INITIALIZER,
       .not_full = PTHREAD_COND_INITIALIZER,
       .not_empty = PTHREAD_COND_INITIALIZER};

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 1; i <= ITEMS; i++) {
		pthread_mutex_lock(&q.lock);
		while (q.count == SLOTS)
			pthread_cond_wait(&q.not_full, &q.lock);
		q.buf[(q.head + q.count) % SLOTS] = i;
		q.count++;
		pthread_cond_signal(&q.not_empty);
		pthread_mutex_unlock(&q.lock);
	}
	pthread_mutex_lock(&q.lock);
	q.done = 1;
	pthread_cond_broadcast(&q.not_empty);
	pthread_mutex_unlock(&q.lock);
	return NULL;
}

static void *consumer(void *arg)
{
	long sum = 0, n = 0;

	(void)arg;
	for (;;) {
		int v;

		pthread_mutex_lock(&q.lock);
		while (q.count == 0 && !q.done)
			pthread_cond_wait(&q.not_empty, &q.lock);
		if (q.count == 0) {
			pthread_mutex_unlock(&q.lock);
			break;
		}
		v = q.buf[q.head];
		q.head = (q.head + 1) % SLOTS;
		q.count--;
		pthread_cond_signal(&q.not_full);
		pthread_mutex_unlock(&q.lock);
		sum += v;
		n++;
	}
	return (void *)(sum * 10000 + n); /* fine for these sizes */
}

static __thread int tls_value = 7;
static __thread char tls_name[16];

static void *tls_worker(void *arg)
{
	int id = (int)(long)arg;
	int first = tls_value;

	tls_value = 100 + id;
	snprintf(tls_name, sizeof(tls_name), "worker-%d", id);
	sched_yield();
	return (void *)(long)(first == 7 && tls_value == 100 + id &&
			      strcmp(tls_name, "worker-") > 0);
}

static int once_count;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void once_fn(void)
{
	once_count++;
}

static void *once_worker(void *arg)
{
	(void)arg;
	pthread_once(&once, once_fn);
	return NULL;
}

static sem_t sem;
static int detached_ran;

static void *detached(void *arg)
{
	(void)arg;
	detached_ran = 1;
	sem_post(&sem);
	return NULL;
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static int shared_value;

static void *reader(void *arg)
{
	int v;

	(void)arg;
	pthread_rwlock_rdlock(&rw);
	v = shared_value;
	pthread_rwlock_unlock(&rw);
	return (void *)(long)v;
}

static void *self_id(void *arg)
{
	*(pthread_t *)arg = pthread_self();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t prod, cons[WORKERS], t[WORKERS];
	long total_sum = 0, total_n = 0;
	void *ret;
	int ok = 1;

	enter_scratch(argc, argv);
	check(pthread_create(&prod, NULL, producer, NULL) == 0, "create the producer");
	for (int i = 0; i < WORKERS; i++)
		ok &= pthread_create(&cons[i], NULL, consumer, NULL) == 0;
	check(ok, "create %d consumers", WORKERS);
	check(pthread_join(prod, NULL) == 0, "join the producer");
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(cons[i], &ret);
		total_sum += (long)ret / 10000;
		total_n += (long)ret % 10000;
	}
	check(total_n == ITEMS && total_sum == (long)ITEMS * (ITEMS + 1) / 2,
	      "the consumers got every item once: %ld items, sum %ld", total_n, total_sum);

	for (int i = 0; i < WORKERS; i++)
		pthread_create(&t[i], NULL, tls_worker, (void *)(long)i);
	ok = 1;
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(t[i], &ret);
		ok &= ret == (void *)1;
	}
	check(ok && tls_value == 7, "each thread has its own __thread variables");

	for (int i = 0; i < WORKERS; i++)
		pthread_create(&t[i], NULL, once_worker, NULL);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	check(once_count == 1, "pthread_once ran once");

	{
		pthread_attr_t attr;
		pthread_t d;

		sem_init(&sem, 0, 0);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		check(pthread_create(&d, &attr, detached, NULL) == 0, "create a detached thread");
		check(sem_wait(&sem) == 0 && detached_ran, "it ran (sem_wait)");
		pthread_attr_destroy(&attr);
	}
	{
		struct timespec ts;
		pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
		pthread_cond_t c = PTHREAD_COND_INITIALIZER;
		int rc;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 30 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&m);
		rc = pthread_cond_timedwait(&c, &m, &ts);
		pthread_mutex_unlock(&m);
		check(rc == ETIMEDOUT, "pthread_cond_timedwait times out");
		check(sem_trywait(&sem) == -1 && errno == EAGAIN, "sem_trywait on zero: EAGAIN");
	}
	pthread_rwlock_wrlock(&rw);
	shared_value = 42;
	for (int i = 0; i < WORKERS; i++)
		pthread_create(&t[i], NULL, reader, NULL);
	pthread_rwlock_unlock(&rw);
	ok = 1;
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(t[i], &ret);
		ok &= ret == (void *)42;
	}
	check(ok, "readers see what the writer wrote before unlocking");
	{
		pthread_t seen, made;
		pthread_mutex_t m;
		pthread_mutexattr_t ma;

		pthread_create(&made, NULL, self_id, &seen);
		pthread_join(made, NULL);
		check(pthread_equal(made, seen) && !pthread_equal(made, pthread_self()),
		      "pthread_self inside a thread is its id");
		pthread_mutexattr_init(&ma);
		pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
		pthread_mutex_init(&m, &ma);
		pthread_mutex_lock(&m);
		check(pthread_mutex_lock(&m) == EDEADLK, "an error-checking mutex refuses relocking");
		check(pthread_mutex_trylock(&m) == EBUSY, "trylock of a held mutex: EBUSY");
		pthread_mutex_unlock(&m);
		check(pthread_setname_np(pthread_self(), "libc-main") == 0, "pthread_setname_np");
	}
	return summary();
}
