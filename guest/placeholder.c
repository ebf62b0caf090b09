/*
 * placeholder.c — kxpool, the image every pooled (empty) pVM runs
 * (docs/recycle.md).  It does nothing but wait in KX_HC_RECYCLE_WAIT until
 * kxd hands its pVM an app library, which the monitor links in; then it
 * calls the app's app_entry(argc, argv) and exits with its return value.
 *
 * What an app started this way finds is therefore a freshly booted pVM in
 * which only this file ran: no heap allocation, a few stack frames, the
 * argv buffer below.  It is signed as app "kxpool" like any image, and kxd
 * boots it through the gate.
 */
#include "guest/kxguest.h"

/* The monitor writes the app's argv here (pointers, then the strings). */
static uint64_t app_args[KX_RECYCLE_BUF_MIN / sizeof(uint64_t)];

int main(int argc, char **argv)
{
	kx_app_entry_t entry;
	char **app_argv;
	int app_argc;
	long rc;

	(void)argc;
	(void)argv;
	rc = kx_recycle_wait(app_args, sizeof(app_args), &entry, &app_argc, &app_argv);
	if (rc != 0) {
		printf("kxpool: this pVM is not in a recycle pool (%ld): kxd starts this image "
		       "for its pools (kxd --pool-image)\n", rc);
		return 1;
	}
	return entry(app_argc, app_argv);
}
