/*
 * rt — the guest runtime checks itself from inside a pVM: the printf
 * family against C's documented output, string functions, the allocator,
 * the clocks.  Each check prints "ok NAME" or "FAIL NAME: ..."; the bats
 * test requires every "ok" and no FAIL.
 *   rt                run every check
 *   rt badfree        free a pointer that is not a heap block (panic)
 *   rt doublefree     free a block twice (panic)
 *   rt bigwrite N     write N bytes of 'x' with one kx_console_write call
 */
#include "guest/kxguest.h"

static int failures;

static void check(int ok, const char *name, const char *detail)
{
	if (ok)
		printf("ok %s\n", name);
	else
		printf("FAIL %s: %s\n", name, detail);
	failures += !ok;
}

static void check_fmt(const char *name, const char *want, const char *fmt, ...)
{
	char got[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);
	if (strcmp(got, want) != 0 || n != (int)strlen(want)) {
		printf("FAIL printf %s: got \"%s\" (%d), want \"%s\"\n", name, got, n, want);
		failures++;
	}
}

static void test_printf(void)
{
	int before = failures;
	char small[8];

	check_fmt("d", "42 -7 0", "%d %i %d", 42, -7, 0);
	check_fmt("u", "4294967295", "%u", 4294967295u);
	check_fmt("x", "ff FF 0", "%x %X %x", 255u, 255u, 0u);
	check_fmt("o", "17", "%o", 15u);
	check_fmt("ld", "-9223372036854775808", "%ld", (long)(-9223372036854775807L - 1));
	check_fmt("lu", "18446744073709551615", "%lu", 18446744073709551615ul);
	check_fmt("lx", "deadbeefcafe", "%lx", 0xdeadbeefcafeul);
	check_fmt("lld", "-1", "%lld", -1ll);
	check_fmt("zu", "123456789", "%zu", (size_t)123456789);
	check_fmt("hhd", "-1", "%hhd", 255);
	check_fmt("hu", "65535", "%hu", 0xffffffffu);
	check_fmt("c", "a-b", "%c-%c", 'a', 'b');
	check_fmt("s", "pVM (null)", "%s %s", "pVM", (char *)NULL);
	check_fmt("p", "0x401000", "%p", (void *)0x401000);
	check_fmt("percent", "100%", "%d%%", 100);
	check_fmt("width", "   42|42   |", "%5d|%-5d|", 42, 42);
	check_fmt("zero-pad", "00042 -0042 000ff", "%05d %05d %05x", 42, -42, 255u);
	check_fmt("star", "   ab|ab   |", "%*s|%-*s|", 5, "ab", 5, "ab");
	check_fmt("precision", "abc 007", "%.3s %.3d", "abcdef", 7);
	check_fmt("sign", "+5 -5  5", "%+d %+d % d", 5, -5, 5);
	check_fmt("unknown", "%q", "%q");
	check(snprintf(small, sizeof(small), "%s", "truncated!") == 10 &&
		      strcmp(small, "truncat") == 0,
	      "printf truncation", small);
	check(failures == before, "printf", "see above");
}

static void test_string(void)
{
	char buf[32];
	char *end;

	memset(buf, 'x', sizeof(buf));
	strcpy(buf, "hello");
	check(strlen(buf) == 5 && buf[6] == 'x', "strcpy/strlen", buf);
	memmove(buf + 1, buf, 5);
	check(memcmp(buf, "hhello", 6) == 0, "memmove overlap", buf);
	check(strcmp("abc", "abd") < 0 && strcmp("b", "a") > 0 && strcmp("", "") == 0 &&
		      strncmp("abcx", "abcy", 3) == 0,
	      "strcmp/strncmp", "");
	check(strchr("pvm", 'v') != NULL && strrchr("a/b/c", '/')[1] == 'c' &&
		      strchr("pvm", 'z') == NULL,
	      "strchr/strrchr", "");
	check(strtol("-123", &end, 10) == -123 && *end == '\0' && strtol("0x1f", NULL, 0) == 31 &&
		      strtoul("777", NULL, 8) == 511 && atoi("42abc") == 42,
	      "strtol/strtoul/atoi", "");
}

