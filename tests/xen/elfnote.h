/*
 * elfnote.h — the ELF notes of a Xen pVM image, walked as libxc's loader
 * walks them (every PT_NOTE), for tests/unit/test_xen_notes.c and
 * tests/xen/ringpeer.c.  The file is untrusted: xen_notes_parse checks every
 * offset and size against the buffer, without overflow.
 */
#ifndef KX_TESTS_XEN_ELFNOTE_H
#define KX_TESTS_XEN_ELFNOTE_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#define XEN_NOTES_MAX 32

struct xen_note {
	char name[8];
	uint32_t type;
	const uint8_t *desc;
	uint32_t desc_size;
};

struct xen_notes {
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph; /* eh->e_phnum of them, inside the buffer */
	struct xen_note note[XEN_NOTES_MAX];
	unsigned count;
};

/* 0 with *out (pointing into bytes), or -1 for a malformed file. */
int xen_notes_parse(const uint8_t *bytes, size_t size, struct xen_notes *out);

/* The note (name, type), or NULL. */
const struct xen_note *xen_note_find(const struct xen_notes *n, const char *name, uint32_t type);

/* An 8-byte numeric note's value: 0 with *value, -1 if absent or not 8 bytes. */
int xen_note_u64(const struct xen_notes *n, const char *name, uint32_t type, uint64_t *value);

#endif /* KX_TESTS_XEN_ELFNOTE_H */
