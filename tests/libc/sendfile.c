/* sendfile (web servers send files with it: docs/web.md): from a file to
 * a file and to a pipe, with and without an offset pointer (who moves),
 * counts past the end, a full non-blocking pipe (a short count, then
 * EAGAIN), and Linux's errors. */
#include <fcntl.h>
#include <sys/sendfile.h>

#include "check.h"

#define SIZE 200000

static unsigned char pattern(long i)
{
	return (unsigned char)(i * 7 + i / 251);
}

/* The bytes of fd from 0 are pattern()[from .. from+len). */
static int holds(int fd, long from, long len)
{
	static unsigned char buf[SIZE];

	if (pread(fd, buf, (size_t)len + 1, 0) != len)
		return 0;
	for (long i = 0; i < len; i++)
		if (buf[i] != pattern(from + i))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	static unsigned char data[SIZE];
	int in, out, p[2], wo;
	off_t off;
	long n, total;

	enter_scratch(argc, argv);
	for (long i = 0; i < SIZE; i++)
		data[i] = pattern(i);
	in = open("in.bin", O_CREAT | O_RDWR | O_TRUNC, 0600);
	check(in >= 0 && write(in, data, SIZE) == SIZE, "a %d-byte source file", SIZE);
	out = open("out.bin", O_CREAT | O_RDWR | O_TRUNC, 0600);
	check(out >= 0, "a destination file");

	/* Without an offset pointer: from in's position, which moves. */
	check(lseek(in, 1000, SEEK_SET) == 1000, "in at 1000");
	n = sendfile(out, in, NULL, 5000);
	check(n == 5000 && lseek(in, 0, SEEK_CUR) == 6000 && lseek(out, 0, SEEK_CUR) == 5000,
	      "5000 bytes from the position: in and out both advance");
	check(holds(out, 1000, 5000), "out holds bytes 1000..5999");

	/* With one: from *off, which moves; in's position does not. */
	check(ftruncate(out, 0) == 0 && lseek(out, 0, SEEK_SET) == 0, "out emptied");
	off = 150000;
	n = sendfile(out, in, &off, 100000);
	check(n == SIZE - 150000 && off == SIZE, "past the end: the count is what was left");
	check(lseek(in, 0, SEEK_CUR) == 6000, "in's position untouched");
	check(holds(out, 150000, SIZE - 150000), "out holds the file's tail");
	check(sendfile(out, in, &off, 100) == 0 && off == SIZE, "at the end: 0");
	off = 0;
	check(sendfile(out, in, &off, 0) == 0 && off == 0, "a count of 0: 0, nothing moves");

	/* To a pipe, non-blocking: it fills, a short count, then EAGAIN. */
	check(pipe(p) == 0 && fcntl(p[1], F_SETFL, O_NONBLOCK) == 0, "a non-blocking pipe");
	off = 0;
	total = 0;
	for (;;) {
		n = sendfile(p[1], in, &off, SIZE);
		if (n <= 0)
			break;
		total += n;
	}
	check(n == -1 && errno == EAGAIN && total > 0 && total < SIZE && off == total,
	      "a full pipe: a short count, then EAGAIN; the offset counts what went");
	{
		static unsigned char got[SIZE];
		long have = 0, r;

		while (have < total && (r = read(p[0], got + have, (size_t)(total - have))) > 0)
			have += r;
		check(have == total && memcmp(got, data, (size_t)total) == 0,
		      "the pipe carried the file's first bytes, in order");
	}

	/* Linux's errors. */
	CHECK_ERR(sendfile(out, 99, NULL, 10), EBADF, "in not open");
	CHECK_ERR(sendfile(99, in, NULL, 10), EBADF, "out not open");
	wo = open("in.bin", O_WRONLY);
	CHECK_ERR(sendfile(out, wo, NULL, 10), EBADF, "in open for writing only");
	{
		int ro = open("out.bin", O_RDONLY);

		CHECK_ERR(sendfile(ro, in, NULL, 10), EBADF, "out open for reading only");
		close(ro);
	}
	CHECK_ERR(sendfile(out, p[0], NULL, 10), EINVAL, "in a pipe (not seekable)");
	{
		int ap = open("out.bin", O_WRONLY | O_APPEND);

		CHECK_ERR(sendfile(ap, in, NULL, 10), EINVAL, "out O_APPEND");
		close(ap);
	}
	off = -1;
	CHECK_ERR(sendfile(out, in, &off, 10), EINVAL, "a negative offset");
	close(wo);
	close(p[0]);
	close(p[1]);
	close(in);
	close(out);
	return summary();
}
