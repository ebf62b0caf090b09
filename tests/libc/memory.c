/* string functions, sorting, malloc/calloc/realloc/free at many sizes,
 * anonymous mmap/munmap/mremap/madvise. */
#include <stdint.h>
#include <sys/mman.h>

#include "check.h"

static uint32_t rng = 12345;

static uint32_t next(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static void strings(void)
{
	char buf[64], *tok, *save;
	const char *s = "the quick brown fox";

	check(strlen(s) == 19 && strcmp("abc", "abd") < 0 && strncmp("abcx", "abcy", 3) == 0,
	      "strlen strcmp strncmp");
	check(strchr(s, 'q') == s + 4 && strrchr(s, 'o') == s + 17 && strstr(s, "brown") == s + 10,
	      "strchr strrchr strstr");
	check(strspn("aabbc", "ab") == 4 && strcspn("hello, world", ",") == 5 &&
		      strpbrk(s, "xyz") == s + 18,
	      "strspn strcspn strpbrk");
	strcpy(buf, "one,two,,three");
	tok = strtok_r(buf, ",", &save);
	check(tok && strcmp(tok, "one") == 0, "strtok_r first");
	tok = strtok_r(NULL, ",", &save);
	check(tok && strcmp(tok, "two") == 0 && strcmp(strtok_r(NULL, ",", &save), "three") == 0 &&
		      strtok_r(NULL, ",", &save) == NULL,
	      "strtok_r skips empty fields");
	memset(buf, 'x', sizeof(buf));
	memmove(buf + 2, buf, 10);
	memcpy(buf, "0123456789", 10);
	memmove(buf + 3, buf, 7);
	check(memcmp(buf, "0120123456", 10) == 0, "memmove overlapping forward");
	memmove(buf, buf + 3, 7);
	check(memcmp(buf, "0123456456", 10) == 0, "memmove overlapping backward");
	check(memchr(buf, '6', 10) == buf + 6 && memchr(buf, 'z', 10) == NULL, "memchr");
	{
		char *d = strdup(s), *n = strndup(s, 3);

		check(d && strcmp(d, s) == 0 && n && strcmp(n, "the") == 0, "strdup strndup");
		free(d);
		free(n);
	}
	check(strcasecmp("HeLLo", "hello") == 0 && strncasecmp("ABCd", "abce", 3) == 0,
	      "strcasecmp strncasecmp");
	snprintf(buf, sizeof(buf), "%s", strerror(ENOENT));
	check(strlen(buf) > 0, "strerror(ENOENT) is a message");
}

static void sorting(void)
{
	int v[1000], key, *hit;
	int sorted = 1;

	for (int i = 0; i < 1000; i++)
		v[i] = (int)(next() % 100000);
	qsort(v, 1000, sizeof(v[0]), cmp_int);
	for (int i = 1; i < 1000; i++)
		sorted &= v[i - 1] <= v[i];
	check(sorted, "qsort of 1000 ints");
	key = v[637];
	hit = bsearch(&key, v, 1000, sizeof(v[0]), cmp_int);
	check(hit && *hit == key, "bsearch finds an element");
	key = -1;
	check(bsearch(&key, v, 1000, sizeof(v[0]), cmp_int) == NULL, "bsearch misses");
}

static void heap(void)
{
	enum { N = 2000 };
	static unsigned char *blocks[N];
	static size_t sizes[N];
	unsigned long sum = 0, want = 0;
	int intact = 1;

	/* Many sizes, freed in a scrambled order, some reallocated. */
	for (int i = 0; i < N; i++) {
		sizes[i] = next() % 3000 + 1;
		blocks[i] = malloc(sizes[i]);
		if (!blocks[i]) {
			intact = 0;
			break;
		}
		memset(blocks[i], i & 0xff, sizes[i]);
	}
	for (int i = 0; i < N; i += 3) {
		size_t grow = sizes[i] * 3 + 100;
		unsigned char *p = realloc(blocks[i], grow);

		if (!p) {
			intact = 0;
			continue;
		}
		for (size_t k = 0; k < sizes[i]; k++)
			intact &= p[k] == (unsigned char)(i & 0xff);
		memset(p + sizes[i], i & 0xff, grow - sizes[i]);
		blocks[i] = p;
		sizes[i] = grow;
	}
	for (int i = 0; i < N; i++) {
		for (size_t k = 0; k < sizes[i]; k++)
			sum += blocks[i][k];
		want += (unsigned long)(i & 0xff) * sizes[i];
	}
	check(intact && sum == want, "2000 blocks keep their bytes through realloc");
	for (int i = 0; i < N; i++) {
		int j = (int)(next() % N);

		free(blocks[j]);
		blocks[j] = NULL;
	}
	for (int i = 0; i < N; i++)
		free(blocks[i]);
	{
		size_t big = 8u << 20;
		unsigned char *p = calloc(big, 1);
		int zero = p != NULL;

		for (size_t k = 0; p && k < big; k += 4096)
			zero &= p[k] == 0;
		check(zero, "calloc of 8 MiB is zero");
		free(p);
		p = malloc(big);
		if (p)
			memset(p, 0xab, big);
		check(p && p[big - 1] == 0xab, "malloc of 8 MiB is writable");
		free(p);
	}
	{
		/* volatile: gcc refuses to compile the impossible sizes it can see */
		volatile size_t half = SIZE_MAX / 2, most = SIZE_MAX - 64;

		check(calloc(half, 4) == NULL && errno == ENOMEM, "calloc overflow is ENOMEM");
		check(malloc(most) == NULL, "an impossible malloc fails");
	}
	{
		void *p = NULL;

		check(posix_memalign(&p, 4096, 100) == 0 && ((uintptr_t)p & 4095) == 0,
		      "posix_memalign to a page");
		free(p);
		p = aligned_alloc(64, 128);
		check(p && ((uintptr_t)p & 63) == 0, "aligned_alloc");
		free(p);
	}
}

static void mappings(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *p, *q;

	check(pg == 4096, "page size 4096");
	p = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(p != MAP_FAILED && p[0] == 0 && p[16 * pg - 1] == 0, "mmap 16 pages, zeroed");
	if (p == MAP_FAILED)
		return;
	memset(p, 0x5a, 16 * pg);
	check(munmap(p + 8 * pg, 8 * pg) == 0, "munmap the upper half");
	q = mremap(p, 8 * pg, 32 * pg, MREMAP_MAYMOVE);
	check(q != MAP_FAILED && q[0] == 0x5a && q[8 * pg - 1] == 0x5a && q[8 * pg] == 0 &&
		      q[32 * pg - 1] == 0,
	      "mremap grows, keeps the bytes, new pages zero");
	if (q == MAP_FAILED)
		return;
	check(madvise(q, 4 * pg, MADV_DONTNEED) == 0 && q[0] == 0 && q[4 * pg] == 0x5a,
	      "madvise DONTNEED zeroes private anonymous pages");
	q = mremap(q, 32 * pg, 2 * pg, 0);
	check(q != MAP_FAILED && q[pg] == 0 && q[0] == 0, "mremap shrinks in place");
	check(munmap(q, 2 * pg) == 0, "munmap");
	CHECK_ERR(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1
											     : 0,
		  EINVAL, "mmap of 0 bytes");
	CHECK_ERR(munmap((char *)p + 1, pg), EINVAL, "munmap of an unaligned address");
	CHECK_ERR(mmap(NULL, pg, PROT_READ, MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0, EINVAL,
		  "mmap without MAP_PRIVATE or MAP_SHARED");
	p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		void *r;

		p[0] = 1;
		r = mmap(p, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		check(r == p && p[0] == 0, "MAP_FIXED replaces a mapping with zeros");
		r = mmap(p, pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		check(r == MAP_FAILED && errno == EEXIST, "MAP_FIXED_NOREPLACE over a mapping: EEXIST");
		check(mprotect(p, 4 * pg, PROT_READ | PROT_WRITE) == 0, "mprotect read-write");
		munmap(p, 4 * pg);
	}
}

int main(int argc, char **argv)
{
	enter_scratch(argc, argv);
	strings();
	sorting();
	heap();
	mappings();
	return summary();
}
