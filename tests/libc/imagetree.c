/* The read-only file tree packed into the signed image (kx-pack; built
 * from tests/libc/tree and mounted at /srv/tree): checked inside a pVM
 * only (tests/cli/libc.bats).  Its files read like files, list like
 * directories, and every change is refused as on a read-only Linux mount:
 * EROFS inside, EXDEV between it and tmpfs, EBUSY for its mount point. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"

#define MOTD "hello from the signed tree\n"

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	char buf[128], *names[16];
	struct stat st;
	struct dirent *d;
	DIR *dir;
	FILE *f;
	int fd, n = 0;
	void *m;

	/* reading */
	fd = open("/srv/tree/etc/motd", O_RDONLY);
	check(fd >= 0, "open a file of the tree");
	check(read(fd, buf, sizeof(buf)) == (ssize_t)strlen(MOTD) &&
		      memcmp(buf, MOTD, strlen(MOTD)) == 0,
	      "read it whole");
	check(pread(fd, buf, 4, 6) == 4 && memcmp(buf, "from", 4) == 0, "pread at an offset");
	check(lseek(fd, 0, SEEK_END) == (off_t)strlen(MOTD), "SEEK_END is its size");
	check(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0644 &&
		      st.st_size == (off_t)strlen(MOTD),
	      "fstat: a regular file, 0644, its size");
	CHECK_ERR(write(fd, "x", 1), EBADF, "write to the O_RDONLY fd");
	m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	check(m != MAP_FAILED && memcmp(m, MOTD, strlen(MOTD)) == 0, "mmap MAP_PRIVATE of it");
	close(fd);
	f = fopen("/srv/tree/etc/conf/app.conf", "r");
	check(f && fgets(buf, sizeof(buf), f) && strcmp(buf, "name = demo\n") == 0,
	      "fopen + fgets two levels down");
	if (f)
		fclose(f);
	check(stat("/srv/tree/data/empty", &st) == 0 && st.st_size == 0, "an empty file");
	check(stat("/srv/tree/bin/tool", &st) == 0 && (st.st_mode & 0777) == 0755,
	      "permission bits kept (0755)");
	CHECK_OK(access("/srv/tree/bin/tool", X_OK), "access X_OK of the 0755 file");
	CHECK_ERR(access("/srv/tree/etc/motd", X_OK), EACCES, "access X_OK of a 0644 file");
	check(stat("/srv/tree", &st) == 0 && S_ISDIR(st.st_mode), "the mount point is a directory");

	/* listing */
	dir = opendir("/srv/tree");
	check(dir != NULL, "opendir the mount point");
	while (dir && (d = readdir(dir)) != NULL && n < 16)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			names[n++] = strdup(d->d_name);
	if (dir)
		closedir(dir);
	qsort(names, (size_t)n, sizeof(names[0]), cmp);
	check(n == 3 && strcmp(names[0], "bin") == 0 && strcmp(names[1], "data") == 0 &&
		      strcmp(names[2], "etc") == 0,
	      "readdir lists bin, data, etc");
	CHECK_OK(chdir("/srv/tree/etc"), "chdir into the tree");
	check(getcwd(buf, sizeof(buf)) && strcmp(buf, "/srv/tree/etc") == 0, "getcwd there");
	fd = open("conf/../motd", O_RDONLY);
	check(fd >= 0, "a relative path with .. inside the tree");
	close(fd);
	CHECK_OK(chdir("/"), "chdir back");

	/* every change refused */
	CHECK_ERR(open("/srv/tree/etc/motd", O_WRONLY), EROFS, "open O_WRONLY");
	CHECK_ERR(open("/srv/tree/etc/motd", O_RDWR), EROFS, "open O_RDWR");
	CHECK_ERR(open("/srv/tree/etc/motd", O_RDONLY | O_TRUNC), EROFS, "open O_TRUNC");
	CHECK_ERR(open("/srv/tree/etc/new", O_WRONLY | O_CREAT, 0644), EROFS, "create a file");
	CHECK_ERR(open("/srv/tree/etc/motd", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST,
		  "O_CREAT|O_EXCL of an existing name: EEXIST first");
	CHECK_ERR(open("/srv/tree/etc", O_TMPFILE | O_RDWR, 0600), EROFS, "O_TMPFILE in it");
	CHECK_ERR(mkdir("/srv/tree/new", 0755), EROFS, "mkdir");
	CHECK_ERR(mkdir("/srv/tree/etc", 0755), EEXIST, "mkdir of an existing name: EEXIST first");
	CHECK_ERR(unlink("/srv/tree/etc/motd"), EROFS, "unlink");
	CHECK_ERR(unlink("/srv/tree/etc/nothing"), EROFS, "unlink of a missing name");
	CHECK_ERR(rmdir("/srv/tree/data"), EROFS, "rmdir");
	CHECK_ERR(rmdir("/srv/tree"), EBUSY, "rmdir the mount point");
	CHECK_ERR(rename("/srv/tree/etc/motd", "/srv/tree/etc/m2"), EROFS, "rename inside");
	CHECK_ERR(rename("/srv/tree/etc/motd", "/tmp/motd"), EXDEV, "rename out to tmpfs");
	close(open("/tmp/mine", O_WRONLY | O_CREAT, 0644));
	CHECK_ERR(rename("/tmp/mine", "/srv/tree/mine"), EXDEV, "rename in from tmpfs");
	CHECK_ERR(rename("/srv/tree", "/srv/moved"), EBUSY, "rename the mount point");
	CHECK_ERR(link("/srv/tree/etc/motd", "/tmp/motd"), EXDEV, "link out to tmpfs");
	CHECK_ERR(link("/tmp/mine", "/srv/tree/mine"), EXDEV, "link in from tmpfs");
	CHECK_ERR(truncate("/srv/tree/etc/motd", 0), EROFS, "truncate");
	CHECK_ERR(chmod("/srv/tree/etc/motd", 0600), EROFS, "chmod");
	CHECK_ERR(chown("/srv/tree/etc/motd", 1, 1), EROFS, "chown");
	CHECK_ERR(utimensat(AT_FDCWD, "/srv/tree/etc/motd", NULL, 0), EROFS, "utimensat");
	fd = open("/srv/tree/etc/motd", O_RDONLY);
	CHECK_ERR(ftruncate(fd, 0), EINVAL, "ftruncate through an O_RDONLY fd");
	CHECK_ERR(fchmod(fd, 0600), EROFS, "fchmod");
	close(fd);
	check(stat("/srv/tree/etc/motd", &st) == 0 && st.st_size == (off_t)strlen(MOTD),
	      "and the file is unchanged");

	/* the mount point's parent is ordinary tmpfs */
	fd = open("/srv/mine", O_WRONLY | O_CREAT, 0644);
	check(fd >= 0, "create a file beside the mount point");
	close(fd);
	CHECK_OK(unlink("/srv/mine"), "and remove it");
	return summary();
}
