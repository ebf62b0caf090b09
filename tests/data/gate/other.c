/* Another build, so that "the bytes changed" has a different content digest. */
int other_value = 42;

int other_twice(int x)
{
	return 2 * x + other_value;
}
