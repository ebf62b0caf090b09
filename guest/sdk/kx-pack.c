/*
 * kx-pack — pack a directory into a read-only file tree for a pVM image
 * (guest/kx_pack_abi.h; docs/posix.md, docs/sdk.md, kx-pack(1)).
 *
 *   kx-pack [-m MOUNT] -o tree.o DIR      an object to link into the image
 *   kx-pack [-m MOUNT] --blob -o tree.pack DIR   the pack alone
 *
 * The object holds the pack in .rodata (the image's read-only segment, so
 * the image's signature covers it) between the symbols kx_image_tree and
 * kx_image_tree_end, which the syscall layer looks for at start.  Only
 * directories and regular files can be packed: a symbolic link, a device,
 * a socket or a FIFO under DIR is an error (a tree must mean the same in
 * every pVM).  Permission bits are kept (0777 of them); owners and times
 * are not.  The result is checked with the guest's own reader before it is
 * written, and written atomically.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/kx_pack_abi.h"

struct item {
	char *path; /* relative to DIR */
	uint32_t mode;
	uint64_t size;
};

struct packer {
	const char *root;
	struct item *items;
	size_t n, cap;
};

static void usage(FILE *out)
{
	fputs("usage: kx-pack [-m MOUNT] [--blob] -o OUTPUT DIR\n"
	      "\n"
	      "Pack the directories and regular files below DIR into a read-only tree\n"
	      "for a pVM image.  OUTPUT is an object file to link into the image with\n"
	      "kx-cc (kx-cc -o app.kxe app.c tree.o), or with --blob the pack alone.\n"
	      "The tree appears in the pVM at MOUNT (default /image), read-only; with\n"
	      "kxd, the app's manifest must grant it with a files rule\n"
	      "{ guest: MOUNT, image: true }.  Symbolic links and special files are\n"
	      "refused.  See kx-pack(1) and docs/sdk.md.\n",
	      out);
}

static int add(struct packer *pk, const char *rel, const struct stat *st)
{
	struct item *it;

	if (pk->n == pk->cap) {
		size_t cap = pk->cap ? pk->cap * 2 : 64;
		struct item *items = realloc(pk->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		pk->items = items;
		pk->cap = cap;
	}
	if (pk->n >= KX_PACK_COUNT_MAX) {
		fprintf(stderr, "kx-pack: %s: more than %u entries\n", pk->root, KX_PACK_COUNT_MAX);
		return -E2BIG;
	}
	it = &pk->items[pk->n];
	it->path = strdup(rel);
	if (!it->path)
		return -ENOMEM;
	it->mode = (S_ISDIR(st->st_mode) ? KX_PACK_DIR : KX_PACK_REG) | (st->st_mode & 0777);
	it->size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;
	pk->n++;
	return 0;
}

/* Everything below the directory rel ("" for DIR itself). */
static int walk(struct packer *pk, const char *rel)
{
	char full[PATH_MAX], child[PATH_MAX], path[PATH_MAX];
	struct dirent *d;
	DIR *dir;
	int rc = 0;

	snprintf(full, sizeof(full), "%s%s%s", pk->root, rel[0] ? "/" : "", rel);
	dir = opendir(full);
	if (!dir) {
		fprintf(stderr, "kx-pack: %s: %s\n", full, strerror(errno));
		return -errno;
	}
	while ((d = readdir(dir)) != NULL) {
		struct stat st;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (strlen(d->d_name) > KX_PACK_NAME_MAX ||
		    (size_t)snprintf(child, sizeof(child), "%s%s%s", rel, rel[0] ? "/" : "",
				     d->d_name) >= sizeof(child) ||
		    strlen(child) > KX_PACK_PATH_MAX) {
			fprintf(stderr, "kx-pack: %s/%s: name too long\n", full, d->d_name);
			rc = -ENAMETOOLONG;
			break;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", pk->root, child) >= sizeof(path)) {
			fprintf(stderr, "kx-pack: %s/%s: name too long\n", pk->root, child);
			rc = -ENAMETOOLONG;
			break;
		}
		if (lstat(path, &st) != 0) {
			fprintf(stderr, "kx-pack: %s: %s\n", path, strerror(errno));
			rc = -errno;
			break;
		}
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
			fprintf(stderr,
				"kx-pack: %s: %s (only directories and regular files can be packed)\n",
				path, S_ISLNK(st.st_mode) ? "a symbolic link" : "a special file");
			rc = -EINVAL;
			break;
		}
		if ((rc = add(pk, child, &st)) != 0)
			break;
		if (S_ISDIR(st.st_mode) && (rc = walk(pk, child)) != 0)
			break;
	}
	closedir(dir);
	return rc;
}

