/*
 * libkxdep.so: the dependency libkxtest.so resolves its symbols against.
 * It also stands in for the guest runtime's __tls_get_addr, which
 * libkxtest.so's global-dynamic TLS access calls (no libc here).
 */
struct tls_index {
	unsigned long module, offset;
};

int kxdep_counter = 3;

int kxdep_value(int x)
{
	return 2 * x;
}

void *__tls_get_addr(struct tls_index *ti)
{
	(void)ti;
	return 0;
}
