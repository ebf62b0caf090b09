/*
 * base.c — the hypercalls every pVM has: console output, exit, the host
 * clocks, panic (docs/guest-abi.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manager/hv/internal.h"

static ssize_t console_write(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

void hv_console_out(struct hv_pvm *p, int fd, uint64_t buf_gpa, uint64_t len, int64_t *ret,
		    struct hv_hcall_result *res)
{
	const void *buf;
	ssize_t n;

	if (len > KX_HC_CONSOLE_MAX) {
		hv_bad(res, "console length exceeds KX_HC_CONSOLE_MAX");
		return;
	}
	*ret = 0;
	if (len == 0)
		return;
	buf = hv_guest_ptr(&p->mem, buf_gpa, len, HV_ACCESS_READ);
	if (buf == NULL) {
		hv_bad(res, "console buffer outside readable guest memory");
		return;
	}
	n = console_write(fd, buf, (size_t)len);
	*ret = n < 0 ? -KX_EIO : (int64_t)n;
}

static void hc_console_write(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	hv_console_out(p, p->console_fd, b->console_write.buf, b->console_write.len, &b->hdr.ret,
		       res);
}

static void hc_exit(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	(void)p;
	res->outcome = HV_HC_EXIT;
	res->exit_status = b->exit.status;
}

static uint64_t clock_ns(clockid_t clock_id)
{
	struct timespec ts;

	if (clock_gettime(clock_id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void hc_clock(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	(void)p, (void)res;
	b->clock.monotonic_ns = clock_ns(CLOCK_MONOTONIC);
	b->clock.realtime_ns = clock_ns(CLOCK_REALTIME);
	b->hdr.ret = 0;
}

static void hc_panic(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	const struct kx_hc_panic *pa = &b->panic;
	const void *msg;

	if (pa->len > KX_HC_PANIC_MAX) {
		hv_bad(res, "panic message length exceeds KX_HC_PANIC_MAX");
		return;
	}
	if (pa->len > 0) {
		msg = hv_guest_ptr(&p->mem, pa->msg, pa->len, HV_ACCESS_READ);
		if (msg == NULL) {
			hv_bad(res, "panic message outside readable guest memory");
			return;
		}
		memcpy(res->message, msg, (size_t)pa->len);
	}
	res->message[pa->len] = '\0';
	res->outcome = HV_HC_PANIC;
}

static const struct hv_hcall_desc hcalls[] = {
	{KX_HC_CONSOLE_WRITE, sizeof(struct kx_hc_console_write), hc_console_write},
	{KX_HC_EXIT, sizeof(struct kx_hc_exit), hc_exit},
	{KX_HC_CLOCK, sizeof(struct kx_hc_clock), hc_clock},
	{KX_HC_PANIC, sizeof(struct kx_hc_panic), hc_panic},
};

const struct hv_module hv_mod_base = {
	.name = "base",
	.hcalls = hcalls,
	.nhcalls = sizeof(hcalls) / sizeof(hcalls[0]),
};
