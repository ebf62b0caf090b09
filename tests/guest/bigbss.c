/* bigbss — a 16 MiB bss: loads with enough guest memory, is refused without. */
#include "guest/kxguest.h"

static char big[16 << 20];

int main(int argc, char **argv)
{
	char *volatile p = big; /* keep the array: it is the point of this image */

	(void)argc;
	(void)argv;
	p[0] = 1;
	p[sizeof(big) - 1] = 1;
	printf("bigbss ok\n");
	return 0;
}