static void test_malloc(void)
{
	enum { N = 200 };
	static unsigned char *blocks[N];
	const struct kx_boot_info *boot = kx_boot_info();
	int ok = 1;

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++) {
			size_t size = (size_t)(i * 37 % 3000) + 1;

			blocks[i] = malloc(size);
			if (blocks[i] == NULL || (uintptr_t)blocks[i] % 16 != 0) {
				ok = 0;
				break;
			}
			memset(blocks[i], i & 0xff, size);
		}
		/* free every other block, check the rest kept their bytes */
		for (int i = 0; ok && i < N; i += 2)
			free(blocks[i]);
		for (int i = 1; ok && i < N; i += 2)
			for (size_t j = 0; j < (size_t)(i * 37 % 3000) + 1; j++)
				ok &= blocks[i][j] == (i & 0xff);
		for (int i = 1; i < N; i += 2)
			free(blocks[i]);
	}
	check(ok, "malloc patterns", "corrupted block or bad alignment");
	/* after everything is freed, almost the whole heap is one block again */
	void *big = malloc(boot->heap_size - 4096);
	check(big != NULL, "malloc coalesces", "big block after frees failed");
	free(big);
	check(malloc(boot->heap_size + 1) == NULL, "malloc too big", "returned memory");
	unsigned char *r = malloc(10);
	memcpy(r, "0123456789", 10);
	r = realloc(r, 5000);
	check(r != NULL && memcmp(r, "0123456789", 10) == 0, "realloc keeps bytes", "");
	free(r);
	unsigned *z = calloc(100, sizeof(*z));
	int zero = z != NULL;
	for (int i = 0; zero && i < 100; i++)
		zero = z[i] == 0;
	check(zero, "calloc zeroes", "");
	free(z);
	check(calloc((size_t)1 << 40, (size_t)1 << 40) == NULL, "calloc overflow", "");
}

static void test_clock(void)
{
	uint64_t a = kx_clock_monotonic_ns(), b = kx_clock_monotonic_ns();
	uint64_t wall = kx_clock_realtime_ns();

	check(a > 0 && b >= a, "clock monotonic", "went backwards");
	/* 2020-01-01 in ns since the epoch: the host clock is at least that */
	check(wall > 1577836800ull * 1000000000ull, "clock realtime", "before 2020");
}

static void test_sse(void)
{
	volatile double a = 1.5, b = 2.25;
	double c = a * b;

	check((long)(c * 1000.0) == 3375, "sse arithmetic", "wrong product");
}

static void test_boot_info(int argc, char **argv)
{
	const struct kx_boot_info *b = kx_boot_info();

	check(b->argc == (uint32_t)argc && (char **)b->argv == argv && argv[argc] == NULL,
	      "boot argv", "");
	check(b->heap_start % 4096 == 0 && b->heap_start >= b->image_end &&
		      b->heap_start + b->heap_size < b->stack_top - b->stack_size &&
		      b->stack_top == b->mem_size,
	      "boot layout", "");
	/* the stack we run on is where the monitor said */
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	check(sp < b->stack_top && sp >= b->stack_top - b->stack_size, "boot stack", "");
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "badfree") == 0) {
		static char not_heap[32];
		free(not_heap + 16);
	}
	if (argc > 1 && strcmp(argv[1], "doublefree") == 0) {
		void *p = malloc(64);
		free(p);
		free(p);
	}
	if (argc > 2 && strcmp(argv[1], "bigwrite") == 0) {
		size_t n = (size_t)strtoul(argv[2], NULL, 10);
		char *buf = malloc(n);

		memset(buf, 'x', n);
		return kx_console_write(buf, n) == (long)n ? 0 : 1;
	}
	test_printf();
	test_string();
	test_malloc();
	test_clock();
	test_sse();
	test_boot_info(argc, argv);
	printf("%d failures\n", failures);
	return failures == 0 ? 0 : 1;
}
