/*
 * mem.c — brk, mmap, munmap, mremap, madvise and mprotect over the heap
 * region the monitor reports at boot (kx_boot_info.heap_start/heap_size).
 *
 * The region is tracked in pages with two bitmaps: `used` (the page belongs
 * to the break or to a mapping) and `dirty` (the page may hold old bytes).
 * The break grows up from the bottom, mappings are placed from the top
 * down, so the two meet only when memory runs out.  Fresh pages from the
 * monitor are zero and are never touched before use (a pVM's untouched
 * pages cost the host nothing); a page given back is marked dirty and
 * zeroed when it is handed out again, as an anonymous mapping must be.
 *
 * Rights: pages of the region are read-write and never executable; only
 * the monitor changes rights, and it lowers them on request
 * (KX_HC_MPROTECT): PROT_READ and PROT_NONE mappings and mprotect calls are
 * enforced (a write to a read-only page, any access to a guard page ends
 * the pVM with a page fault, as SIGSEGV would end the process).  Two
 * bitmaps remember lowered pages; they are made read-write again before
 * the layer touches them (zeroing, copying) or gives them back.  PROT_EXEC
 * with PROT_WRITE is refused (EACCES: W^X), PROT_EXEC alone answers ENOSYS
 * (executable memory comes only from the monitor, docs/posix.md).
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include "guest/posix/posix.h"

/* kxmon gives a pVM at most 1 GiB of memory, so the heap has fewer pages. */
#define MAX_PAGES (1ul << 18)
#define WORDS	  (MAX_PAGES / 64)

static uintptr_t base;	  /* page-aligned start of the region */
static size_t npages;	  /* pages in it */
static uint64_t used[WORDS];
static uint64_t dirty[WORDS];
static uint64_t rdonly[WORDS]; /* lowered to PROT_READ (KX_HC_MPROTECT) */
static uint64_t noaccess[WORDS]; /* lowered to PROT_NONE */
static size_t nlowered;		 /* pages in either */
static size_t brk_pages;  /* [base, base + brk_pages pages) belong to the break */
static uintptr_t cur_brk; /* the break itself, inside the last of those pages */

void kx_mem_init(const struct kx_boot_info *boot)
{
	uintptr_t lo = (boot->heap_start + KX_PAGE - 1) & ~(KX_PAGE - 1);
	uintptr_t hi = (boot->heap_start + boot->heap_size) & ~(KX_PAGE - 1);

	base = lo;
	npages = hi > lo ? (hi - lo) / KX_PAGE : 0;
	if (npages > MAX_PAGES)
		npages = MAX_PAGES;
	brk_pages = 0;
	cur_brk = base;
}

static int bit(const uint64_t *map, size_t i)
{
	return (int)((map[i / 64] >> (i % 64)) & 1);
}

static void set_bit(uint64_t *map, size_t i, int on)
{
	if (on)
		map[i / 64] |= 1ull << (i % 64);
	else
		map[i / 64] &= ~(1ull << (i % 64));
}

static int all_free(size_t first, size_t n)
{
	for (size_t i = first; i < first + n; i++)
		if (bit(used, i))
			return 0;
	return 1;
}

static int all_used(size_t first, size_t n)
{
	for (size_t i = first; i < first + n; i++)
		if (!bit(used, i))
			return 0;
	return 1;
}

static int is_lowered(size_t i)
{
	return bit(rdonly, i) || bit(noaccess, i);
}

/* Ask the monitor for prot (PROT_READ|PROT_WRITE, PROT_READ, PROT_NONE) on
 * pages [first, first + n); 0 or -errno. */
static long set_rights(size_t first, size_t n, int prot)
{
	struct kx_hc_mprotect m = {.addr = base + first * KX_PAGE, .len = n * KX_PAGE};
	int64_t rc;

	m.prot = (prot & PROT_WRITE) ? KX_PROT_READ | KX_PROT_WRITE
				      : (prot & PROT_READ) ? KX_PROT_READ : 0;
	rc = kx_hcall(&m.hdr, KX_HC_MPROTECT);
	if (rc != 0)
		return rc == -KX_EACCES ? -EACCES : -ENOMEM;
	for (size_t i = first; i < first + n; i++) {
		nlowered -= (size_t)is_lowered(i);
		set_bit(rdonly, i, m.prot == KX_PROT_READ);
		set_bit(noaccess, i, m.prot == 0);
		nlowered += (size_t)is_lowered(i);
	}
	return 0;
}

