/*
 * kxfd.h — checks of file descriptors received from another process
 * (common/).  A memfd that kxd hands to kxmon, or kxmon to a backend, is
 * mapped and read while the sender still holds it: only seals make its
 * bytes and size stay what was checked.
 */
#ifndef KX_COMMON_KXFD_H
#define KX_COMMON_KXFD_H

#include <stdbool.h>

/* Does fd carry every seal in seals (F_SEAL_WRITE | F_SEAL_SHRINK | ...)?
 * False for anything that is not a sealable file, or on any error. */
bool kx_fd_sealed(int fd, unsigned seals);

#endif /* KX_COMMON_KXFD_H */
