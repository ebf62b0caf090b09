/*
 * kxelf_limits.h — the caps on an untrusted ELF file that both of kx's ELF
 * readers enforce: the signer's walker (signer/elf.c, below the manager)
 * and the loader (manager/elf).  One header, so that a file the signer
 * signs or verifies never fails the loader on one of these counts
 * (tests/unit/test_elf_limits.c proves it over the test corpora and at
 * each limit).  Self-contained: C99 headers only.
 *
 * Each is far above what real libraries need and small enough that a
 * hostile count costs little.  The largest on Debian 12 (the libraries
 * tests/cli/elf-differential.bats loads): 14 program headers (libc.so.6),
 * 74 section headers (a separate .debug file), 6 PT_LOADs.
 */
#ifndef KX_COMMON_KXELF_LIMITS_H
#define KX_COMMON_KXELF_LIMITS_H

#include <stddef.h>

#define KXELF_MAX_FILE_SIZE ((size_t)1 << 30) /* bytes of one file */
#define KXELF_MAX_PHNUM     128u              /* e_phnum: program headers */
#define KXELF_MAX_SHNUM     4096u             /* e_shnum: section headers */
#define KXELF_MAX_LOADS     16u               /* PT_LOAD program headers */

_Static_assert(KXELF_MAX_LOADS <= KXELF_MAX_PHNUM, "PT_LOADs are program headers");
_Static_assert(KXELF_MAX_PHNUM <= 0xffffu && KXELF_MAX_SHNUM < 0xff00u,
	       "both fit e_phnum and e_shnum without extended numbering (SHN_LORESERVE)");

#endif /* KX_COMMON_KXELF_LIMITS_H */
