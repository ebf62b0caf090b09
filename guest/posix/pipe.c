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
 * fork shares them (posix-mon): just before a fork every pipe of the pVM
 * becomes an IpC pipe kxd keeps (kx_pipe: a ring in pages both pVMs map,
 * the bytes still buffered moved into it), so parent and child read and
 * write the same pipe, and a read end sees end of file once no pVM holds
 * its write end.  Pipes made after the fork stay the pVM's own until the
 * next one.  A wait on a shared pipe sleeps in the monitor when it is the
 * only thread; with others it blocks on the ring's sequence word, which
 * the scheduler watches (and the monitor, when the vCPU halts), letting
 * them run.  poll, select and epoll_wait over a shared pipe watch the same
 * word (kx_io_watch).  A pVM alone (no kxd) or one whose policy
 * refuses IpC pipes forks with private copies of its pipes.
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
	/* posix-mon: shared by fork (kx_pipe ends; -1 once this pVM closed it) */
	int shared, kfd[2];
	struct pipe *next; /* every pipe of the pVM, for kx_pipes_share */
};

static ino_t next_ino = 1;
static struct pipe *all_pipes;

static void changed(struct pipe *p)
{
	kx_unblock(p, LONG_MAX);
	kx_unblock(&kx_io_changed, LONG_MAX);
}

/* ---- pipes shared with other pVMs (posix-mon) ---- */

static long ipc_errno(long rc)
{
	return rc == -KX_EINTR ? -EINTR : rc == -KX_EPIPE ? -EPIPE : -EIO;
}

/* Wait for an IpC end: the only thread sleeps in kx_read / kx_write
 * (NOTIFY_WAIT); with others, it blocks watching the ring's sequence word,
 * so they run meanwhile and, when none can, the vCPU halts until the other
 * pVM's wake (HALT_WATCH) — no polling. */
static long shared_wait(struct pipe *p, int end, uint64_t *bytes, int nonblock)
{
	for (;;) {
		long r = kx_pipe_ready(p->kfd[end], bytes), rc;
		struct kx_halt_word watch = {0};
		uint32_t *word;

		if (r != 0)
			return r;
		if (nonblock)
			return 0;
		if (kx_thread_count() == 1)
			return 3; /* block in kx_read / kx_write */
		r = kx_pipe_arm(p->kfd[end], &word, &watch.value, bytes);
		if (r != 0)
			continue; /* ready (or an error) meanwhile: look again */
		watch.addr = (uint64_t)(uintptr_t)word;
		rc = kx_block_watch(p, KX_NO_DEADLINE, &watch, 1);
		if (rc != 0)
			return rc == -EINTR ? -KX_EINTR : -KX_EIO;
	}
}

static long shared_read(struct kx_file *f, struct pipe *p, void *buf, size_t len)
{
	uint64_t bytes;
	long r = shared_wait(p, 0, &bytes, f->flags & O_NONBLOCK);

	if (r < 0)
		return ipc_errno(r);
	if (r == 0)
		return -EAGAIN;
	if (r == 2)
		return 0; /* no writer left in any pVM */
	r = kx_read(p->kfd[0], buf, len);
	return r >= 0 ? r : ipc_errno(r);
}

static long shared_write(struct kx_file *f, struct pipe *p, const void *buf, size_t len)
{
	uint64_t room;
	long r = shared_wait(p, 1, &room, f->flags & O_NONBLOCK);

	if (r == -KX_EPIPE) {
		kx_signal_self(SIGPIPE);
		return -EPIPE;
	}
	if (r < 0)
		return ipc_errno(r);
	if (r == 0 || ((f->flags & O_NONBLOCK) && len <= PIPE_BUF && room < len))
		return -EAGAIN;
	if ((f->flags & O_NONBLOCK) && len > room)
		len = (size_t)room;
	r = kx_write(p->kfd[1], buf, len);
	if (r == -KX_EPIPE)
		kx_signal_self(SIGPIPE);
	return r >= 0 ? r : ipc_errno(r);
}

