/*
 * pipe.c — pipe and pipe2 inside one pVM: a 64 KiB ring (Linux's default
 * capacity) between a read end and a write end, each an fd object.
 *
 * Linux semantics: a read waits for data and returns what is there (0 once
 * no write end is left); a write of up to PIPE_BUF bytes is atomic; a
 * write waits for room; writing with no read end left raises SIGPIPE and
 * fails with EPIPE; O_NONBLOCK turns waits into EAGAIN.  Every change
 * wakes the pipe's waiters and poll/select (kx_io_changed).
 *
 * Pipes between pVMs (kx_pipe, KX_HC_IPC_GET) become fds like these in
 * phase 2, when fork arrives.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "guest/posix/posix.h"

#define PIPE_CAP 65536u

struct pipe {
	char *buf;
	size_t head, len; /* bytes at [head, head + len) mod PIPE_CAP */
	unsigned readers, writers;
	ino_t ino;
};

static ino_t next_ino = 1;

static void changed(struct pipe *p)
{
	kx_unblock(p, LONG_MAX);
	kx_unblock(&kx_io_changed, LONG_MAX);
}

static long pipe_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	struct pipe *p = f->obj;
	size_t got = 0;

	(void)off;
	if (len == 0)
		return 0;
	while (p->len == 0) {
		long rc;

		if (p->writers == 0)
			return 0;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if ((rc = kx_block(p, KX_NO_DEADLINE)) != 0)
			return rc;
	}
	while (got < len && p->len > 0) {
		size_t run = PIPE_CAP - p->head;

		if (run > p->len)
			run = p->len;
		if (run > len - got)
			run = len - got;
		memcpy((char *)buf + got, p->buf + p->head, run);
		p->head = (p->head + run) % PIPE_CAP;
		p->len -= run;
		got += run;
	}
	changed(p);
	return (long)got;
}

static long pipe_write(struct kx_file *f, const void *buf, size_t len, off_t *off)
{
	struct pipe *p = f->obj;
	size_t done = 0;

	(void)off;
	while (done < len) {
		size_t room = PIPE_CAP - p->len, want = len - done;
		long rc;

		if (p->readers == 0) {
			kx_signal_self(SIGPIPE);
			return done > 0 ? (long)done : -EPIPE;
		}
		/* Up to PIPE_BUF bytes go in one piece or not at all. */
		if (room == 0 || (len <= PIPE_BUF && room < len)) {
			if (f->flags & O_NONBLOCK)
				return done > 0 ? (long)done : -EAGAIN;
			if ((rc = kx_block(p, KX_NO_DEADLINE)) != 0)
				return done > 0 ? (long)done : rc;
			continue;
		}
		if (want > room)
			want = room;
		while (want > 0) {
			size_t tail = (p->head + p->len) % PIPE_CAP, run = PIPE_CAP - tail;

			if (run > want)
				run = want;
			memcpy(p->buf + tail, (const char *)buf + done, run);
			p->len += run;
			done += run;
			want -= run;
		}
		changed(p);
	}
	return (long)done;
}

static long pipe_stat(struct kx_file *f, struct stat *st)
{
	struct pipe *p = f->obj;

	st->st_dev = 0x0c; /* Linux's pipefs has an anonymous device too */
	st->st_ino = p->ino;
	st->st_nlink = 1;
	st->st_mode = S_IFIFO | 0600;
	st->st_uid = KX_UID;
	st->st_gid = KX_GID;
	st->st_blksize = 4096;
	return 0;
}

static unsigned read_poll(struct kx_file *f)
{
	struct pipe *p = f->obj;

	return (p->len > 0 ? POLLIN : 0) | (p->writers == 0 ? POLLHUP : 0);
}

static unsigned write_poll(struct kx_file *f)
{
	struct pipe *p = f->obj;

	if (p->readers == 0)
		return POLLOUT | POLLERR;
	return PIPE_CAP - p->len >= PIPE_BUF ? POLLOUT : 0;
}

static long read_ioctl(struct kx_file *f, unsigned long req, void *arg)
{
	if (req != FIONREAD)
		return -ENOTTY;
	*(int *)arg = (int)((struct pipe *)f->obj)->len;
	return 0;
}

static void drop(struct pipe *p)
{
	changed(p);
	if (p->readers == 0 && p->writers == 0) {
		kx_kfree(p->buf);
		kx_kfree(p);
	}
}

static void read_release(struct kx_file *f)
{
	struct pipe *p = f->obj;

	p->readers--;
	drop(p);
}

static void write_release(struct kx_file *f)
{
	struct pipe *p = f->obj;

	p->writers--;
	drop(p);
}

static const struct kx_file_ops read_ops = {
	.kind = "pipe (read end)",
	.read = pipe_read,
	.stat = pipe_stat,
	.ioctl = read_ioctl,
	.poll = read_poll,
	.release = read_release,
};

static const struct kx_file_ops write_ops = {
	.kind = "pipe (write end)",
	.write = pipe_write,
	.stat = pipe_stat,
	.poll = write_poll,
	.release = write_release,
};

static long pipe_new(int *fds, int flags)
{
	struct pipe *p, *owned;
	struct kx_file *r = NULL, *w = NULL;
	long rfd = -1, wfd = -1, rc = -ENFILE;

	if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	owned = p = kx_kalloc(sizeof(*p));
	if (!p || !(p->buf = kx_kalloc(PIPE_CAP)))
		goto out;
	p->ino = next_ino++;
	r = kx_file_new(&read_ops, p, O_RDONLY | (flags & O_NONBLOCK));
	if (!r)
		goto out;
	p->readers = 1;
	owned = NULL; /* from here the ends own it: the last release frees it */
	w = kx_file_new(&write_ops, p, O_WRONLY | (flags & O_NONBLOCK));
	if (!w)
		goto out;
	p->writers = 1;
	rfd = kx_fd_install(r, 0, flags & O_CLOEXEC);
	if (rfd >= 0)
		wfd = kx_fd_install(w, 0, flags & O_CLOEXEC);
	if (rfd < 0 || wfd < 0) {
		if (rfd >= 0)
			kx_fd_close(rfd);
		rc = -EMFILE;
		goto out;
	}
	fds[0] = (int)rfd;
	fds[1] = (int)wfd;
	rc = 0;
out:
	/* The fds hold the ends now, or nothing does (and the pipe goes). */
	if (w)
		kx_file_put(w);
	if (r)
		kx_file_put(r);
	if (owned) {
		kx_kfree(owned->buf);
		kx_kfree(owned);
	}
	return rc;
}

KX_SYS(pipe)
{
	return pipe_new((int *)a[0], 0);
}

KX_SYS(pipe2)
{
	return pipe_new((int *)a[0], (int)a[1]);
}
