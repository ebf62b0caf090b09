/* Host directories granted by `files` rules, inside a pVM run by kxd
 * (tests/cli/libc.bats sets up the host side): /data is the host's data/
 * (rw, max 64K, holding a symlink to /etc, an absolute symlink to
 * /etc/passwd and a relative one climbing out, made by the test), /conf
 * its conf/ (ro, holding app.conf).  Files work as files; every escape
 * fails (EXDEV), the read-only mount refuses changes (EROFS), the cap
 * holds (ENOSPC); chdir enters a host directory.  The host checks what reached it afterwards. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "check.h"

int main(void)
{
	char buf[256] = "", big[4096];
	struct stat st;
	struct dirent *d;
	DIR *dir;
	FILE *f;
	int fd, n, found = 0;
	long total = 0;

	/* files */
	f = fopen("/data/out.txt", "w");
	check(f != NULL, "fopen a new file in /data");
	if (f) {
		fprintf(f, "written in a pVM\n");
		check(fclose(f) == 0, "fclose flushes it");
	}
	f = fopen("/data/out.txt", "r");
	check(f && fgets(buf, sizeof(buf), f) && strcmp(buf, "written in a pVM\n") == 0,
	      "read it back");
	if (f)
		fclose(f);
	check(stat("/data/out.txt", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 17,
	      "stat: a 17-byte regular file");
	fd = open("/data/out.txt", O_WRONLY | O_APPEND);
	check(fd >= 0 && write(fd, "more\n", 5) == 5 && fsync(fd) == 0, "O_APPEND write, fsync");
	check(fd >= 0 && lseek(fd, 0, SEEK_END) == 22, "the end moved");
	close(fd);
	CHECK_OK(mkdir("/data/sub", 0755), "mkdir");
	CHECK_OK(rename("/data/out.txt", "/data/sub/moved.txt"), "rename inside the mount");
	CHECK_OK(access("/data/sub/moved.txt", R_OK | W_OK), "access");
	dir = opendir("/data/sub");
	while (dir && (d = readdir(dir)) != NULL)
		found += strcmp(d->d_name, "moved.txt") == 0;
	if (dir)
		closedir(dir);
	check(found == 1, "readdir finds it");
	fd = open("/data", O_RDONLY | O_DIRECTORY);
	check(fd >= 0 && faccessat(fd, "sub/moved.txt", F_OK, 0) == 0, "*at from a host dir fd");
	close(fd);
	CHECK_OK(truncate("/data/sub/moved.txt", 4), "truncate by path");
	check(stat("/data/sub/moved.txt", &st) == 0 && st.st_size == 4, "to 4 bytes");
	f = fopen("/conf/app.conf", "r");
	check(f && fgets(buf, sizeof(buf), f) && strcmp(buf, "mode = ro\n") == 0,
	      "read the read-only mount");
	if (f)
		fclose(f);

	/* the cwd in a host directory */
	CHECK_OK(chdir("/data/sub"), "chdir into a host directory");
	check(getcwd(buf, sizeof(buf)) && strcmp(buf, "/data/sub") == 0, "getcwd there");
	fd = open("moved.txt", O_RDONLY);
	check(fd >= 0 && read(fd, buf, sizeof(buf)) == 4, "a relative open from it");
	close(fd);
	check(stat(".", &st) == 0 && S_ISDIR(st.st_mode), "stat(\".\")");
	CHECK_OK(chdir(".."), "chdir .. to the mount's root");
	check(getcwd(buf, sizeof(buf)) && strcmp(buf, "/data") == 0, "getcwd: /data");
	CHECK_ERR(chdir(".."), EXDEV, "chdir .. above the mount's root");
	CHECK_ERR(chdir("sub/moved.txt"), ENOTDIR, "chdir to a file");
	fd = open("/data/sub", O_RDONLY | O_DIRECTORY);
	CHECK_OK(chdir("/tmp"), "chdir back to tmpfs");
	check(getcwd(buf, sizeof(buf)) && strcmp(buf, "/tmp") == 0, "getcwd: /tmp");
	CHECK_OK(fchdir(fd), "fchdir to a host directory fd");
	check(getcwd(buf, sizeof(buf)) && strcmp(buf, "/data/sub") == 0, "getcwd after fchdir");
	close(fd);
	CHECK_OK(chdir("/"), "chdir /");

	/* escapes */
	CHECK_ERR(open("/data/../../../../etc/passwd", O_RDONLY), EXDEV, ".. out of the mount");
	CHECK_ERR(open("/data/etc/passwd", O_RDONLY), EXDEV, "a symlink to /etc");
	CHECK_ERR(open("/data/abs", O_RDONLY), EXDEV, "an absolute symlink to /etc/passwd");
	CHECK_ERR(open("/data/up/secret", O_RDONLY), EXDEV, "a relative symlink climbing out");
	CHECK_ERR(open("/data/../escaped", O_WRONLY | O_CREAT, 0644), EXDEV,
		  "create through ..");
	CHECK_ERR(mkdir("/data/up/evil", 0755), EXDEV, "mkdir through a symlink out");
	CHECK_ERR(rename("/data/sub/moved.txt", "/data/../moved.txt"), EXDEV, "a rename out");
	CHECK_ERR(rename("/data/sub/moved.txt", "/tmp/moved.txt"), EXDEV, "a rename to tmpfs");
	CHECK_ERR(rename("/data/sub/moved.txt", "/conf/moved.txt"), EXDEV,
		  "a rename to another mount");
	CHECK_ERR(unlink("/data/up/secret"), EXDEV, "unlink through a symlink out");

	/* the read-only mount */
	CHECK_ERR(open("/conf/app.conf", O_WRONLY), EROFS, "open for writing");
	CHECK_ERR(open("/conf/new", O_WRONLY | O_CREAT, 0644), EROFS, "create");
	CHECK_ERR(mkdir("/conf/d", 0755), EROFS, "mkdir");
	CHECK_ERR(unlink("/conf/app.conf"), EROFS, "unlink");
	CHECK_ERR(truncate("/conf/app.conf", 0), EROFS, "truncate");

	/* the cap: 64 KiB */
	memset(big, 'x', sizeof(big));
	fd = open("/data/fill", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	while (fd >= 0 && (n = (int)write(fd, big, sizeof(big))) > 0 && total < (1 << 20))
		total += n;
	check(fd >= 0 && n == -1 && errno == ENOSPC, "writing on ends in ENOSPC");
	check(total > 60000 && total <= 65536, "after at most the cap");
	close(fd);
	CHECK_OK(unlink("/data/fill"), "unlink gives the room back");
	fd = open("/data/fill2", O_WRONLY | O_CREAT, 0644);
	check(fd >= 0 && write(fd, big, sizeof(big)) == (ssize_t)sizeof(big), "room again");
	close(fd);
	CHECK_OK(unlink("/data/fill2"), "and clean up");

	/* the cwd in a host directory (Redis's `dir`): relative paths go on there */
	CHECK_OK(chdir("/data/sub"), "chdir into a host directory");
	check(getcwd(buf, sizeof(buf)) && strcmp(buf, "/data/sub") == 0, "getcwd names it");
	f = fopen("moved.txt", "r");
	check(f && fgets(buf, sizeof(buf), f) && strcmp(buf, "writ") == 0,
	      "a relative open reads the host's file");
	if (f)
		fclose(f);
	CHECK_OK(chdir("./../sub/.."), "chdir with . and .. inside the mount");
	check(getcwd(buf, sizeof(buf)) && strcmp(buf, "/data") == 0, "at the mount's root");
	CHECK_ERR(chdir(".."), EXDEV, "chdir .. out of the mount's root");
	CHECK_ERR(chdir("sub/moved.txt"), ENOTDIR, "chdir to a host file");
	CHECK_ERR(chdir("nowhere"), ENOENT, "chdir to nothing");
	fd = open("sub", O_RDONLY | O_DIRECTORY);
	check(fd >= 0 && fchdir(fd) == 0, "fchdir to a host directory fd");
	close(fd);
	check(getcwd(buf, sizeof(buf)) && strcmp(buf, "/data/sub") == 0, "getcwd after fchdir");
	check(access("moved.txt", F_OK) == 0, "relative paths from there");
	CHECK_OK(chdir("/tmp"), "back to tmpfs");
	check(getcwd(buf, sizeof(buf)) && strcmp(buf, "/tmp") == 0 && access("moved.txt", F_OK) != 0,
	      "relative paths are tmpfs's again");
	return summary();
}
