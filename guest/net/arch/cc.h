/*
 * arch/cc.h — lwIP's compiler and platform glue for pVMs (musl, x86_64).
 */
#ifndef KX_LWIP_ARCH_CC_H
#define KX_LWIP_ARCH_CC_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define LWIP_PLATFORM_DIAG(x) \
	do {                  \
		printf x;     \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                 \
	do {                                                                    \
		fprintf(stderr, "lwip: assertion \"%s\" failed at %s:%d\n", x,  \
			__FILE__, __LINE__);                                    \
		abort();                                                        \
	} while (0)

/* Ports and initial sequence numbers: the pVM's entropy (getrandom). */
uint32_t kx_net_rand(void);
#define LWIP_RAND() kx_net_rand()

#endif /* KX_LWIP_ARCH_CC_H */
