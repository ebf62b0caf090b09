/*
 * Libraries: found by name in the libdirs, decided by the gate, and kept
 * as sealed memfds, one per content, so a library's bytes exist once per
 * host however many pVMs link it.  The memfd holds exactly the bytes the
 * gate verified; the seals make it immutable, so what kxmon maps is what
 * was checked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manager/kxd/internal.h"

int kxd_read_fd(int fd, size_t max, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *data = NULL;
	size_t size, got = 0;
	int rc;

	if (fstat(fd, &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size <= 0 || (uint64_t)st.st_size > max)
		return -EFBIG;
	size = (size_t)st.st_size;
	data = malloc(size);
	if (!data)
		return -ENOMEM;
	while (got < size) {
		ssize_t n = pread(fd, data + got, size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO; /* shrank under us */
			free(data);
			return rc;
		}
		got += (size_t)n;
	}
	*buf = data;
	*len = size;
	return 0;
}

int kxd_lib_read(struct kxd *d, const char *name, uint8_t **buf, size_t *len, char *why,
		 size_t whylen)
{
	if (!kxd_libname_ok(name)) {
		snprintf(why, whylen, "library name '%.64s' refused (no '/', no leading '.')", name);
		return -EINVAL;
	}
	for (size_t i = 0; i < d->nlibdirs; i++) {
		char path[KXD_PATH_MAX + KXMON_NAME_MAX];
		int fd, rc;

		snprintf(path, sizeof(path), "%s/%s", d->libdirs[i], name);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			return -errno;
		}
		rc = kxd_read_fd(fd, KXD_LIB_MAX, buf, len);
		close(fd);
		if (rc != 0)
			snprintf(why, whylen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	snprintf(why, whylen, "library %s: not found in any --libdir", name);
	return -ENOENT;
}

int kxd_sealed_memfd(const char *name, const uint8_t *bytes, size_t len)
{
	size_t done = 0;
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), rc;

	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, bytes + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
		goto fail;
	return fd;
fail:
	rc = errno ? -errno : -EIO;
	close(fd);
	return rc;
}

int kxd_lib_memfd(struct kxd *d, const struct kxsig_meta *meta, const uint8_t *bytes, size_t len)
{
	uint8_t sha[crypto_hash_sha256_BYTES];
	int fd;

	crypto_hash_sha256(sha, bytes, len);
	for (size_t i = 0; i < d->nstore; i++)
		if (memcmp(d->store[i].sha, sha, sizeof(sha)) == 0 &&
		    memcmp(d->store[i].digest, meta->digest, sizeof(meta->digest)) == 0)
			return d->store[i].memfd;
	if (d->nstore == KXD_MAX_STORE)
		return -ENOSPC;
	fd = kxd_sealed_memfd(meta->name, bytes, len);
	if (fd < 0)
		return fd;
	memcpy(d->store[d->nstore].sha, sha, sizeof(sha));
	memcpy(d->store[d->nstore].digest, meta->digest, sizeof(meta->digest));
	d->store[d->nstore++].memfd = fd;
	return fd;
}

void kxd_store_close(struct kxd *d)
{
	for (size_t i = 0; i < d->nstore; i++)
		close(d->store[i].memfd);
	d->nstore = 0;
}

void kxd_describe_denial(const struct gate_decision *dec, int rc, const char *what, char *why,
			 size_t whylen)
{
	if (rc == 0 && dec->has_rule)
		snprintf(why, whylen, "%s denied: %s (rule %s:%u)", what, dec->reason,
			 dec->rule.file ? dec->rule.file : "?", dec->rule.line);
	else
		snprintf(why, whylen, "%s denied: %s", what, dec->reason);
}

int kxd_lib_decide(struct kxd *d, const struct gate_subject *requester, struct kxd_pvm *p,
		   const char *lib, struct gate_decision *dec, int *memfd, char *why,
		   size_t whylen)
{
	struct gate_subject target;
	char what[KXMON_NAME_MAX + KXD_APP_MAX + 32];
	uint8_t *bytes = NULL;
	size_t len = 0;
	int rc;

	*memfd = -1;
	kxd_pvm_subject(p, &target);
	rc = kxd_lib_read(d, lib, &bytes, &len, why, whylen);
	if (rc != 0) {
		/* a name that leads nowhere is a refusal too, and audited */
		if (gate_link_unresolved(d->gate, requester, &target, lib, why, dec) != 0)
			snprintf(why, whylen, "%s", dec->reason);
		return rc;
	}
	rc = gate_link(d->gate, requester, &target, lib, bytes, len, dec);
	if (rc != 0 || dec->verdict != KXP_ALLOW) {
		snprintf(what, sizeof(what), "link of %s into pVM %llu (%s)", lib,
			 (unsigned long long)p->id, p->app);
		kxd_describe_denial(dec, rc, what, why, whylen);
		dec->verdict = KXP_DENY;
		rc = 0;
		goto out;
	}
	rc = kxd_lib_memfd(d, &dec->meta, bytes, len);
	if (rc < 0) {
		snprintf(why, whylen, "library %s: cannot keep it: %s", lib, strerror(-rc));
		goto out;
	}
	*memfd = rc;
	rc = 0;
out:
	free(bytes);
	return rc;
}
