/* stdin: standard input and the error stream.  Reads its standard input to
 * the end (poll says when a line is there, read and fgets take it),
 * echoes each line numbered and upper-cased on stdout, and writes one line
 * to stderr and one to a dup of it.  tests/cli/libc.bats pipes the same
 * text into the native run and the pVM (kxmon's stdin: the console's
 * input) and compares stdout and stderr, separately. */
#include <ctype.h>
#include <fcntl.h>
#include <poll.h>

#include "check.h"

int main(int argc, char **argv)
{
	struct pollfd p = {.fd = 0, .events = POLLIN};
	char line[256];
	int n = 0, e;

	enter_scratch(argc, argv);
	check(poll(&p, 1, 10000) == 1 && (p.revents & (POLLIN | POLLHUP)), "poll: stdin readable");
	while (fgets(line, sizeof(line), stdin)) {
		for (char *c = line; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		printf("%d: %s", ++n, line);
	}
	check(feof(stdin) && !ferror(stdin), "stdin to its end: %d lines", n);
	check(read(0, line, sizeof(line)) == 0, "read at the end: 0");
	fprintf(stderr, "stderr: %d lines\n", n);
	e = dup(2);
	check(e > 2 && write(e, "dup of stderr\n", 14) == 14, "a dup of fd 2 writes to stderr");
	close(e);
	return summary();
}
