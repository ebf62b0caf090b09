/*
 * exit — exit status propagation.
 *   exit N          return N from main
 *   exit N deep     call exit(N) a few calls down
 */
#include "guest/kxguest.h"

static void __attribute__((noipa)) leave_from_inner(int status)
{
	exit(status);
}

static void __attribute__((noipa)) leave_from_middle(int status)
{
	leave_from_inner(status);
}

static void __attribute__((noipa)) leave_from_outer(int status)
{
	leave_from_middle(status);
}

int main(int argc, char **argv)
{
	int status = argc > 1 ? atoi(argv[1]) : 0;

	if (argc > 2 && strcmp(argv[2], "deep") == 0)
		leave_from_outer(status);
	return status;
}
