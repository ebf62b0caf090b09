/*
 * end.c — the one-line description of how a pVM ended (what kxmon, and
 * kxd after it, print and log).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "manager/hv/hv.h"

static const char *const sig_names[KX_NSIG] = {
	[KX_SIGHUP] = "SIGHUP",	  [KX_SIGINT] = "SIGINT",   [KX_SIGKILL] = "SIGKILL",
	[KX_SIGUSR1] = "SIGUSR1", [KX_SIGUSR2] = "SIGUSR2", [KX_SIGTERM] = "SIGTERM",
	[KX_SIGCHLD] = "SIGCHLD",
};

static const char *const vector_names[32] = {
	[0] = "#DE divide error",
	[1] = "#DB debug",
	[2] = "NMI",
	[3] = "#BP breakpoint",
	[4] = "#OF overflow",
	[5] = "#BR bound range",
	[6] = "#UD invalid opcode",
	[7] = "#NM device not available",
	[8] = "#DF double fault",
	[10] = "#TS invalid TSS",
	[11] = "#NP segment not present",
	[12] = "#SS stack segment",
	[13] = "#GP general protection",
	[14] = "#PF page fault",
	[16] = "#MF x87 error",
	[17] = "#AC alignment check",
	[18] = "#MC machine check",
	[19] = "#XM SIMD error",
	[20] = "#VE virtualization",
	[21] = "#CP control protection",
};

/* A bounded string builder: output is truncated, never overrun. */
struct line {
	char *buf;
	size_t size;
	size_t len;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len + 1 >= l->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, l->size - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < l->size - l->len ? (size_t)n : l->size - l->len - 1;
}

/* Guest text goes to terminals and logs: escape everything not plain ASCII. */
static void add_escaped(struct line *l, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			add(l, "%c", c);
		else
			add(l, "\\x%02x", c);
	}
}

static void add_fault(struct line *l, const struct hv_end *end)
{
	const char *name = end->vector < 32 ? vector_names[end->vector] : NULL;

	add(l, "guest fault %s (vector %u, error 0x%llx", name ? name : "(reserved)", end->vector,
	    (unsigned long long)end->error_code);
	if (end->vector == 14) {
		uint64_t e = end->error_code;

		add(l, ": %s %s, %s", e & 4 ? "user" : "supervisor",
		    e & 16  ? "instruction fetch"
		    : e & 2 ? "write"
			    : "read",
		    e & 1 ? "protection violation" : "page not present");
	}
	add(l, ") at RIP 0x%llx", (unsigned long long)end->rip);
	if (end->vector == 14)
		add(l, ": address 0x%llx (%s)", (unsigned long long)end->fault_addr,
		    end->where ? end->where : "?");
}

const char *hv_end_describe(const struct hv_end *end, char *buf, size_t size)
{
	struct line l = {buf, size, 0};
	unsigned long long rip = end->rip;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	switch (end->reason) {
	case HV_END_EXIT:
		add(&l, "exit status %lld", (long long)end->exit_status);
		break;
	case HV_END_PAUSED:
		add(&l, "paused at RIP 0x%llx", rip);
		break;
	case HV_END_BAD_HCALL:
		add(&l, "bad hypercall %u from RIP 0x%llx: %s", end->hcall_nr, rip,
		    end->detail ? end->detail : "?");
		break;
	case HV_END_PANIC:
		add(&l, "guest panic at RIP 0x%llx: ", rip);
		add_escaped(&l, end->message);
		break;
	case HV_END_FAULT:
		add_fault(&l, end);
		break;
	case HV_END_BAD_IO:
		add(&l, "forbidden port I/O (%s, %u bytes, port 0x%x) at RIP 0x%llx",
		    end->detail ? end->detail : "?", end->io_size, end->io_port, rip);
		break;
	case HV_END_TRIPLE_FAULT:
		add(&l, "triple fault (vCPU shut down) at RIP 0x%llx", rip);
		break;
	case HV_END_MMIO:
		add(&l, "access to unbacked guest-physical address 0x%llx (%s) at RIP 0x%llx",
		    (unsigned long long)end->fault_addr, end->where ? end->where : "?", rip);
		break;
	case HV_END_INTERNAL:
		add(&l, "%s (0x%llx) at RIP 0x%llx", end->detail ? end->detail : "hypervisor error",
		    (unsigned long long)end->hw_reason, rip);
		break;
	case HV_END_SIGNAL:
		add(&l, "ended by signal %u (%s)", end->signal,
		    end->signal < KX_NSIG && sig_names[end->signal] ? sig_names[end->signal]
								    : "no default name");
		if (end->signal_from != 0)
			add(&l, " from pVM %llu", (unsigned long long)end->signal_from);
		break;
	case HV_END_CHANNEL:
		add(&l, "ended: ");
		add_escaped(&l, end->message);
		break;
	}
	return buf;
}
