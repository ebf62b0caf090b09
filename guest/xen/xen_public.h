/*
 * xen_public.h — private to guest/xen/: Xen's public headers as kx uses
 * them.  They come from Debian's libxen-dev (/usr/include/xen), never from
 * this tree.  The interface version is pinned to Xen 4.17's, the release kx
 * is tested on (tests/xen/); without it the headers default to version 0
 * and rename fields with compatibility macros.
 */
#ifndef KX_GUEST_XEN_PUBLIC_H
#define KX_GUEST_XEN_PUBLIC_H

#define __XEN_INTERFACE_VERSION__ 0x00040e00

#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>

#endif /* KX_GUEST_XEN_PUBLIC_H */
