/* hello — boot, console output, arguments, exit 0. */
#include "guest/kxguest.h"

int main(int argc, char **argv)
{
	printf("hello from a pVM\n");
	for (int i = 0; i < argc; i++)
		printf("argv[%d] = %s\n", i, argv[i]);
	return 0;
}
