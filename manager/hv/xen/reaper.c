/*
 * reaper.c — a domain never outlives its monitor.  On KVM a VM is a file
 * descriptor of the monitor process and dies with it; a Xen domain is the
 * hypervisor's and would run on after a monitor that was killed (kxd sends
 * SIGKILL to each kxmon once it reported the end, kxctl kill, a crash).  So
 * at create the backend forks a small process that holds the read end of a
 * pipe the monitor writes nothing to: when the monitor is gone, for
 * whatever reason, the read returns end-of-file and the reaper destroys the
 * domain — only if it is still the same one (its handle, random per pVM,
 * unchanged: a domid can be reused).  The reaper blocks every signal but
 * SIGKILL and keeps no other descriptor.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenctrl.h>

#include "manager/hv/xen/xen.h"

static void quiet_vmessage(struct xentoollog_logger *l, xentoollog_level level, int errnoval,
			   const char *context, const char *format, va_list al)
{
	(void)l, (void)level, (void)errnoval, (void)context, (void)format, (void)al;
}

static void quiet_progress(struct xentoollog_logger *l, const char *context,
			   const char *doing_what, int percent, unsigned long done,
			   unsigned long total)
{
	(void)l, (void)context, (void)doing_what, (void)percent, (void)done, (void)total;
}

static void quiet_destroy(struct xentoollog_logger *l)
{
	(void)l;
}

xentoollog_logger xen_quiet_logger = {quiet_vmessage, quiet_progress, quiet_destroy};

static __attribute__((noreturn)) void reap(int fd, uint32_t domid, const uint8_t handle[16])
{
	xc_domaininfo_t info;
	xc_interface *xch;
	sigset_t all;
	char c;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (fd > 3)
		close_range(3, (unsigned)fd - 1, 0);
	close_range((unsigned)fd + 1, ~0u, 0);
	while (read(fd, &c, 1) != 0 && (errno == EINTR || errno == EAGAIN))
		;
	xch = xc_interface_open(&xen_quiet_logger, &xen_quiet_logger, 0);
	if (xch != NULL && xc_domain_getinfolist(xch, domid, 1, &info) == 1 &&
	    info.domain == domid && memcmp(info.handle, handle, 16) == 0)
		xc_domain_destroy(xch, domid);
	_exit(0);
}

int xen_reaper_start(uint32_t domid, const uint8_t handle[16], struct xen_reaper *r,
		     struct kx_error *err)
{
	int fds[2];
	pid_t pid;

	r->fd = -1;
	r->pid = -1;
	if (pipe2(fds, O_CLOEXEC) != 0)
		return kx_err(err, -errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(fds[0]);
		close(fds[1]);
		return kx_err(err, -e, "cannot start the domain's reaper: %s", strerror(e));
	}
	if (pid == 0) {
		close(fds[1]);
		reap(fds[0], domid, handle);
	}
	close(fds[0]);
	r->fd = fds[1];
	r->pid = pid;
	return 0;
}

void xen_reaper_stop(struct xen_reaper *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->pid > 0)
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
			;
	r->fd = -1;
	r->pid = -1;
}
