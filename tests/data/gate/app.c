/* A stand-in app image for boot and recycle: a static ELF executable.  The
 * gate only verifies its signature; it is never run. */
void _start(void);

void _start(void)
{
	for (;;)
		__asm__ volatile("hlt");
}
