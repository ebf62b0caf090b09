/*
 * arch/cc.h — lwIP's compiler and platform glue for pVMs (musl, x86_64).
 */
#ifndef KX_LWIP_ARCH_CC_H
#define KX_LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>

/* lwIP runs inside the syscall layer (guest/posix/socket.c): no stdio, no
 * malloc there.  Diagnostics are off; a failed assertion ends the pVM. */
void kx_panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
#define LWIP_PLATFORM_DIAG(x) \
	do {                  \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x) kx_panic("lwip: assertion \"%s\" failed at %s:%d", x, \
					 __FILE__, __LINE__)

/* Ports and initial sequence numbers: the pVM's entropy (getrandom). */
uint32_t kx_net_rand(void);
#define LWIP_RAND() kx_net_rand()

#endif /* KX_LWIP_ARCH_CC_H */
