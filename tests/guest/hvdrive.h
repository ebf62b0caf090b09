/*
 * hvdrive.h — the in-process KVM drivers of tests/cli (kvm_tlbcheck,
 * kvm_sigcheck): read a guest image and run it to its end with a link
 * source whose safe point does the checking.
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

/* A link source's request that links nothing (the images are static). */
int hvdrive_no_libraries(void *ctx, const char *name, int at_boot, struct hv_lib_grant *grant,
			 char *why, size_t whylen);

/* Boot buf (argv[0] = path; 16 MiB, console on stdout) with link source src
 * and run it until it ends: 0 with *end, or -1 (said on stderr). */
int hvdrive_run(const char *who, char *path, const uint8_t *buf, size_t len,
		const struct hv_link_source *src, struct hv_end *end);

#endif /* KX_TESTS_HVDRIVE_H */
