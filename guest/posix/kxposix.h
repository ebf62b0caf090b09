/*
 * kxposix.h — what kx's syscall layer (guest/posix/, libkxposix.a) offers
 * a program besides the Linux system calls themselves.  Installed by the
 * SDK as <kx/posix.h>; C99 headers only.
 */
#ifndef KX_POSIX_PUBLIC_H
#define KX_POSIX_PUBLIC_H

/* The Linux (x86-64) system call numbers that have answered ENOSYS in this
 * pVM so far, lowest first: how many there are; the first max go to nrs. */
int kx_posix_unimplemented(unsigned short *nrs, int max);

/* 1 when the layer implements system call nr, 0 when it answers ENOSYS
 * (some implemented calls still answer ENOSYS for some arguments: a
 * PROT_EXEC mapping, a thread-less clone; docs/posix.md). */
int kx_posix_implemented(long nr);

/* len bytes of the host's entropy (the monitor's getrandom), whatever the
 * CPU offers: getrandom() uses RDRAND when there is one and this
 * otherwise.  len, or a negative errno. */
long kx_posix_host_entropy(void *buf, unsigned long len);

/* How many times the monitor's timer has preempted a thread of this pVM
 * (threads are preemptive once a second one exists; docs/posix.md). */
long kx_posix_preemptions(void);

/* The monitor's counters for this pVM, running totals since it booted
 * (take differences around what you measure). */
struct kx_posix_monitor_stats {
	unsigned long long exits;	    /* every exit to the monitor: hypercalls and kicks */
	unsigned long long hcalls;	    /* hypercall exits */
	unsigned long long halts;	    /* times the vCPU halted in the monitor */
	unsigned long long watch_wakes;	    /* halts ended by another pVM's write to a shared
					     * pipe (a watched word) */
	unsigned long long scheduler_halts; /* halts of the thread scheduler (this layer's
					     * count: nothing else to run) */
};
/* Fill *out: 0; -ENOSYS from a monitor without the call. */
int kx_posix_monitor_stats(struct kx_posix_monitor_stats *out);

#endif /* KX_POSIX_PUBLIC_H */
