/* A second test library (a different content digest from libdemo). */
int other_value(void)
{
	return 42;
}
