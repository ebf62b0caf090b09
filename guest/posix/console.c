/*
 * console.c — fds 0, 1 and 2, and the character devices /dev/null,
 * /dev/zero and, when the CPU has RDRAND, /dev/random and /dev/urandom
 * (tmpfs.c puts those in /dev).
 *
 * Standard output and error are kxmon's (KX_HC_CONSOLE_WRITE2 keeps them
 * apart), standard input is kxmon's standard input (KX_HC_CONSOLE_READ: a
 * read waits in the monitor when no other thread can run, else looks again
 * every millisecond; poll asks without reading).  The console is not a
 * terminal (every ioctl is ENOTTY, so isatty() is false and stdio buffers
 * stdout fully, as for a pipe).
 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "guest/posix/posix.h"

static int64_t input(void *buf, size_t len, uint64_t flags)
{
	struct kx_hc_console_read r = {.buf = (uint64_t)(uintptr_t)buf, .len = len, .flags = flags};

	return kx_hcall(&r.hdr, KX_HC_CONSOLE_READ);
}

static long console_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	(void)off;
	if (len > KX_HC_CONSOLE_MAX)
		len = KX_HC_CONSOLE_MAX;
	for (;;) {
		int nonblock = (f->flags & O_NONBLOCK) || kx_thread_count() > 1;
		int64_t n = input(buf, len, nonblock ? KX_CONSOLE_NONBLOCK : 0);
		long rc;

		if (n >= 0)
			return (long)n;
		if (n == -KX_EINTR)
			return -EINTR;
		if (n != -KX_EAGAIN)
			return -EIO;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		/* Other threads run while this one waits for input. */
		rc = kx_block(f, kx_now_ns(CLOCK_MONOTONIC) + 1000000ull);
		if (rc != 0 && rc != -ETIMEDOUT)
			return rc;
	}
}

static long console_write(struct kx_file *f, const void *buf, size_t len, off_t *off)
{
	size_t done = 0;

	(void)off;
	while (done < len) {
		size_t chunk = len - done < KX_HC_CONSOLE_MAX ? len - done : KX_HC_CONSOLE_MAX;
		struct kx_hc_console_write2 w = {.fd = (uint64_t)(uintptr_t)f->obj,
						 .buf = (uint64_t)(uintptr_t)buf + done,
						 .len = chunk};
		int64_t n = kx_hcall(&w.hdr, KX_HC_CONSOLE_WRITE2);

		if (n <= 0)
			return done > 0 ? (long)done : -EIO;
		done += (size_t)n;
	}
	return (long)done;
}

static long chr_stat(struct stat *st, mode_t perm, dev_t rdev)
{
	st->st_dev = makedev(0, 5);
	st->st_ino = (ino_t)rdev;
	st->st_nlink = 1;
	st->st_mode = S_IFCHR | perm;
	st->st_uid = KX_UID;
	st->st_gid = KX_GID;
	st->st_rdev = rdev;
	st->st_blksize = 4096;
	return 0;
}

static long console_stat(struct kx_file *f, struct stat *st)
{
	(void)f;
	return chr_stat(st, 0620, makedev(5, 1));
}

static unsigned console_poll(struct kx_file *f)
{
	if ((f->flags & O_ACCMODE) == O_RDONLY) {
		if (input(NULL, 0, KX_CONSOLE_POLL) > 0)
			return POLLIN;
		kx_io_recheck = 1; /* input arrives without a local wake-up */
		return 0;
	}
	return POLLOUT;
}

static unsigned rw_poll(struct kx_file *f)
{
	unsigned ev = 0;

	if ((f->flags & O_ACCMODE) != O_WRONLY)
		ev |= POLLIN;
	if ((f->flags & O_ACCMODE) != O_RDONLY)
		ev |= POLLOUT;
	return ev;
}

/* obj: the stream (0 input, 1 output, 2 errors) */
static const struct kx_file_ops console_ops = {
	.kind = "console",
	.read = console_read,
	.write = console_write,
	.stat = console_stat,
	.poll = console_poll,
};

void kx_console_init(void)
{
	static const int modes[3] = {O_RDONLY, O_WRONLY, O_WRONLY};

	for (int fd = 0; fd < 3; fd++) {
		struct kx_file *f = kx_file_new(&console_ops, (void *)(uintptr_t)fd, modes[fd]);

		if (!f || kx_fd_install(f, fd, 0) != fd)
			kx_panic("posix: cannot open fd %d", fd);
		kx_file_put(f); /* the fd holds it now */
	}
}

static long sink_write(struct kx_file *f, const void *buf, size_t len, off_t *off)
{
	(void)f, (void)buf, (void)off;
	return (long)len;
}

static long null_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	(void)f, (void)buf, (void)len, (void)off;
	return 0;
}

static long zero_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	(void)f, (void)off;
	memset(buf, 0, len);
	return (long)len;
}

/* Devices seek to 0 whatever is asked, as Linux's null and zero do. */
static long dev_size(struct kx_file *f, off_t *size)
{
	(void)f;
	*size = 0;
	return 0;
}

static long null_stat(struct kx_file *f, struct stat *st)
{
	(void)f;
	return chr_stat(st, 0666, makedev(1, 3));
}

static long zero_stat(struct kx_file *f, struct stat *st)
{
	(void)f;
	return chr_stat(st, 0666, makedev(1, 5));
}

const struct kx_file_ops kx_null_ops = {
	.kind = "null",
	.read = null_read,
	.write = sink_write,
	.size = dev_size,
	.stat = null_stat,
	.poll = rw_poll,
};

const struct kx_file_ops kx_zero_ops = {
	.kind = "zero",
	.read = zero_read,
	.write = sink_write,
	.size = dev_size,
	.stat = zero_stat,
	.poll = rw_poll,
};

static long random_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	(void)f, (void)off;
	return kx_random(buf, len > 33554431 ? 33554431 : len); /* as getrandom */
}

static long urandom_stat(struct kx_file *f, struct stat *st)
{
	(void)f;
	return chr_stat(st, 0666, makedev(1, 9));
}

/* Reads as getrandom does (RDRAND); writes are accepted and dropped, as
 * Linux mixes them into a pool this pVM does not have. */
const struct kx_file_ops kx_urandom_ops = {
	.kind = "urandom",
	.read = random_read,
	.write = sink_write,
	.size = dev_size,
	.stat = urandom_stat,
	.poll = rw_poll,
};