/* The lowered pages of [first, first + n) read-write again, run by run. */
static void restore_rights(size_t first, size_t n)
{
	for (size_t i = first; nlowered > 0 && i < first + n;) {
		size_t run = 0;

		while (i + run < first + n && is_lowered(i + run))
			run++;
		if (run == 0) {
			i++;
			continue;
		}
		if (set_rights(i, run, PROT_READ | PROT_WRITE) != 0)
			kx_panic("posix: the monitor refused to restore heap pages");
		i += run;
	}
}

/* Take pages [first, first + n): zero the dirty ones (force: all of them,
 * for MAP_FIXED over a live mapping). */
static void claim(size_t first, size_t n, int force)
{
	restore_rights(first, n); /* MAP_FIXED over a lowered mapping */
	for (size_t i = first; i < first + n; i++) {
		if (force || bit(dirty, i))
			memset((void *)(base + i * KX_PAGE), 0, KX_PAGE);
		set_bit(dirty, i, 0);
		set_bit(used, i, 1);
	}
}

static void release(size_t first, size_t n)
{
	restore_rights(first, n);
	for (size_t i = first; i < first + n; i++) {
		if (bit(used, i))
			set_bit(dirty, i, 1);
		set_bit(used, i, 0);
	}
}

/* The highest run of n free pages above the break, or SIZE_MAX. */
static size_t find_top(size_t n)
{
	size_t run = 0;

	for (size_t i = npages; i-- > brk_pages;) {
		if (i % 64 == 63 && i >= 63 && used[i / 64] == ~0ull) {
			run = 0;
			i -= 63;
			continue;
		}
		run = bit(used, i) ? 0 : run + 1;
		if (run == n)
			return i;
	}
	return SIZE_MAX;
}

/* [addr, addr + len) as region pages; -EINVAL when unaligned or empty,
 * -ENOMEM when it is not inside the region. */
static long to_pages(uintptr_t addr, size_t len, size_t *first, size_t *n)
{
	if (addr % KX_PAGE != 0 || len == 0)
		return -EINVAL;
	if (len > npages * KX_PAGE)
		return -ENOMEM;
	*n = (len + KX_PAGE - 1) / KX_PAGE;
	if (addr < base || addr - base > (npages - *n) * KX_PAGE)
		return -ENOMEM;
	*first = (addr - base) / KX_PAGE;
	return 0;
}

uint64_t kx_mem_free_bytes(void)
{
	uint64_t n = 0;

	for (size_t i = 0; i < npages; i++)
		n += !bit(used, i);
	return n * KX_PAGE;
}

KX_SYS(brk)
{
	uintptr_t want = (uintptr_t)a[0];
	size_t pages;

	/* Linux's brk returns the break: the new one, or the old one when the
	 * request cannot be met (musl's malloc checks which). */
	if (want < base || want - base > npages * KX_PAGE)
		return (long)cur_brk;
	pages = (want - base + KX_PAGE - 1) / KX_PAGE;
	if (pages > brk_pages) {
		if (!all_free(brk_pages, pages - brk_pages))
			return (long)cur_brk;
		claim(brk_pages, pages - brk_pages, 0);
	} else if (pages < brk_pages) {
		release(pages, brk_pages - pages);
	}
	brk_pages = pages;
	cur_brk = want;
	return (long)cur_brk;
}

/* Copy a private file mapping's bytes in (a snapshot: later writes to the
 * file are not seen, which POSIX allows for MAP_PRIVATE). */
static long fill_from_file(long fd, off_t off, void *dst, size_t len)
{
	struct kx_file *f = kx_fd_get(fd);
	off_t pos = off;
	size_t done = 0;

	if (!f)
		return -EBADF;
	if (!f->ops->read || !f->ops->size)
		return -ENODEV; /* pipes, the console: nothing to map */
	if ((f->flags & O_ACCMODE) == O_WRONLY)
		return -EACCES;
	while (done < len) {
		long n = f->ops->read(f, (char *)dst + done, len - done, &pos);

		if (n < 0)
			return n;
		if (n == 0)
			break; /* past the end: the rest stays zero */
		done += (size_t)n;
	}
	return 0;
}

