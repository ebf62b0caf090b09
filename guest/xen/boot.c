/*
 * boot.c — the Xen PV platform's computations (boot.h): the memory layout
 * from start_info, the command line, Xen's time scaling, the console ring's
 * indices.  No hypercalls: tests/unit/test_xen_boot.c runs this on the host.
 */
#include "guest/xen/xen_public.h"
#include <xen/io/console.h>

#include "guest/kx_hcall_abi.h"
#include "guest/xen/boot.h"

static int aligned(uint64_t v)
{
	return v % KX_XEN_PAGE == 0;
}

/* [at, at + size) lies inside [lo, hi), without overflow. */
static int inside(uint64_t at, uint64_t size, uint64_t lo, uint64_t hi)
{
	return at >= lo && at <= hi && size <= hi - at;
}

static int fail(const char **why, const char *what)
{
	if (why)
		*why = what;
	return -KX_EINVAL;
}

uint64_t kx_xen_pt_frames(uint64_t from, uint64_t to)
{
	if (from >= to)
		return 0;
	return ((to - 1) >> 21) - (from >> 21) + 1 + ((to - 1) >> 30) - (from >> 30) + 1;
}

int kx_xen_layout(const struct kx_xen_boot_in *in, struct kx_xen_layout *out, const char **why)
{
	const uint64_t base = KX_XEN_VIRT_BASE;
	uint64_t mem_end, pool_end, boot_lo;

	if (in->nr_pages == 0 || in->nr_pages > (KX_XEN_VA_LIMIT - base) / KX_XEN_PAGE)
		return fail(why, "start_info: nr_pages out of range");
	mem_end = base + in->nr_pages * KX_XEN_PAGE;
	if (!aligned(in->image_end) || in->image_end <= base || in->image_end > mem_end)
		return fail(why, "image end outside guest memory");
	/* The bootstrap elements lie between the image and the boot stack's end. */
	boot_lo = in->image_end;
	if (!aligned(in->boot_sp) || in->boot_sp <= boot_lo ||
	    !inside(in->boot_sp, KX_XEN_BOOT_PAD, boot_lo, mem_end))
		return fail(why, "boot stack outside the bootstrap region");
	if (!aligned(in->start_info) || !inside(in->start_info, KX_XEN_PAGE, boot_lo, in->boot_sp))
		return fail(why, "start_info outside the bootstrap region");
	if (!aligned(in->pt_base) || in->nr_pt_frames < 4 ||
	    in->nr_pt_frames > (in->boot_sp - boot_lo) / KX_XEN_PAGE ||
	    !inside(in->pt_base, in->nr_pt_frames * KX_XEN_PAGE, boot_lo, in->boot_sp))
		return fail(why, "start_info: page tables outside the bootstrap region");
	if (in->mfn_list % 8 != 0 || !inside(in->mfn_list, in->nr_pages * 8, boot_lo, in->boot_sp))
		return fail(why, "start_info: mfn_list outside the bootstrap region");
	if (in->console_pfn >= in->nr_pages ||
	    !inside(base + in->console_pfn * KX_XEN_PAGE, KX_XEN_PAGE, boot_lo, in->boot_sp))
		return fail(why, "start_info: console page outside the bootstrap region");
	if (in->store_pfn >= in->nr_pages ||
	    !inside(base + in->store_pfn * KX_XEN_PAGE, KX_XEN_PAGE, boot_lo, in->boot_sp))
		return fail(why, "start_info: XenStore page outside the bootstrap region");

	/* Page tables for everything past the boot stack come from the frames
	 * right after it, which the contract guarantees are mapped. */
	pool_end = in->boot_sp + kx_xen_pt_frames(in->boot_sp, mem_end) * KX_XEN_PAGE;
	if (mem_end - in->boot_sp < KX_XEN_STACK + KX_XEN_PAGE + KX_XEN_HEAP_MIN ||
	    pool_end > mem_end - KX_XEN_STACK - KX_XEN_PAGE - KX_XEN_HEAP_MIN)
		return fail(why, "not enough memory for page tables, heap and stack");
	*out = (struct kx_xen_layout){
		.mem_end = mem_end,
		.pt_pool = in->boot_sp,
		.pt_pool_end = pool_end,
		.heap_start = pool_end,
		.heap_end = mem_end - KX_XEN_STACK - KX_XEN_PAGE,
		.guard = mem_end - KX_XEN_STACK - KX_XEN_PAGE,
		.stack_bottom = mem_end - KX_XEN_STACK,
		.stack_top = mem_end,
	};
	return 0;
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int kx_xen_split_cmdline(const char *cmd, size_t cap, char *buf, size_t bufsz, char **argv,
			 size_t max_argv)
{
	size_t i = 0, used = 0;
	int argc = 0;

	if (max_argv == 0)
		return -KX_E2BIG;
	while (i < cap && cmd[i] != '\0') {
		if (blank(cmd[i])) {
			i++;
			continue;
		}
		if ((size_t)argc + 1 >= max_argv)
			return -KX_E2BIG;
		argv[argc++] = buf + used;
		while (i < cap && cmd[i] != '\0' && !blank(cmd[i])) {
			if (used + 1 >= bufsz)
				return -KX_E2BIG;
			buf[used++] = cmd[i++];
		}
		if (used >= bufsz)
			return -KX_E2BIG;
		buf[used++] = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

uint64_t kx_xen_time_ns(const struct kx_xen_time *t, uint64_t tsc)
{
	uint64_t delta = tsc > t->tsc_timestamp ? tsc - t->tsc_timestamp : 0;

	if (t->shift < 0)
		delta >>= -t->shift;
	else
		delta <<= t->shift;
	return t->system_time + (uint64_t)(((unsigned __int128)delta * t->mul) >> 32);
}

/* The console page: Xen's own layout, from libxen-dev's public header. */
long kx_xen_cons_put(void *intf, const char *src, size_t n)
{
	struct xencons_interface *c = intf;
	XENCONS_RING_IDX cons = __atomic_load_n(&c->out_cons, __ATOMIC_ACQUIRE);
	XENCONS_RING_IDX prod = c->out_prod; /* ours: only this side writes it */
	XENCONS_RING_IDX used = prod - cons;
	size_t room, i;

	if (used > sizeof(c->out))
		return -KX_EIO;
	room = sizeof(c->out) - used;
	if (n > room)
		n = room;
	for (i = 0; i < n; i++)
		c->out[MASK_XENCONS_IDX(prod + i, c->out)] = src[i];
	__atomic_store_n(&c->out_prod, prod + (XENCONS_RING_IDX)n, __ATOMIC_RELEASE);
	return (long)n;
}

long kx_xen_cons_pending(const void *intf)
{
	const struct xencons_interface *c = intf;
	XENCONS_RING_IDX used = c->out_prod - __atomic_load_n(&c->out_cons, __ATOMIC_ACQUIRE);

	return used > sizeof(c->out) ? -KX_EIO : (long)used;
}

/* The table of kx_hcall_abi.h's blocks; tests/unit/test_xen_boot.c checks
 * that every call number the header defines is in it. */
uint32_t kx_xen_block_size(uint32_t nr)
{
	switch (nr) {
	case KX_HC_CONSOLE_WRITE:
		return sizeof(struct kx_hc_console_write);
	case KX_HC_EXIT:
		return sizeof(struct kx_hc_exit);
	case KX_HC_CLOCK:
		return sizeof(struct kx_hc_clock);
	case KX_HC_PANIC:
		return sizeof(struct kx_hc_panic);
	case KX_HC_RESOLVE:
		return sizeof(struct kx_hc_resolve);
	case KX_HC_DLOPEN:
		return sizeof(struct kx_hc_dlopen);
	case KX_HC_DLSYM:
		return sizeof(struct kx_hc_dlsym);
	case KX_HC_FORK:
		return sizeof(struct kx_hc_fork);
	case KX_HC_WAIT:
		return sizeof(struct kx_hc_wait);
	case KX_HC_IPC_GET:
		return sizeof(struct kx_hc_ipc_get);
	case KX_HC_IPC_DETACH:
	case KX_HC_IPC_RM:
	case KX_HC_IPC_SELF:
		return sizeof(struct kx_hc_ipc_obj);
	case KX_HC_NOTIFY_WAIT:
	case KX_HC_NOTIFY_WAKE:
		return sizeof(struct kx_hc_notify);
	case KX_HC_KILL:
		return sizeof(struct kx_hc_kill);
	case KX_HC_SIGACTION:
		return sizeof(struct kx_hc_sigaction);
	case KX_HC_SIGRETURN:
		return sizeof(struct kx_hc_sigreturn);
	case KX_HC_PAUSE:
		return sizeof(struct kx_hc_pause);
	case KX_HC_WAITX:
		return sizeof(struct kx_hc_waitx);
	case KX_HC_RECYCLE_WAIT:
		return sizeof(struct kx_hc_recycle_wait);
	/* posix-mon: the POSIX services */
	case KX_HC_TIME_PAGE:
		return sizeof(struct kx_hc_time_page);
	case KX_HC_HALT:
		return sizeof(struct kx_hc_halt);
	case KX_HC_PREEMPT:
		return sizeof(struct kx_hc_preempt);
	case KX_HC_ENTROPY:
		return sizeof(struct kx_hc_entropy);
	case KX_HC_POSIX_REPORT:
		return sizeof(struct kx_hc_posix_report);
	case KX_HC_FS_MOUNT: /* posix-fs: every host-directory call */
	case KX_HC_FS_OPEN:
	case KX_HC_FS_CLOSE:
	case KX_HC_FS_PREAD:
	case KX_HC_FS_PWRITE:
	case KX_HC_FS_FSTAT:
	case KX_HC_FS_STAT:
	case KX_HC_FS_GETDENTS:
	case KX_HC_FS_MKDIR:
	case KX_HC_FS_UNLINK:
	case KX_HC_FS_RENAME:
	case KX_HC_FS_TRUNCATE:
	case KX_HC_FS_FSYNC:
		return sizeof(struct kx_hc_fs);
	/* the packet device (docs/network.md) */
	case KX_HC_NET_INFO:
		return sizeof(struct kx_hc_net_info);
	case KX_HC_NET_KICK:
		return sizeof(struct kx_hc_net_kick);
	case KX_HC_NET_WAIT:
		return sizeof(struct kx_hc_net_wait);
	case KX_HC_CONSOLE_READ:
		return sizeof(struct kx_hc_console_read);
	case KX_HC_CONSOLE_WRITE2:
		return sizeof(struct kx_hc_console_write2);
	case KX_HC_SELF:
		return sizeof(struct kx_hc_self);
	case KX_HC_ENVIRON:
		return sizeof(struct kx_hc_environ);
	case KX_HC_MPROTECT:
		return sizeof(struct kx_hc_mprotect);
	case KX_HC_HALT_WATCH: /* bench13 */
		return sizeof(struct kx_hc_halt_watch);
	case KX_HC_POSIX_STATS:
		return sizeof(struct kx_hc_posix_stats);
	/* end posix-mon */
	default:
		return 0;
	}
}
