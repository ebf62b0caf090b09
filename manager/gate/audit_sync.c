/*
 * The audit log's file, written whole or not at all, and its durability
 * (docs/audit-log.md section 3).  A write lands where the file ends (lseek:
 * never over bytes someone else appended), into space allocated ahead; a
 * failure cuts the file back to where the write began.  The modes of
 * struct gate_opts.sync:
 *   group     a decision is answered once its record is durable; whoever
 *             finds no flush running does one fdatasync() outside the lock
 *             for everything written so far, and the decisions written
 *             meanwhile wait for it or the next (group commit).  A failed
 *             flush cuts off every record not yet durable: their decisions
 *             are refused and counted unlogged;
 *   always    one fdatasync() per record, under the lock (gate_log_commit);
 *   interval  a thread of the gate flushes every sync_ms: decisions are
 *             answered before their record is durable; while flushes fail
 *             new decisions are refused (nothing is cut: those answered
 *             stay recorded as far as the disk keeps them).
 */
#define _GNU_SOURCE /* fallocate */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manager/gate/internal.h"

/* ---- writing: whole records or nothing ------------------------------------------ */

/* Cut the file back to its whole records, after a failed write. */
int gate_log_cut_back(struct gate *g)
{
	if (!g->log_regular)
		return 0;
	if (ftruncate(g->log_fd, g->log_size) < 0) {
		g->log_dirty = true; /* try again before the next write */
		return -errno;
	}
	g->log_dirty = false;
	/* a denied decision's record must not come back after a crash */
	if (g->log_sync)
		(void)fdatasync(g->log_fd);
	return 0;
}

/* Room for len more bytes, allocated ahead in GATE_PREALLOC steps past the
 * end (FALLOC_FL_KEEP_SIZE: readers see no padding).  Appending then only
 * moves the file's size, and a file system without room says so here,
 * before anything is written.  A file system that cannot preallocate is
 * written as before. */
static int preallocate(struct gate *g, size_t len)
{
	off_t want = g->log_size + (off_t)len;

	if (!g->log_regular || g->prealloc_off || want <= g->prealloc_end)
		return 0;
	if (fallocate(g->log_fd, FALLOC_FL_KEEP_SIZE, g->log_size,
		      (off_t)(len > GATE_PREALLOC ? len : GATE_PREALLOC)) == 0) {
		g->prealloc_end = g->log_size + (off_t)(len > GATE_PREALLOC ? len : GATE_PREALLOC);
		return 0;
	}
	if (errno == EOPNOTSUPP || errno == ENOSYS) {
		g->prealloc_off = true;
		return 0;
	}
	if (errno == ENOSPC && fallocate(g->log_fd, FALLOC_FL_KEEP_SIZE, g->log_size,
					 (off_t)len) == 0) {
		g->prealloc_end = want; /* just this record: the disk is nearly full */
		return 0;
	}
	return -errno;
}

/* Append buf (whole records) and, with sync_now, make it durable.  On
 * failure nothing of it stays in a regular file: the file is cut back at
 * once (a pipe gets the torn line's newline). */