void kx_pipes_share(void)
{
	for (struct pipe *p = all_pipes; p; p = p->next) {
		int k[2];

		if (p->shared || kx_pipe(k) != 0)
			continue; /* alone, or the policy says no: the child gets a copy */
		while (p->len > 0) { /* at most PIPE_CAP: the ring holds it all */
			size_t run = PIPE_CAP - p->head < p->len ? PIPE_CAP - p->head : p->len;

			if (kx_write(k[1], p->buf + p->head, run) != (long)run)
				break;
			p->head = (p->head + run) % PIPE_CAP;
			p->len -= run;
		}
		if (p->readers == 0) {
			kx_close(k[0]);
			k[0] = -1;
		}
		if (p->writers == 0) {
			kx_close(k[1]);
			k[1] = -1;
		}
		p->kfd[0] = k[0];
		p->kfd[1] = k[1];
		p->shared = 1;
	}
}

static long pipe_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	struct pipe *p = f->obj;
	size_t got = 0;

	(void)off;
	if (len == 0)
		return 0;
	if (p->shared)
		return shared_read(f, p, buf, len);
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
	if (p->shared)
		return shared_write(f, p, buf, len);
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
	uint64_t bytes;

	if (p->shared) {
		uint32_t *word = NULL, value = 0;
		long r = kx_io_watching ? kx_pipe_arm(p->kfd[0], &word, &value, &bytes)
					: kx_pipe_ready(p->kfd[0], &bytes);

		/* Another pVM's write wakes nobody here: the wait watches the
		 * ring's word instead. */
		if (r == 0)
			kx_io_watch(word, value);
		return r == 1 ? POLLIN : r == 2 ? POLLHUP : r < 0 ? POLLERR : 0;
	}
	return (p->len > 0 ? POLLIN : 0) | (p->writers == 0 ? POLLHUP : 0);
}

static unsigned write_poll(struct kx_file *f)
{
	struct pipe *p = f->obj;
	uint64_t room;

	if (p->shared) {
		uint32_t *word = NULL, value = 0;
		long r = kx_io_watching ? kx_pipe_arm(p->kfd[1], &word, &value, &room)
					: kx_pipe_ready(p->kfd[1], &room);

		if (r == 0 || (r == 1 && room < PIPE_BUF))
			kx_io_watch(word, value);
		return r < 0 ? POLLOUT | POLLERR : r == 1 && room >= PIPE_BUF ? POLLOUT : 0;
	}
	if (p->readers == 0)
		return POLLOUT | POLLERR;
	return PIPE_CAP - p->len >= PIPE_BUF ? POLLOUT : 0;
}

static long read_ioctl(struct kx_file *f, unsigned long req, void *arg)
{
	struct pipe *p = f->obj;
	uint64_t bytes = 0;

	if (req != FIONREAD)
		return -ENOTTY;
	if (p->shared)
		kx_pipe_ready(p->kfd[0], &bytes);
	*(int *)arg = (int)(p->shared ? bytes : p->len);
	return 0;
}

static void drop(struct pipe *p)
{
	changed(p);
	if (p->readers == 0 && p->writers == 0) {
		for (struct pipe **at = &all_pipes; *at; at = &(*at)->next)
			if (*at == p) {
				*at = p->next;
				break;
			}
		kx_kfree(p->buf);
		kx_kfree(p);
	}
}

/* The last fd of an end in this pVM: its IpC end goes too. */
static void drop_end(struct pipe *p, int end)
{
	if (p->shared && p->kfd[end] >= 0) {
		kx_close(p->kfd[end]);
		p->kfd[end] = -1;
	}
}

static void read_release(struct kx_file *f)
{
	struct pipe *p = f->obj;

	if (--p->readers == 0)
		drop_end(p, 0);
	drop(p);
}

static void write_release(struct kx_file *f)
{
	struct pipe *p = f->obj;

	if (--p->writers == 0)
		drop_end(p, 1);
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
	p->kfd[0] = p->kfd[1] = -1;
	p->next = all_pipes;
	all_pipes = p;
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
