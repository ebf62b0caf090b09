/* files: open/creat/read/write/pread/pwrite/readv/writev/lseek/ftruncate/
 * fstat/stat/unlink/rename/link/access/umask/fsync and their errors. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "check.h"

static void basics(void)
{
	char buf[64];
	struct stat st, st2;
	int fd = open("a.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);

	check(fd >= 3, "open O_CREAT gives the lowest free fd above stdio");
	check(write(fd, "hello world", 11) == 11, "write 11 bytes");
	check(lseek(fd, 0, SEEK_CUR) == 11, "the offset follows the write");
	check(lseek(fd, 0, SEEK_SET) == 0 && read(fd, buf, sizeof(buf)) == 11 &&
		      memcmp(buf, "hello world", 11) == 0,
	      "read it back");
	check(read(fd, buf, sizeof(buf)) == 0, "read at the end is 0");
	check(pread(fd, buf, 5, 6) == 5 && memcmp(buf, "world", 5) == 0, "pread at an offset");
	check(lseek(fd, 0, SEEK_CUR) == 11, "pread leaves the offset");
	check(pwrite(fd, "W", 1, 6) == 1 && pread(fd, buf, 11, 0) == 11 &&
		      memcmp(buf, "hello World", 11) == 0,
	      "pwrite in place");
	check(lseek(fd, 100, SEEK_SET) == 100 && write(fd, "!", 1) == 1, "write past the end");
	check(fstat(fd, &st) == 0 && st.st_size == 101 && S_ISREG(st.st_mode) &&
		      (st.st_mode & 0777) == (0644 & ~022),
	      "fstat: size 101, regular, mode 0644 under umask 022");
	check(pread(fd, buf, 10, 50) == 10 && buf[0] == 0 && buf[9] == 0, "the hole reads as zeros");
	check(lseek(fd, -1, SEEK_END) == 100 && read(fd, buf, 1) == 1 && buf[0] == '!',
	      "SEEK_END");
	check(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5, "ftruncate shrinks");
	check(read(fd, buf, 1) == 0, "reading past a truncated end is 0");
	check(ftruncate(fd, 8192) == 0 && pread(fd, buf, 4, 8000) == 4 && buf[3] == 0,
	      "ftruncate grows with zeros");
	check(stat("a.txt", &st2) == 0 && fstat(fd, &st) == 0 && st.st_ino == st2.st_ino &&
		      st2.st_size == 8192 && st.st_nlink == 1,
	      "stat and fstat agree");
	check(fsync(fd) == 0 && fdatasync(fd) == 0, "fsync fdatasync");
	check(close(fd) == 0, "close");
	CHECK_ERR(close(fd), EBADF, "close twice");
	CHECK_ERR(read(fd, buf, 1), EBADF, "read a closed fd");
}

static void flags(void)
{
	char buf[32];
	int fd;

	CHECK_ERR(open("a.txt", O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST, "O_CREAT|O_EXCL on an existing file");
	CHECK_ERR(open("missing.txt", O_RDONLY), ENOENT, "open a missing file");
	fd = open("a.txt", O_WRONLY | O_TRUNC);
	check(fd >= 0, "O_TRUNC");
	CHECK_ERR(read(fd, buf, 1), EBADF, "read from O_WRONLY");
	close(fd);
	fd = open("a.txt", O_RDONLY);
	CHECK_ERR(write(fd, "x", 1), EBADF, "write to O_RDONLY");
	check(lseek(fd, 0, SEEK_END) == 0, "O_TRUNC emptied it");
	close(fd);
	fd = open("log.txt", O_CREAT | O_WRONLY | O_APPEND, 0600);
	check(write(fd, "one\n", 4) == 4 && lseek(fd, 0, SEEK_SET) == 0 && write(fd, "two\n", 4) == 4,
	      "O_APPEND writes");
	close(fd);
	fd = open("log.txt", O_RDONLY);
	check(read(fd, buf, sizeof(buf)) == 8 && memcmp(buf, "one\ntwo\n", 8) == 0,
	      "O_APPEND wrote at the end both times");
	CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL, "lseek before the start");
	CHECK_ERR(lseek(fd, 0, 42), EINVAL, "lseek with a bad whence");
	close(fd);
	fd = creat("c.txt", 0600);
	check(fd >= 0 && write(fd, "c", 1) == 1, "creat");
	CHECK_ERR(read(fd, buf, 1), EBADF, "creat opens write-only");
	close(fd);
}

static void vectors(void)
{
	char a[4], b[8], all[16];
	struct iovec out[3] = {{"abc", 3}, {"", 0}, {"defghij", 7}};
	struct iovec in[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
	int fd = open("v.txt", O_CREAT | O_RDWR | O_TRUNC, 0600);

	check(writev(fd, out, 3) == 10, "writev of three vectors");
	check(lseek(fd, 0, SEEK_SET) == 0 && readv(fd, in, 2) == 10 && memcmp(a, "abcd", 4) == 0 &&
		      memcmp(b, "efghij", 6) == 0,
	      "readv splits across vectors");
	check(pwritev(fd, out, 1, 20) == 3 && preadv(fd, in, 1, 20) == 3 && memcmp(a, "abc", 3) == 0,
	      "pwritev preadv");
	check(pread(fd, all, 16, 0) == 16 && all[12] == 0, "the gap before the pwritev is zero");
	{
		volatile int minus_one = -1; /* gcc refuses a constant one */

		CHECK_ERR(writev(fd, out, minus_one), EINVAL, "writev with a negative count");
	}
	close(fd);
}

