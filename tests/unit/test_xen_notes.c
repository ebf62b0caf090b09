/*
 * test_xen_notes: the ELF notes of the built Xen pVM images
 * (build/guest/xen/NAME.kxe, found next to this test's binary), read the way
 * libxc's loader reads them: every PT_NOTE, "Xen" notes by type.  Checks
 * what Xen 4.17's libelf requires of a non-Linux PV kernel (LOADER
 * "generic", XEN_VERSION "xen-3.0"), that VIRT_BASE and PADDR_OFFSET load
 * the image where it is linked, that ENTRY and HYPERCALL_PAGE lie in the
 * executable segment, and that kx's own note names a page of zero-filled
 * data for the kx ring.  The note walker (tests/xen/elfnote.c) treats the
 * file as hostile and is run over every truncation of a real image.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <elf.h>
#include <xen/elfnote.h>

#include "guest/kx_ring_abi.h"
#include "tests/xen/elfnote.h"

struct image {
	uint8_t *bytes;
	size_t size;
	struct xen_notes n;
};

static const char *self;

static const char *str(const struct image *im, uint32_t type)
{
	const struct xen_note *n = xen_note_find(&im->n, "Xen", type);

	if (n == NULL || n->desc_size == 0 || n->desc[n->desc_size - 1] != '\0')
		return NULL;
	return (const char *)n->desc;
}

static uint64_t num(const struct image *im, const char *name, uint32_t type)
{
	uint64_t v = 0;

	assert_int_equal(xen_note_u64(&im->n, name, type, &v), 0);
	return v;
}

static const Elf64_Phdr *segment_of(const struct image *im, uint64_t va, uint64_t size)
{
	for (unsigned i = 0; i < im->n.eh->e_phnum; i++) {
		const Elf64_Phdr *p = &im->n.ph[i];

		if (p->p_type == PT_LOAD && va >= p->p_vaddr && va - p->p_vaddr <= p->p_memsz &&
		    size <= p->p_memsz - (va - p->p_vaddr))
			return p;
	}
	return NULL;
}

static void load(struct image *im, const char *app)
{
	char path[4096];
	const char *slash = strrchr(self, '/');
	FILE *f;
	long size;

	/* build/tests/test_xen_notes -> build/guest/xen/APP.kxe */
	snprintf(path, sizeof(path), "%.*s/../guest/xen/%s.kxe", slash ? (int)(slash - self) : 1,
		 slash ? self : ".", app);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (make builds it)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	im->bytes = malloc((size_t)size);
	assert_non_null(im->bytes);
	assert_int_equal(fread(im->bytes, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	im->size = (size_t)size;
	assert_int_equal(xen_notes_parse(im->bytes, im->size, &im->n), 0);
}

static void check_image(const char *app)
{
	struct image im = {0};
	const Elf64_Phdr *text, *data;
	uint64_t entry, hcall, ring;

	print_message("image %s\n", app);
	load(&im, app);
	/* what libelf requires of a PV kernel that is not Linux */
	assert_non_null(str(&im, XEN_ELFNOTE_LOADER));
	assert_string_equal(str(&im, XEN_ELFNOTE_LOADER), "generic");
	assert_non_null(str(&im, XEN_ELFNOTE_XEN_VERSION));
	assert_string_equal(str(&im, XEN_ELFNOTE_XEN_VERSION), "xen-3.0");
	assert_non_null(str(&im, XEN_ELFNOTE_GUEST_OS));
	assert_string_equal(str(&im, XEN_ELFNOTE_GUEST_OS), "kx");
	assert_non_null(str(&im, XEN_ELFNOTE_FEATURES));
	/* loaded where linked, frame 0 at the image's first page */
	assert_int_equal(num(&im, "Xen", XEN_ELFNOTE_VIRT_BASE), 0x400000);
	assert_int_equal(num(&im, "Xen", XEN_ELFNOTE_PADDR_OFFSET), 0x400000);
	for (unsigned i = 0; i < im.n.eh->e_phnum; i++)
		if (im.n.ph[i].p_type == PT_LOAD) {
			assert_int_equal(im.n.ph[i].p_paddr, im.n.ph[i].p_vaddr);
			assert_true(im.n.ph[i].p_vaddr >= 0x400000);
			/* W^X in the file, as on KVM */
			assert_false((im.n.ph[i].p_flags & PF_W) && (im.n.ph[i].p_flags & PF_X));
		}
	entry = num(&im, "Xen", XEN_ELFNOTE_ENTRY);
	assert_int_equal(entry, im.n.eh->e_entry);
	text = segment_of(&im, entry, 1);
	assert_non_null(text);
	assert_true(text->p_flags & PF_X);
	hcall = num(&im, "Xen", XEN_ELFNOTE_HYPERCALL_PAGE);
	assert_int_equal(hcall % 4096, 0);
	assert_ptr_equal(segment_of(&im, hcall, 4096), text);
	/* the kx ring: a whole page of zero-filled (bss) data */
	ring = num(&im, KX_ELFNOTE_NAME, KX_ELFNOTE_RING);
	assert_int_equal(ring % 4096, 0);
	data = segment_of(&im, ring, KX_RING_PAGE_SIZE);
	assert_non_null(data);
	assert_true((data->p_flags & PF_W) && !(data->p_flags & PF_X));
	assert_true(ring >= data->p_vaddr + data->p_filesz);
	free(im.bytes);
}

static void test_notes_of_the_images(void **state)
{
	(void)state;
	check_image("xhello");
	check_image("hello");
	check_image("rt");
}

/* The walker on every prefix of a real image, and on broken note headers. */
static void test_walker_is_bounded(void **state)
{
	struct image im = {0}, cut;
	size_t note_at = 0;

	(void)state;
	load(&im, "xhello");
	for (unsigned i = 0; i < im.n.eh->e_phnum; i++)
		if (im.n.ph[i].p_type == PT_NOTE)
			note_at = im.n.ph[i].p_offset;
	assert_true(note_at > 0);
	for (size_t n = 0; n < im.size; n += n < note_at + 512 ? 1 : 4096) {
		cut = (struct image){.bytes = malloc(n ? n : 1), .size = n};
		memcpy(cut.bytes, im.bytes, n);
		/* a prefix that ends before the notes must fail, others may pass */
		if (xen_notes_parse(cut.bytes, cut.size, &cut.n) == 0)
			assert_true(n > note_at);
		free(cut.bytes);
	}
	/* a note whose descriptor size points past the segment */
	{
		uint32_t huge = 0xfffffff0u;

		memcpy(im.bytes + note_at + 4, &huge, 4);
		assert_int_equal(xen_notes_parse(im.bytes, im.size, &im.n), -1);
	}
	free(im.bytes);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notes_of_the_images),
		cmocka_unit_test(test_walker_is_bounded),
	};

	(void)argc;
	self = argv[0];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
