/* stdio: formatted output and input, FILE streams on files, buffering. */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>

#include "check.h"

static void formats(void)
{
	char buf[128];
	int n;

	printf("int: %d %i %u %ld %lld %hhd %hd\n", -42, 7, 4000000000u, -1234567890123l,
	       LLONG_MIN, (char)-1, (short)-32768);
	printf("hex: %x %X %#x %o %#o %08x\n", 0xbeefu, 0xbeefu, 255u, 8u, 8u, 0x1234u);
	printf("width: [%5d] [%-5d] [%+d] [% d] [%05d] [%.3d] [%*d] [%-*d]\n", 42, 42, 42, 42, 42, 7,
	       6, 9, 4, 1);
	printf("str: [%s] [%10s] [%-10s] [%.3s] [%c] [%%]\n", "kx", "right", "left", "truncate", 'Z');
	printf("float: %f %.2f %e %.3E %g %g %g %a\n", 3.14159265, -2.5, 123456.789, 0.000123, 1e-5,
	       100000.0, 1e20, 1.0);
	printf("special: %f %f %f %.0f %.0f\n", INFINITY, -INFINITY, NAN, 0.5, 1.5);
	printf("sizes: %zu %zd %td %jd %" PRIu64 " %" PRIx32 "\n", (size_t)123, (ssize_t)-5,
	       (ptrdiff_t)-7, (intmax_t)99, UINT64_MAX, UINT32_MAX);
	const char *volatile digits = "0123456789"; /* gcc would warn of the truncation */

	n = snprintf(buf, 8, "%s", digits);
	check(n == 10 && strcmp(buf, "0123456") == 0, "snprintf truncates and returns the full length");
	n = snprintf(NULL, 0, "%d-%s", 12345, "abc");
	check(n == 9, "snprintf(NULL, 0) measures");
	n = sprintf(buf, "%.10g|%.17g", 0.1, 0.1);
	check(strcmp(buf, "0.1|0.10000000000000001") == 0 && n == 23, "sprintf %%.17g of 0.1: %s", buf);
}

static void scanning(void)
{
	int a, b;
	char word[16];
	double d;
	unsigned x;
	long l;
	char *end;

	check(sscanf("12 34 hello 2.5 ff", "%d %d %15s %lf %x", &a, &b, word, &d, &x) == 5 &&
		      a == 12 && b == 34 && strcmp(word, "hello") == 0 && d == 2.5 && x == 255,
	      "sscanf of five conversions");
	check(sscanf("abc", "%d", &a) == 0, "sscanf stops at a mismatch");
	check(sscanf("", "%d", &a) == EOF, "sscanf of nothing is EOF");
	l = strtol("  -0x7fZ", &end, 16);
	check(l == -127 && *end == 'Z', "strtol base 16 with prefix");
	errno = 0;
	l = strtol("99999999999999999999", NULL, 10);
	check(l == LONG_MAX && errno == ERANGE, "strtol overflow is ERANGE");
	check(strtod("1e-3", NULL) == 0.001 && atoi("  17x") == 17, "strtod and atoi");
	check(fabs(atof("3.5e2") - 350.0) < 1e-12, "atof");
}

static void streams(void)
{
	FILE *f = fopen("stdio.txt", "w+");
	char line[64];
	int c;
	long pos;

	check(f != NULL, "fopen w+");
	if (!f)
		return;
	for (int i = 0; i < 100; i++)
		fprintf(f, "line %03d\n", i);
	check(ftell(f) == 900, "ftell after 100 lines: %ld", ftell(f));
	rewind(f);
	check(fgets(line, sizeof(line), f) && strcmp(line, "line 000\n") == 0, "fgets first line");
	check(fseek(f, 9 * 50, SEEK_SET) == 0 && fgets(line, sizeof(line), f) &&
		      strcmp(line, "line 050\n") == 0,
	      "fseek to line 50");
	c = fgetc(f);
	check(c == 'l' && ungetc(c, f) == 'l' && fgetc(f) == 'l', "fgetc and ungetc");
	check(fseek(f, -9, SEEK_END) == 0 && fgets(line, sizeof(line), f) &&
		      strcmp(line, "line 099\n") == 0,
	      "fseek from the end");
	check(fgets(line, sizeof(line), f) == NULL && feof(f), "fgets at the end sets EOF");
	clearerr(f);
	check(!feof(f) && !ferror(f), "clearerr");
	pos = ftell(f);
	check(pos == 900, "ftell at the end");
	check(fclose(f) == 0, "fclose");

	f = fopen("stdio.txt", "a");
	check(f && fputs("appended\n", f) >= 0 && fclose(f) == 0, "fopen a appends");
	f = fopen("stdio.txt", "r");
	if (f) {
		int lines = 0;
		char last[64] = "";

		while (fgets(line, sizeof(line), f)) {
			lines++;
			strcpy(last, line);
		}
		check(lines == 101 && strcmp(last, "appended\n") == 0, "101 lines, the last appended");
		check(fputs("x", f) == EOF && ferror(f), "writing a read-only stream fails");
		fclose(f);
	}
	f = fopen("no/such/dir/file", "r");
	check(f == NULL && errno == ENOENT, "fopen of a missing path: ENOENT");

	/* Binary I/O and a buffer of our own. */
	f = fopen("bin.dat", "wb+");
	if (f) {
		static char vbuf[256];
		double in[4] = {1.5, -2.25, 1e300, 0}, out[4];

		check(setvbuf(f, vbuf, _IOFBF, sizeof(vbuf)) == 0, "setvbuf");
		check(fwrite(in, sizeof(in[0]), 4, f) == 4, "fwrite 4 doubles");
		rewind(f);
		check(fread(out, sizeof(out[0]), 4, f) == 4 && memcmp(in, out, sizeof(in)) == 0,
		      "fread them back");
		check(fread(out, 1, 1, f) == 0 && feof(f), "fread past the end");
		fclose(f);
	}
	f = fdopen(open("fd.txt", O_CREAT | O_RDWR | O_TRUNC, 0644), "w+");
	check(f && fprintf(f, "via fdopen %d", 7) == 12 && fflush(f) == 0, "fdopen and fprintf");
	if (f) {
		rewind(f);
		check(fgets(line, sizeof(line), f) && strcmp(line, "via fdopen 7") == 0,
		      "read back through the same FILE");
		fclose(f);
	}
	check(remove("fd.txt") == 0 && remove("fd.txt") == -1 && errno == ENOENT, "remove twice");
}

static void standard_streams(void)
{
	char line[16];

	/* stdin is empty: natively </dev/null, in a pVM the console's EOF. */
	check(fgets(line, sizeof(line), stdin) == NULL && feof(stdin), "stdin reads end of file");
	/* Nothing is written to stderr: a pVM's console carries both streams
	 * (kxmon's stdout), natively they would part. */
	check(fprintf(stderr, "%s", "") == 0 && fflush(stderr) == 0, "fprintf to stderr");
	check(fileno(stdout) == 1 && fileno(stderr) == 2, "fileno of stdout, stderr");
}

int main(int argc, char **argv)
{
	enter_scratch(argc, argv);
	formats();
	scanning();
	streams();
	standard_streams();
	return summary();
}
