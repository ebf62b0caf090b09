/* A small shared library for kxsign's tests and demo: code, read-only data,
 * initialised and zeroed data, and a symbol table. */
static const char greeting[] = "hello from libdemo";
int demo_calls = 0;
static int scratch[64];

const char *demo_hello(void)
{
	demo_calls++;
	return greeting;
}

int demo_add(int a, int b)
{
	scratch[demo_calls & 63] = a;
	return a + b + scratch[0];
}
