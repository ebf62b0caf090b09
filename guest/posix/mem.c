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
 * Rights: every page of the region is read-write and never executable, and
 * only the monitor can change that.  So PROT_EXEC with PROT_WRITE is
 * refused (EACCES: W^X), PROT_EXEC alone and any mprotect that would take
 * rights away answer ENOSYS until the monitor offers it (docs/posix.md);
 * PROT_NONE and PROT_READ mappings are granted as read-write (the guard is
 * not enforced yet).
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

/* Take pages [first, first + n): zero the dirty ones (force: all of them,
 * for MAP_FIXED over a live mapping). */
static void claim(size_t first, size_t n, int force)
{
	for (size_t i = first; i < first + n; i++) {
		if (force || bit(dirty, i))
			memset((void *)(base + i * KX_PAGE), 0, KX_PAGE);
		set_bit(dirty, i, 0);
		set_bit(used, i, 1);
	}
}

static void release(size_t first, size_t n)
{
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
	int flags = (int)a[3];
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
	if (new_n <= n) {
		release(first + new_n, n - new_n);
		return (long)old;
	}
	if (first + new_n <= npages && all_free(first + n, new_n - n)) {
		claim(first + n, new_n - n, 0);
		return (long)old;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	{
		size_t top = find_top(new_n);

		if (top == SIZE_MAX)
			return -ENOMEM;
		claim(top, new_n, 0);
		memcpy((void *)(base + top * KX_PAGE), (void *)old, n * KX_PAGE);
		release(first, n);
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
		memset((void *)a[0], 0, n * KX_PAGE);
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
	/* Heap pages are read-write already: asking for exactly that is done.
	 * Anything else changes rights, which only the monitor can do. */
	if (rc == 0 && all_used(first, n) && (prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) ==
						      (PROT_READ | PROT_WRITE))
		return 0;
	if (rc == 0 && !all_used(first, n))
		return -ENOMEM;
	return kx_enosys(SYS_mprotect);
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
