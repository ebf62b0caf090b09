/* kxexec: a static ET_EXEC (no libc): mapped at its own link addresses. */
static int kxexec_counter;

void _start(void)
{
	kxexec_counter++;
	for (;;)
		__asm__ volatile("hlt");
}
