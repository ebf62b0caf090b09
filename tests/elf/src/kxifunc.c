/*
 * libkxifunc.so: an exported IFUNC and a local one.  Their resolvers would
 * have to run at load time, which the loader refuses (or defers to the
 * guest with KXELF_RELOC_DEFER_IFUNC).
 */
static int impl_one(void)
{
	return 1;
}

static void *resolve_one(void)
{
	return (void *)impl_one;
}

int kxifunc_exported(void) __attribute__((ifunc("resolve_one")));
static int kxifunc_local(void) __attribute__((ifunc("resolve_one")));

int kxifunc_call(void)
{
	return kxifunc_local() + kxifunc_exported();
}