int gate_log_commit(struct gate *g, const char *buf, size_t len, bool sync_now)
{
	size_t done = 0;
	int rc = 0;

	if (g->log_dirty && (rc = gate_log_cut_back(g)) < 0)
		return rc;
	if (g->log_regular) {
		/* where this write lands: bytes someone else appended (or cut)
		 * since our last record stay as they are, and a failure cuts
		 * back to here, never into them or into records before them */
		off_t end = lseek(g->log_fd, 0, SEEK_END);

		if (end < 0)
			return -errno;
		g->log_size = end;
		if (g->durable.size > end)
			g->durable.size = end;
	}
	if ((rc = preallocate(g, len)) < 0)
		return rc;
	while (done < len) {
		ssize_t n = write(g->log_fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (rc == 0 && sync_now && g->log_sync) {
		g->flushes++;
		if (fdatasync(g->log_fd) < 0)
			rc = -errno;
	}
	if (rc == 0) {
		g->log_size += (off_t)len;
		return 0;
	}
	if (g->log_regular)
		(void)gate_log_cut_back(g);
	else if (done > 0 && done < len && write(g->log_fd, "\n", 1) != 1)
		rc = -EIO;
	return rc;
}

/* Everything in the file is durable now (the lock is held). */
void gate_mark_durable(struct gate *g)
{
	g->durable.size = g->log_size;
	g->durable.seq = g->seq;
	g->durable.unsealed = g->unsealed;
	memcpy(g->durable.chain, g->chain, sizeof(g->chain));
	g->held_decisions = 0;
	g->held_reported = 0;
	pthread_cond_broadcast(&g->synced);
}

/* One fdatasync() outside the lock for everything written so far; whoever
 * wrote meanwhile waits for the next.  On failure the records not yet
 * durable are cut off (their decisions are refused) and `epoch` moves on. */
static void flush_once(struct gate *g, bool cut_on_failure)
{
	struct gate_durable target = {
		.size = g->log_size, .seq = g->seq, .unsealed = g->unsealed,
	};
	int rc;

	memcpy(target.chain, g->chain, sizeof(target.chain));
	g->syncing = true;
	g->flushes += g->log_sync;
	pthread_mutex_unlock(&g->lock);
	rc = g->log_sync && fdatasync(g->log_fd) < 0 ? -errno : 0;
	pthread_mutex_lock(&g->lock);
	g->syncing = false;
	g->flush_errno = -rc;
	if (rc == 0 && target.size >= g->durable.size) {
		g->durable = target;
		if (g->log_size == target.size)
			g->held_decisions = g->held_reported = 0;
	} else if (rc != 0 && cut_on_failure && g->log_size > g->durable.size) {
		g->log_size = g->durable.size;
		g->seq = g->durable.seq;
		g->unsealed = g->durable.unsealed;
		memcpy(g->chain, g->durable.chain, sizeof(g->chain));
		(void)gate_log_cut_back(g);
		g->epoch++;
	}
	pthread_cond_broadcast(&g->synced);
}

/* Group commit: wait until the file is durable up to `end`.  0, or -errno
 * when the flush that should have covered it failed (it is cut off). */
int gate_group_sync(struct gate *g, off_t end, uint64_t epoch)
{
	while (g->epoch == epoch && g->durable.size < end) {
		if (g->syncing)
			pthread_cond_wait(&g->synced, &g->lock);
		else
			flush_once(g, true);
	}
	return g->epoch == epoch ? 0 : -(g->flush_errno ? g->flush_errno : EIO);
}

void gate_audit_hold(struct gate *g, bool hold)
{
	pthread_mutex_lock(&g->lock);
	g->held = hold && g->sync_mode == GATE_SYNC_GROUP;
	pthread_mutex_unlock(&g->lock);
}

bool gate_audit_pending(struct gate *g)
{
	bool pending;

	pthread_mutex_lock(&g->lock);
	pending = g->sync_mode == GATE_SYNC_GROUP && g->log_size > g->durable.size;
	pthread_mutex_unlock(&g->lock);
	return pending;
}

/* The held decisions' flush: one fdatasync() for all of them.  On failure
 * they are cut off (flush_once) and counted unlogged, with what their
 * "unlogged" records had reported. */
int gate_audit_commit(struct gate *g)
{
	uint64_t epoch, decisions, reported;
	int rc;

	pthread_mutex_lock(&g->lock);
	decisions = g->held_decisions;
	reported = g->held_reported;
	epoch = g->epoch;
	rc = gate_group_sync(g, g->log_size, epoch);
	if (rc != 0) {
		g->unlogged += decisions + reported;
		g->unlogged_errno = -rc;
		g->held_decisions = g->held_reported = 0;
	}
	pthread_mutex_unlock(&g->lock);
	return rc;
}

/* interval=MS: a thread flushes what was written every MS ms. */
static void *flusher(void *arg)
{
	struct gate *g = arg;

	pthread_mutex_lock(&g->lock);
	while (!g->flusher_stop) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += g->sync_ms / 1000;
		until.tv_nsec += (long)(g->sync_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->flusher_wake, &g->lock, &until);
		if (g->log_size > g->durable.size && !g->syncing)
			flush_once(g, false); /* already answered: kept, never cut */
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

int gate_sync_parse(const char *s, struct gate_opts *opts)
{
	char *end;
	unsigned long ms;

	if (strcmp(s, "always") == 0) {
		opts->sync = GATE_SYNC_ALWAYS;
	} else if (strcmp(s, "group") == 0) {
		opts->sync = GATE_SYNC_GROUP;
	} else if (strncmp(s, "interval=", 9) == 0) {
		errno = 0;
		ms = strtoul(s + 9, &end, 10);
		if (errno != 0 || end == s + 9 || *end != '\0' || ms < 1 ||
		    ms > GATE_SYNC_INTERVAL_MAX_MS)
			return -EINVAL;
		opts->sync = GATE_SYNC_INTERVAL;
		opts->sync_interval_ms = (unsigned)ms;
	} else {
		return -EINVAL;
	}
	return 0;
}

int gate_flusher_start(struct gate *g, struct kx_error *err)
{
	int rc = -pthread_create(&g->flusher, NULL, flusher, g);

	if (rc != 0)
		return kx_err(err, rc, "audit log %s: flusher thread: %s", g->log_path,
			      strerror(-rc));
	g->flusher_running = true;
	return 0;
}

void gate_audit_close(struct gate *g)
{
	if (g->flusher_running) {
		pthread_mutex_lock(&g->lock);
		g->flusher_stop = true;
		pthread_cond_signal(&g->flusher_wake);
		pthread_mutex_unlock(&g->lock);
		pthread_join(g->flusher, NULL);
		g->flusher_running = false;
	}
	if (g->log_fd >= 0) {
		if (g->log_sync && g->log_size > g->durable.size)
			(void)fdatasync(g->log_fd);
		close(g->log_fd);
		g->log_fd = -1;
	}
}

void gate_audit_stats(struct gate *g, struct gate_audit_stats *out)
{
	pthread_mutex_lock(&g->lock);
	out->records = g->seq;
	out->flushes = g->flushes;
	out->unflushed_bytes = (uint64_t)(g->log_size - g->durable.size);
	out->unsealed = g->unsealed;
	out->unlogged = g->unlogged;
	out->denials = g->denials;
	pthread_mutex_unlock(&g->lock);
}
