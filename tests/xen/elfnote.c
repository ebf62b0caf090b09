/*
 * elfnote.c — walk the PT_NOTE segments of an ELF64 x86-64 file
 * (elfnote.h).  Untrusted input: (bytes, size) is the whole file.
 */
#include <string.h>

#include "tests/xen/elfnote.h"

int xen_notes_parse(const uint8_t *bytes, size_t size, struct xen_notes *out)
{
	const Elf64_Ehdr *eh;

	out->count = 0;
	if (size < sizeof(Elf64_Ehdr))
		return -1;
	eh = (const Elf64_Ehdr *)(const void *)bytes;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_X86_64 || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff > size || eh->e_phnum > (size - eh->e_phoff) / sizeof(Elf64_Phdr) ||
	    eh->e_phoff % 8 != 0)
		return -1;
	out->eh = eh;
	out->ph = (const Elf64_Phdr *)(const void *)(bytes + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = &out->ph[i];
		uint64_t at, end;

		if (p->p_type != PT_NOTE)
			continue;
		if (p->p_offset > size || p->p_filesz > size - p->p_offset)
			return -1;
		at = p->p_offset;
		end = p->p_offset + p->p_filesz;
		while (end - at >= 12) {
			uint32_t namesz, descsz;
			uint64_t name_at, desc_at, next;
			struct xen_note *n;

			memcpy(&namesz, bytes + at, 4);
			memcpy(&descsz, bytes + at + 4, 4);
			name_at = at + 12;
			desc_at = name_at + ((namesz + 3ull) & ~3ull);
			next = desc_at + ((descsz + 3ull) & ~3ull);
			if (desc_at > end || next > end || namesz == 0 ||
			    namesz > sizeof(n->name) || out->count == XEN_NOTES_MAX)
				return -1;
			n = &out->note[out->count++];
			memcpy(&n->type, bytes + at + 8, 4);
			memcpy(n->name, bytes + name_at, namesz);
			n->name[namesz - 1] = '\0';
			n->desc = bytes + desc_at;
			n->desc_size = descsz;
			at = next;
		}
		if (at != end)
			return -1;
	}
	return 0;
}

const struct xen_note *xen_note_find(const struct xen_notes *n, const char *name, uint32_t type)
{
	for (unsigned i = 0; i < n->count; i++)
		if (strcmp(n->note[i].name, name) == 0 && n->note[i].type == type)
			return &n->note[i];
	return NULL;
}

int xen_note_u64(const struct xen_notes *n, const char *name, uint32_t type, uint64_t *value)
{
	const struct xen_note *note = xen_note_find(n, name, type);

	if (note == NULL || note->desc_size != 8)
		return -1;
	memcpy(value, note->desc, 8);
	return 0;
}