static void names(void)
{
	struct stat st;
	char buf[8];
	int fd;

	check(link("v.txt", "v2.txt") == 0 && stat("v.txt", &st) == 0 && st.st_nlink == 2,
	      "link: two names");
	CHECK_ERR(link("v.txt", "v2.txt"), EEXIST, "link onto an existing name");
	check(unlink("v.txt") == 0 && stat("v2.txt", &st) == 0 && st.st_nlink == 1 &&
		      st.st_size == 23,
	      "unlink one name, the other stays");
	fd = open("v2.txt", O_RDONLY);
	check(unlink("v2.txt") == 0, "unlink an open file");
	CHECK_ERR(stat("v2.txt", &st), ENOENT, "its name is gone");
	check(read(fd, buf, 3) == 3 && memcmp(buf, "abc", 3) == 0 && fstat(fd, &st) == 0 &&
		      st.st_nlink == 0,
	      "its data stays readable through the fd");
	close(fd);
	check(rename("log.txt", "renamed.txt") == 0 && access("renamed.txt", F_OK) == 0 &&
		      access("log.txt", F_OK) == -1,
	      "rename");
	fd = open("other.txt", O_CREAT | O_WRONLY, 0600);
	close(fd);
	check(rename("renamed.txt", "other.txt") == 0 && stat("other.txt", &st) == 0 &&
		      st.st_size == 8,
	      "rename over an existing file replaces it");
	check(rename("other.txt", "other.txt") == 0, "rename onto itself");
	CHECK_ERR(rename("nothing", "x"), ENOENT, "rename a missing file");
	check(access("other.txt", R_OK | W_OK) == 0, "access R_OK|W_OK");
	CHECK_ERR(access("other.txt", X_OK), EACCES, "access X_OK on a 0600 file");
	check(chmod("other.txt", 0755) == 0 && access("other.txt", X_OK) == 0 &&
		      stat("other.txt", &st) == 0 && (st.st_mode & 07777) == 0755,
	      "chmod 0755");
	CHECK_ERR(access("nothing", F_OK), ENOENT, "access a missing file");
	{
		mode_t old = umask(077);

		fd = open("private.txt", O_CREAT | O_WRONLY, 0666);
		check(old == 022 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600,
		      "umask 077 makes 0666 into 0600");
		close(fd);
		check(umask(old) == 077, "umask returns the previous mask");
	}
	check(truncate("private.txt", 3) == 0 && stat("private.txt", &st) == 0 && st.st_size == 3,
	      "truncate by name");
	CHECK_ERR(truncate("private.txt", -1), EINVAL, "truncate to a negative length");
}

static void limits(void)
{
	char name[NAME_MAX + 2];
	char path[PATH_MAX + 10];
	int fds[8], n = 0;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	CHECK_ERR(open(name, O_CREAT | O_WRONLY, 0600), ENAMETOOLONG, "a name of NAME_MAX+1 bytes");
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	CHECK_ERR(open(path, O_RDONLY), ENAMETOOLONG, "a path of more than PATH_MAX bytes");
	CHECK_ERR(open("", O_RDONLY), ENOENT, "an empty path");
	CHECK_ERR(open("a.txt/x", O_RDONLY), ENOTDIR, "a file used as a directory");
	CHECK_ERR(open("a.txt/", O_RDONLY), ENOTDIR, "a trailing slash on a file");
	for (int i = 0; i < 8; i++)
		fds[n++] = open("a.txt", O_RDONLY);
	check(fds[7] == fds[0] + 7, "fds come in order");
	close(fds[3]);
	fds[3] = open("a.txt", O_RDONLY);
	check(fds[3] == fds[0] + 3, "the lowest free fd is reused");
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

int main(int argc, char **argv)
{
	enter_scratch(argc, argv);
	umask(022);
	basics();
	flags();
	vectors();
	names();
	limits();
	return summary();
}
