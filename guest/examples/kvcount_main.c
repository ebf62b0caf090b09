/*
 * kvcount_main.c — kvcount as an ordinary image (kvcount.kxe), booted cold
 * by `kxctl run`: the same app_entry (kvcount.c) called from main.  make
 * bench (tests/bench/bench_recycle.c) times it against recycled starts of
 * libkvcount.so.
 */
#include "guest/kxguest.h"

int main(int argc, char **argv)
{
	return app_entry(argc, argv);
}
