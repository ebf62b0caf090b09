/* spin — never exits (for kxmon --timeout). */
#include "guest/kxguest.h"

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("spinning\n");
	for (;;)
		__asm__ volatile("" ::: "memory");
}