KX_SYS(mmap)
{
	uintptr_t addr = (uintptr_t)a[0];
	size_t len = (size_t)a[1], first, n;
	int prot = (int)a[2], flags = (int)a[3], type = flags & MAP_TYPE;
	int fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	long rc;

	if (len == 0 || (a[5] & (long)(KX_PAGE - 1)) != 0)
		return -EINVAL;
	if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE)
		return -EINVAL;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
		return -EINVAL;
	if (prot & PROT_EXEC)
		return (prot & PROT_WRITE) ? -EACCES : kx_enosys(SYS_mmap);
	if (!(flags & MAP_ANONYMOUS) && type != MAP_PRIVATE)
		return -ENODEV; /* shared file mappings: with host files, later */
	if (len > npages * KX_PAGE)
		return -ENOMEM;
	n = (len + KX_PAGE - 1) / KX_PAGE;
	if (fixed) {
		if ((rc = to_pages(addr, len, &first, &n)) != 0)
			return rc;
		if (first < brk_pages)
			return -ENOMEM; /* the break's pages are not ours to replace */
		if ((flags & MAP_FIXED_NOREPLACE) && !all_free(first, n))
			return -EEXIST;
	} else if (addr && to_pages(addr, len, &first, &n) == 0 && first >= brk_pages &&
		   all_free(first, n)) {
		/* the hint is free: take it, as Linux does */
	} else {
		size_t top = find_top(n);

		if (top == SIZE_MAX)
			return -ENOMEM;
		first = top;
	}
	if (!(flags & MAP_ANONYMOUS)) {
		/* Check the fd before any page changes hands. */
		struct kx_file *f = kx_fd_get(a[4]);

		if (!f)
			return -EBADF;
		if (!f->ops->read || !f->ops->size)
			return -ENODEV;
	}
	claim(first, n, fixed && !all_free(first, n));
	if (!(flags & MAP_ANONYMOUS)) {
		rc = fill_from_file(a[4], (off_t)a[5], (void *)(base + first * KX_PAGE), len);
		if (rc != 0) {
			release(first, n);
			return rc;
		}
	}
	/* PROT_READ, PROT_NONE (a guard): the monitor enforces them. */
	if (!(prot & PROT_WRITE) && (rc = set_rights(first, n, prot)) != 0) {
		release(first, n);
		return rc;
	}
	return (long)(base + first * KX_PAGE);
}

KX_SYS(munmap)
{
	size_t first, n;
	long rc = to_pages((uintptr_t)a[0], (size_t)a[1], &first, &n);

	/* Outside the region lie the image and the stack: not mappings this
	 * layer made, and not something a pVM can give back. */
	if (rc == -ENOMEM || (rc == 0 && first < brk_pages))
		return -EINVAL;
	if (rc != 0)
		return rc;
	release(first, n); /* unmapped pages in the range are no error */
	return 0;
}

