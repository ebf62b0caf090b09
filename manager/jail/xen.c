/*
 * xen.c — the Xen backend's jail profile (docs/jail.md, "The Xen
 * backend").  Its monitor runs in dom0 and, once jailed, reaches Xen only
 * through the fds it opened before (hv/xen/xen.c's create): the privcmd
 * driver (/dev/xen/privcmd: every libxenctrl call is a hypercall ioctl;
 * libxenforeignmemory maps guest frames by batch) and the event channel
 * driver (/dev/xen/evtchn: notify; pending and unmask are read and write).
 * Hypercall buffers are mmaps of /dev/xen/hypercall (libxencall), already
 * in the allowlist as mmap without PROT_EXEC.  No gntdev: the backend
 * shares no grant.  Binding, restricting and creating are done before the
 * jail and are not here.
 *
 * The codes come from Xen's own headers (libxen-dev), by number: the
 * filter sees the request, not the fd, as for KVM's.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <sys/ioctl.h>

#include <xen/xen.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/privcmd.h>

#include "manager/jail/jail.h"

static const unsigned long xen_ioctls[] = {
	IOCTL_PRIVCMD_HYPERCALL,    /* every xc_* call: domctls, vcpu context, pause, destroy */
	IOCTL_PRIVCMD_MMAPBATCH_V2, /* xenforeignmemory_map: a guest frame for the backend */
	IOCTL_EVTCHN_NOTIFY,	    /* the kx ring's answer */
	IOCTL_EVTCHN_UNBIND,	    /* the port, at the end */
};

int jail_backend_profile(const char *backend, enum jail_thread *thread,
			 const unsigned long **ioctls, size_t *nioctls)
{
	if (backend == NULL || strcmp(backend, "xen") != 0)
		return -ENOENT;
	*thread = JAIL_THREAD_XEN;
	*ioctls = xen_ioctls;
	*nioctls = sizeof(xen_ioctls) / sizeof(xen_ioctls[0]);
	return 0;
}
