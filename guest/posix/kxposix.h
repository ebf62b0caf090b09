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

#endif /* KX_POSIX_PUBLIC_H */