static int by_path(const void *a, const void *b)
{
	/* No NUL inside a path: strcmp is kx_pack.c's byte order. */
	return strcmp(((const struct item *)a)->path, ((const struct item *)b)->path);
}

static int read_file(const char *path, unsigned char *out, uint64_t size)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	uint64_t got = 0;
	int rc = 0;

	if (fd < 0)
		return -errno;
	while (got < size) {
		ssize_t n = read(fd, out + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO; /* shrank while packing */
			break;
		}
		got += (uint64_t)n;
	}
	close(fd);
	return rc;
}

static uint64_t align16(uint64_t v)
{
	return (v + 15) & ~(uint64_t)15;
}

/* The pack of pk's items in *out (malloc'ed), *len bytes. */
static int build(struct packer *pk, const char *mount, unsigned char **out, uint64_t *len)
{
	uint64_t table = sizeof(struct kx_pack_hdr) + pk->n * sizeof(struct kx_pack_entry);
	uint64_t at = table + strlen(mount), data_at;
	struct kx_pack_hdr h;
	unsigned char *buf;

	for (size_t i = 0; i < pk->n; i++)
		at += strlen(pk->items[i].path);
	if (at > UINT32_MAX) {
		fprintf(stderr, "kx-pack: the names take more than 4 GiB\n");
		return -E2BIG;
	}
	data_at = align16(at);
	at = data_at;
	for (size_t i = 0; i < pk->n; i++)
		at = align16(at + pk->items[i].size);
	buf = calloc(1, at ? at : 1);
	if (!buf) {
		fprintf(stderr, "kx-pack: no memory for %llu bytes\n", (unsigned long long)at);
		return -ENOMEM;
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, KX_PACK_MAGIC, sizeof(h.magic));
	h.version = KX_PACK_VERSION;
	h.count = (uint32_t)pk->n;
	h.size = at;
	h.mount_off = (uint32_t)table;
	h.mount_len = (uint32_t)strlen(mount);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + table, mount, h.mount_len);
	{
		uint64_t name_at = table + h.mount_len;

		for (size_t i = 0; i < pk->n; i++) {
			struct item *it = &pk->items[i];
			struct kx_pack_entry e = {
				.path_off = (uint32_t)name_at,
				.path_len = (uint32_t)strlen(it->path),
				.mode = it->mode,
			};
			char full[PATH_MAX];
			int rc;

			memcpy(buf + name_at, it->path, e.path_len);
			name_at += e.path_len;
			if ((it->mode & ~0777u) == KX_PACK_REG) {
				e.data_off = data_at;
				e.data_size = it->size;
				snprintf(full, sizeof(full), "%s/%s", pk->root, it->path);
				if ((rc = read_file(full, buf + data_at, it->size)) != 0) {
					fprintf(stderr, "kx-pack: %s: %s\n", full, strerror(-rc));
					free(buf);
					return rc;
				}
				data_at = align16(data_at + it->size);
			}
			memcpy(buf + sizeof(h) + i * sizeof(e), &e, sizeof(e));
		}
	}
	*out = buf;
	*len = at;
	return 0;
}

/* Write len bytes to path atomically: a temporary file beside it, fsync,
 * rename. */
static int write_atomic(const char *path, const unsigned char *buf, uint64_t len)
{
	char tmp[PATH_MAX];
	uint64_t done = 0;
	int fd, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		done += (uint64_t)n;
	}
	if (rc == 0 && (fchmod(fd, 0644) != 0 || fsync(fd) != 0))
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	return rc;
}

/* Assemble the pack at blob into the object out (via a temporary .S and the
 * C compiler KX_CC_GCC names, gcc by default), atomically. */
