/* dup, dup2, dup3, fcntl (descriptor and status flags, F_DUPFD, record
 * locks), shared offsets, close-on-exec, ioctl on a non-terminal. */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>

#include "check.h"

int main(int argc, char **argv)
{
	char buf[16];
	int fd, d, d2;
	struct flock lk;
	struct winsize ws;

	enter_scratch(argc, argv);
	fd = open("f.txt", O_CREAT | O_RDWR | O_TRUNC, 0600);
	check(fd == 3, "the first fd is 3");
	d = dup(fd);
	check(d == 4, "dup gives the lowest free fd");
	check(write(fd, "abcdef", 6) == 6 && lseek(d, 0, SEEK_CUR) == 6, "dup'ed fds share the offset");
	check(lseek(d, 2, SEEK_SET) == 2 && read(fd, buf, 2) == 2 && memcmp(buf, "cd", 2) == 0,
	      "a seek on one moves the other");
	d2 = dup2(fd, 10);
	check(d2 == 10 && lseek(10, 0, SEEK_CUR) == 4, "dup2 to 10");
	check(dup2(fd, fd) == fd, "dup2 onto itself");
	CHECK_ERR(dup2(99, 11), EBADF, "dup2 of a closed fd");
	CHECK_ERR(dup3(fd, fd, 0), EINVAL, "dup3 onto itself");
	/* The system call itself: musl's dup3() does not pass flags without
	 * O_CLOEXEC on. */
	CHECK_ERR(syscall(SYS_dup3, fd, 12, 0x1234), EINVAL, "dup3 with bad flags");
	check(dup3(fd, 12, O_CLOEXEC) == 12 && fcntl(12, F_GETFD) == FD_CLOEXEC,
	      "dup3 with O_CLOEXEC");
	check(fcntl(fd, F_GETFD) == 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 &&
		      fcntl(fd, F_GETFD) == FD_CLOEXEC && fcntl(d, F_GETFD) == 0,
	      "FD_CLOEXEC belongs to one fd");
	check((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "F_GETFL: O_RDWR");
	check(fcntl(fd, F_SETFL, O_APPEND) == 0 && (fcntl(d, F_GETFL) & O_APPEND),
	      "status flags belong to the description: O_APPEND seen through the dup");
	check(fcntl(fd, F_SETFL, 0) == 0 && !(fcntl(d, F_GETFL) & O_APPEND), "and cleared");
	check(fcntl(fd, F_DUPFD, 20) == 20 && fcntl(fd, F_DUPFD, 20) == 21, "F_DUPFD from 20");
	check(fcntl(fd, F_DUPFD_CLOEXEC, 0) == 5 && fcntl(5, F_GETFD) == FD_CLOEXEC,
	      "F_DUPFD_CLOEXEC");
	CHECK_ERR(fcntl(fd, F_DUPFD, -1), EINVAL, "F_DUPFD from -1");
	CHECK_ERR(fcntl(42, F_GETFD), EBADF, "fcntl on a closed fd");
	lk = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	check(fcntl(fd, F_SETLK, &lk) == 0, "F_SETLK write lock");
	lk.l_type = F_WRLCK;
	check(fcntl(fd, F_GETLK, &lk) == 0 && lk.l_type == F_UNLCK,
	      "F_GETLK: our own lock never conflicts");
	lk.l_type = F_UNLCK;
	check(fcntl(fd, F_SETLK, &lk) == 0, "unlock");
	lk.l_type = 99;
	CHECK_ERR(fcntl(fd, F_SETLK, &lk), EINVAL, "F_SETLK with a bad type");
	{
		int ro = open("f.txt", O_RDONLY);

		lk = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET};
		CHECK_ERR(fcntl(ro, F_SETLK, &lk), EBADF, "a write lock on a read-only fd");
		check(flock(ro, LOCK_SH) == 0 && flock(ro, LOCK_UN) == 0, "flock");
		close(ro);
	}
	CHECK_ERR(ioctl(fd, TIOCGWINSZ, &ws), ENOTTY, "TIOCGWINSZ on a file");
	check(!isatty(fd) && errno == ENOTTY, "isatty on a file");
	check(close(d) == 0 && read(fd, buf, 1) == 1, "closing a dup leaves the original");
	for (int i = 0; i < 3; i++)
		close(i == 0 ? 10 : i == 1 ? 12 : 20);
	check(dup(fd) == 4, "freed fds are reused lowest first");
	return summary();
}
