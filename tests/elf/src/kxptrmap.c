/* kxptrmap.c — a library whose variables exercise kxsign's pointer map
 * (docs/signature-format.md §10): pointers among integers in a struct, an
 * array of structs, a 2-D array, function pointers, a union, a static local.
 * Built with -g by tests/elf/generate.py (libkxptrmap.so) and by
 * tests/cli/kxsign_ptrmap.bats, which checks the map kxsign records. */
struct conf {
	long id;
	long *slot;
	void (*hook)(void);
	long values[3];
};
union word {
	long n;
	void *p;
};
struct pair {
	void *a;
	long b;
};

static long counter;
long *gp = &counter;
struct conf conf = {1, &counter, 0, {1, 2, 3}};
long (*ops[4])(long);
union word w;
struct pair pairs[10];
void *grid[3][2];
int x = 5;
int bits[4];

void touch(void);
void touch(void)
{
	static char *local_ptr;

	counter++;
	local_ptr = (char *)&x;
	conf.hook = touch;
	(void)local_ptr;
}