static int assemble(const char *blob, const char *out)
{
	char src[PATH_MAX], obj[PATH_MAX];
	const char *gcc = getenv("KX_CC_GCC");
	FILE *f;
	int fd, rc = 0, status;
	pid_t pid;

	if (!gcc || !*gcc)
		gcc = "gcc";
	if ((size_t)snprintf(src, sizeof(src), "%s.XXXXXX.S", out) >= sizeof(src) ||
	    (size_t)snprintf(obj, sizeof(obj), "%s.XXXXXX", out) >= sizeof(obj))
		return -ENAMETOOLONG;
	fd = mkstemps(src, 2);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		unlink(src);
		return rc;
	}
	fputs("\t.section .rodata.kx_image_tree,\"a\",@progbits\n"
	      "\t.balign 16\n"
	      "\t.globl kx_image_tree\n"
	      "\t.type kx_image_tree,@object\n"
	      "kx_image_tree:\n"
	      "\t.incbin \"",
	      f);
	for (const char *p = blob; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputs("\"\n"
	      "\t.globl kx_image_tree_end\n"
	      "kx_image_tree_end:\n"
	      "\t.section .note.GNU-stack,\"\",@progbits\n",
	      f);
	if (fclose(f) != 0) {
		unlink(src);
		return -EIO;
	}
	fd = mkstemp(obj);
	if (fd < 0) {
		rc = -errno;
		unlink(src);
		return rc;
	}
	close(fd);
	pid = fork();
	if (pid == 0) {
		execlp(gcc, gcc, "-c", "-o", obj, src, (char *)NULL);
		fprintf(stderr, "kx-pack: %s: %s\n", gcc, strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "kx-pack: %s could not assemble the tree\n", gcc);
		rc = -EIO;
	}
	if (rc == 0) {
		fd = open(obj, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fchmod(fd, 0644) != 0 || fsync(fd) != 0)
			rc = -EIO;
		if (fd >= 0)
			close(fd);
	}
	if (rc == 0 && rename(obj, out) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(obj);
	unlink(src);
	return rc;
}

int main(int argc, char **argv)
{
	const char *mount = "/image", *out = NULL, *dir = NULL, *why;
	struct packer pk = {0};
	unsigned char *buf = NULL;
	uint64_t len = 0;
	struct kx_pack check;
	char blob[PATH_MAX] = "";
	int blob_only = 0, rc, status = 1;
	struct stat st;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--blob") == 0) {
			blob_only = 1;
		} else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc) {
			mount = argv[++i];
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			out = argv[++i];
		} else if (argv[i][0] != '-' && !dir) {
			dir = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!out || !dir) {
		usage(stderr);
		return 2;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "kx-pack: %s: not a directory\n", dir);
		return 1;
	}
	pk.root = dir;
	if (walk(&pk, "") != 0)
		goto out;
	qsort(pk.items, pk.n, sizeof(*pk.items), by_path);
	if (build(&pk, mount, &buf, &len) != 0)
		goto out;
	/* The guest's own reader must accept what we made (it checks the
	 * mount point, names and order). */
	if (kx_pack_open(&check, buf, len, &why) != 0) {
		fprintf(stderr, "kx-pack: %s: %s (mount point %s)\n", dir, why, mount);
		goto out;
	}
	if (blob_only) {
		if ((rc = write_atomic(out, buf, len)) != 0) {
			fprintf(stderr, "kx-pack: %s: %s\n", out, strerror(-rc));
			goto out;
		}
	} else {
		int fd;

		snprintf(blob, sizeof(blob), "%s", "/tmp/kx-pack.XXXXXX");
		if (getenv("TMPDIR") && *getenv("TMPDIR"))
			snprintf(blob, sizeof(blob), "%s/kx-pack.XXXXXX", getenv("TMPDIR"));
		fd = mkstemp(blob);
		if (fd < 0) {
			fprintf(stderr, "kx-pack: %s: %s\n", blob, strerror(errno));
			blob[0] = '\0';
			goto out;
		}
		close(fd);
		if ((rc = write_atomic(blob, buf, len)) != 0 || (rc = assemble(blob, out)) != 0) {
			fprintf(stderr, "kx-pack: %s: %s\n", out, strerror(-rc));
			goto out;
		}
	}
	status = 0;
out:
	if (blob[0])
		unlink(blob);
	for (size_t i = 0; i < pk.n; i++)
		free(pk.items[i].path);
	free(pk.items);
	free(buf);
	return status;
}