KX_SYS(mremap)
{
	uintptr_t old = (uintptr_t)a[0];
	size_t old_len = (size_t)a[1], new_len = (size_t)a[2], first, n, new_n;
	int flags = (int)a[3], prot;
	long rc;

	if (flags & ~MREMAP_MAYMOVE)
		return (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) ? -EINVAL
										    : kx_enosys(SYS_mremap);
	if (new_len == 0 || old_len == 0)
		return -EINVAL;
	if ((rc = to_pages(old, old_len, &first, &n)) != 0)
		return rc == -ENOMEM ? -EFAULT : rc;
	if (first < brk_pages || !all_used(first, n))
		return -EFAULT;
	if (new_len > npages * KX_PAGE)
		return -ENOMEM;
	new_n = (new_len + KX_PAGE - 1) / KX_PAGE;
	/* The mapping keeps its rights (those of its first page). */
	prot = bit(noaccess, first) ? PROT_NONE
	       : bit(rdonly, first) ? PROT_READ
				    : PROT_READ | PROT_WRITE;
	if (new_n <= n) {
		release(first + new_n, n - new_n);
		return (long)old;
	}
	if (first + new_n <= npages && all_free(first + n, new_n - n)) {
		claim(first + n, new_n - n, 0);
		if (prot != (PROT_READ | PROT_WRITE) && set_rights(first + n, new_n - n, prot) != 0)
			return -ENOMEM;
		return (long)old;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	{
		size_t top = find_top(new_n);

		if (top == SIZE_MAX)
			return -ENOMEM;
		claim(top, new_n, 0);
		restore_rights(first, n); /* readable to copy */
		memcpy((void *)(base + top * KX_PAGE), (void *)old, n * KX_PAGE);
		release(first, n);
		if (prot != (PROT_READ | PROT_WRITE) && set_rights(top, new_n, prot) != 0)
			return -ENOMEM;
		return (long)(base + top * KX_PAGE);
	}
}

KX_SYS(madvise)
{
	size_t first, n;
	int advice = (int)a[2];
	long rc;

	if ((uintptr_t)a[0] % KX_PAGE != 0)
		return -EINVAL;
	switch (advice) {
	case MADV_DONTNEED:
		/* Private anonymous memory reads back as zeros afterwards. */
		if (a[1] == 0)
			return 0;
		if ((rc = to_pages((uintptr_t)a[0], (size_t)a[1], &first, &n)) != 0)
			return -EINVAL;
		if (!all_used(first, n))
			return -ENOMEM;
		for (size_t i = first; i < first + n; i++) {
			int lowered = is_lowered(i), prot = bit(rdonly, i) ? PROT_READ : PROT_NONE;

			if (lowered)
				set_rights(i, 1, PROT_READ | PROT_WRITE);
			memset((void *)(base + i * KX_PAGE), 0, KX_PAGE);
			if (lowered)
				set_rights(i, 1, prot);
		}
		return 0;
	case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
	case MADV_FREE: case MADV_DONTFORK: case MADV_DOFORK: case MADV_MERGEABLE:
	case MADV_UNMERGEABLE: case MADV_HUGEPAGE: case MADV_NOHUGEPAGE: case MADV_DONTDUMP:
	case MADV_DODUMP:
		return 0; /* advice: nothing to do for memory that stays put */
	default:
		return -EINVAL;
	}
}

KX_SYS(mprotect)
{
	size_t first, n;
	int prot = (int)a[2];
	long rc;

	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	if ((uintptr_t)a[0] % KX_PAGE != 0)
		return -EINVAL;
	if ((prot & PROT_EXEC) && (prot & PROT_WRITE))
		return -EACCES;
	if (a[1] == 0)
		return 0;
	rc = to_pages((uintptr_t)a[0], (size_t)a[1], &first, &n);
	if (rc == -EINVAL)
		return rc;
	if (rc == 0 && !all_used(first, n))
		return -ENOMEM;
	/* Executable memory comes only from the monitor; outside the region
	 * lie the image and the stack, whose rights are the monitor's. */
	if (rc != 0 || (prot & PROT_EXEC))
		return kx_enosys(SYS_mprotect);
	if ((prot & PROT_WRITE) && nlowered == 0)
		return 0; /* read-write already: nothing to ask */
	return set_rights(first, n, prot);
}

void *kx_pages_alloc(size_t n)
{
	size_t first = n ? find_top(n) : SIZE_MAX;

	if (first == SIZE_MAX)
		return NULL;
	claim(first, n, 0);
	return (void *)(base + first * KX_PAGE);
}

void kx_pages_free(void *p, size_t n)
{
	release(((uintptr_t)p - base) / KX_PAGE, n);
}

int kx_pages_grow(void *p, size_t n, size_t new_n)
{
	size_t first = ((uintptr_t)p - base) / KX_PAGE;

	if (new_n <= n) {
		release(first + new_n, n - new_n);
		return 1;
	}
	if (first + new_n > npages || !all_free(first + n, new_n - n))
		return 0;
	claim(first + n, new_n - n, 0);
	return 1;
}
