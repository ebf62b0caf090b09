/* directories: mkdir/rmdir/opendir/readdir/getcwd/chdir/fchdir, renames of
 * directories, and the errors of each. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "check.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir, sorted (readdir's order is the file system's own). */
static void list(const char *dir)
{
	char *names[64];
	int n = 0, types_ok = 1;
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		check(0, "opendir %s", dir);
		return;
	}
	while ((e = readdir(d)) && n < 64) {
		names[n++] = strdup(e->d_name);
		types_ok &= e->d_type == DT_DIR || e->d_type == DT_REG;
	}
	closedir(d);
	check(types_ok, "readdir of %s: every d_type is DT_DIR or DT_REG", dir);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	printf("%s:", dir);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

/* getcwd relative to the scratch directory. */
static void where(const char *base, const char *want)
{
	char cwd[PATH_MAX];
	size_t n = strlen(base);

	check(getcwd(cwd, sizeof(cwd)) && strncmp(cwd, base, n) == 0 && strcmp(cwd + n, want) == 0,
	      "getcwd is <scratch>%s", want);
}

int main(int argc, char **argv)
{
	char base[PATH_MAX], small[4];
	struct stat st;
	int fd, dfd;

	enter_scratch(argc, argv);
	umask(022);
	check(getcwd(base, sizeof(base)) != NULL && base[0] == '/', "getcwd is absolute");
	if (strcmp(base, "/") == 0)
		base[0] = '\0'; /* so that base + "/d" reads "/d" */
	check(mkdir("d", 0755) == 0 && stat("d", &st) == 0 && S_ISDIR(st.st_mode) &&
		      (st.st_mode & 0777) == 0755,
	      "mkdir");
	CHECK_ERR(mkdir("d", 0755), EEXIST, "mkdir an existing directory");
	CHECK_ERR(mkdir("x/y", 0755), ENOENT, "mkdir below a missing directory");
	check(mkdir("d/e", 0700) == 0 && mkdir("d/e/f", 0700) == 0, "mkdir nested");
	fd = open("d/file", O_CREAT | O_WRONLY, 0644);
	check(fd >= 0 && write(fd, "x", 1) == 1 && close(fd) == 0, "a file in d");
	list("d");
	list("d/e");
	CHECK_ERR(rmdir("d"), ENOTEMPTY, "rmdir a non-empty directory");
	CHECK_ERR(rmdir("d/file"), ENOTDIR, "rmdir a file");
	CHECK_ERR(unlink("d/e"), EISDIR, "unlink a directory");
	CHECK_ERR(rmdir("d/e/f/."), EINVAL, "rmdir of \".\"");
	CHECK_ERR(open("d", O_WRONLY), EISDIR, "open a directory for writing");
	CHECK_ERR(open("d/file", O_RDONLY | O_DIRECTORY), ENOTDIR, "O_DIRECTORY on a file");
	check(chdir("d/e") == 0, "chdir d/e");
	where(base, "/d/e");
	check(chdir("..") == 0, "chdir ..");
	where(base, "/d");
	CHECK_ERR(chdir("file"), ENOTDIR, "chdir to a file");
	CHECK_ERR(getcwd(small, sizeof(small)) == NULL ? -1 : 0, ERANGE, "getcwd into 4 bytes");
	dfd = open("e", O_RDONLY | O_DIRECTORY);
	check(dfd >= 0 && fchdir(dfd) == 0, "fchdir");
	where(base, "/d/e");
	check(chdir("../..") == 0, "chdir ../..");
	where(base, "");
	fd = openat(dfd, "g.txt", O_CREAT | O_WRONLY, 0600);
	check(fd >= 0 && close(fd) == 0 && access("d/e/g.txt", F_OK) == 0, "openat a directory fd");
	check(fstatat(dfd, "g.txt", &st, 0) == 0 && S_ISREG(st.st_mode), "fstatat");
	check(mkdirat(dfd, "h", 0700) == 0 && unlinkat(dfd, "h", AT_REMOVEDIR) == 0,
	      "mkdirat unlinkat(AT_REMOVEDIR)");
	check(unlinkat(dfd, "g.txt", 0) == 0, "unlinkat a file");
	CHECK_ERR(openat(dfd, "nothing", O_RDONLY), ENOENT, "openat a missing name");
	{
		char dots[] = "d/./e/../e/f";

		check(stat(dots, &st) == 0 && S_ISDIR(st.st_mode), "a path with . and ..");
	}
	check(rename("d/e", "d/moved") == 0 && access("d/moved/f", F_OK) == 0, "rename a directory");
	CHECK_ERR(rename("d", "d/moved/inside"), EINVAL, "rename a directory into itself");
	check(mkdir("empty", 0755) == 0 && rename("d/moved", "empty") == 0 &&
		      access("empty/f", F_OK) == 0,
	      "rename a directory over an empty one");
	check(mkdir("full", 0755) == 0 && mkdir("full/x", 0755) == 0, "another tree");
	CHECK_ERR(rename("empty", "full"), ENOTEMPTY, "rename over a non-empty directory");
	CHECK_ERR(rename("d/file", "full"), EISDIR, "rename a file over a directory");
	CHECK_ERR(rename("full", "d/file"), ENOTDIR, "rename a directory over a file");
	list(".");
	check(rmdir("full/x") == 0 && rmdir("full") == 0, "rmdir");
	CHECK_ERR(rmdir("full"), ENOENT, "rmdir twice");
	check(close(dfd) == 0, "close the directory fd");
	/* A directory read in pieces, and rewound. */
	for (int i = 0; i < 40; i++) {
		char name[32];

		snprintf(name, sizeof(name), "many/entry-%02d", i);
		if (i == 0)
			mkdir("many", 0755);
		fd = open(name, O_CREAT | O_WRONLY, 0644);
		close(fd);
	}
	{
		DIR *d = opendir("many");
		int n = 0, again = 0;
		long pos = -1;

		while (readdir(d))
			n++;
		rewinddir(d);
		while (readdir(d)) {
			again++;
			if (again == 10)
				pos = telldir(d);
		}
		check(n == 42 && again == 42, "42 entries, twice (rewinddir)");
		seekdir(d, pos);
		n = 0;
		while (readdir(d))
			n++;
		check(n == 32, "seekdir back to the tenth: 32 more");
		closedir(d);
	}
	return summary();
}
