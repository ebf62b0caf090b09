/* The gate's test library: signed in tests/unit/test_gate*.c under various
 * names, versions and keys.  Code, read-only and writable data. */
static const char greeting[] = "hello from the gate's test library";
int good_calls;

const char *good_hello(void)
{
	good_calls++;
	return greeting;
}
