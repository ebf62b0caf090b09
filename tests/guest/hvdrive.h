/*
 * hvdrive.h — the in-process KVM drivers of tests/cli (kvm_tlbcheck,
 * kvm_sigcheck): read a guest image and run it to its end on the KVM
 * backend with a safe-point hook that does the checking.
 */
#ifndef KX_TESTS_HVDRIVE_H
#define KX_TESTS_HVDRIVE_H

#include <stddef.h>
#include <stdint.h>

#include "manager/hv/hv.h"

/* usage: WHO GUEST_DIR.  Reads GUEST_DIR/image into *buf (malloc'd) and
 * its name into path: 0, or -1 (the usage or the reason said on stderr). */
int hvdrive_read(int argc, char **argv, const char *who, const char *image, char *path,
		 size_t pathlen, uint8_t **buf, size_t *len);

/* Boot buf (argv[0] = path; 16 MiB, console on stdout, no manager) with
 * safe_point called at every safe point, and run it until it ends: 0 with
 * *end, or -1 (said on stderr). */
int hvdrive_run(const char *who, char *path, const uint8_t *buf, size_t len,
		void (*safe_point)(struct hv_pvm *p, void *ctx), struct hv_end *end);

#endif /* KX_TESTS_HVDRIVE_H */
