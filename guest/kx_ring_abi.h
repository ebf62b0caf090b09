/*
 * kx_ring_abi.h — the kx hypercall ring: how a pVM's kx hypercalls
 * (guest/kx_hcall_abi.h: the same numbers, the same blocks, unchanged)
 * reach a monitor that cannot trap the guest's `outl`, as on Xen PV, where
 * the monitor is a dom0 process and the pVM a domain.  Shared by the guest
 * runtime (guest/xen/) and the host backend; nothing else is shared.
 *
 * Self-contained: C99 headers only, layout pinned with _Static_assert;
 * changing a structure bumps KX_RING_ABI_VERSION.  docs/xen-backend.md is
 * the prose reference.
 *
 * One 4096-byte page, in the guest's memory, shared with its monitor:
 *
 *   0    struct kx_ring_ident   written by the MONITOR before the guest
 *                               runs: magic, version, geometry, its event
 *                               channel.  The guest only reads it; a page
 *                               without the magic means "no monitor".
 *   64   struct kx_ring_front   written by the GUEST: req_prod, rsp_event
 *   128  struct kx_ring_back    written by the MONITOR: rsp_prod, req_event
 *   192  reserved (zero)
 *   512  KX_RING_SLOTS slots of KX_RING_SLOT_SIZE bytes
 *
 * The protocol is Xen's split-ring (xen/include/public/io/ring.h) reduced
 * to one producer per direction: the guest puts a request in slot
 * req_prod % KX_RING_SLOTS and then advances req_prod; the monitor takes
 * requests in order and puts each response in slot rsp_prod % KX_RING_SLOTS
 * (a slot whose request it has already taken) and then advances rsp_prod.
 * Indices run freely modulo 2^32; the guest keeps at most KX_RING_SLOTS
 * requests without a response.  A response carries its request's id and
 * the request's block with ret and the output fields written, at the
 * request's length.
 *
 * Notification (the event channel in kx_ring_ident): after advancing
 * req_prod from old to new, the guest notifies iff
 *     (uint32_t)(new - req_event) < (uint32_t)(new - old)
 * and the monitor likewise with rsp_prod and rsp_event.  A side about to
 * sleep sets its *_event to the index it waits for, then looks again.
 *
 * Trust: the monitor copies a request out of the slot once and checks the
 * copy (kxr_back_take); every guest address inside a block is a guest
 * address as on KVM and goes through the monitor's one checked accessor.
 * The guest, too, checks what the monitor wrote before using it.  A broken
 * ring (an index moved backwards or too far, a length out of range) is
 * never accessed past its page: the monitor ends the pVM, the guest stops
 * using the ring.
 */
#ifndef KX_RING_ABI_H
#define KX_RING_ABI_H

#include <stddef.h>
#include <stdint.h>

#define KX_RING_ABI_VERSION 2u /* 2: kx_ring_boot carries signals */
#define KX_RING_MAGIC	    0x31676e6952584bull /* "KXRing1" */

#define KX_RING_PAGE_SIZE 4096u
#define KX_RING_SLOTS	  16u  /* a power of two */
#define KX_RING_SLOT_SIZE 224u /* bytes: struct kx_ring_slot */
#define KX_RING_HDR_SIZE  512u /* bytes before the first slot */
/* Largest block a slot carries: every block of kx_hcall_abi.h fits. */
#define KX_RING_BLOCK_MAX (KX_RING_SLOT_SIZE - 16u)

/*
 * Where the page is: an ELF note in the (signed) image, name "KX", type
 * KX_ELFNOTE_RING, an 8-byte descriptor holding the page's guest virtual
 * address (page-aligned, in the image's zero-filled data).  The monitor
 * creates the domain paused, finds the page through the note, writes
 * kx_ring_ident (magic last) and only then lets the guest run, so the guest
 * never has to announce anything and no XenStore or grant table is needed.
 */
#define KX_ELFNOTE_NAME "KX"
#define KX_ELFNOTE_RING 1u

/* kx_ring_ident.features: nothing optional yet. */
#define KX_RING_FEATURES 0u

/*
 * When the monitor builds the domain itself (kxmon --backend xen: the
 * core's layout, guest address == pseudo-physical address, no libxc
 * builder and no start_info), the guest enters with %rdi = the core's
 * struct kx_boot_info (guest/kx_hcall_abi.h) and %rsi = this page, read-only
 * to the guest.  A domain made by libxc's builder (xl create) enters with
 * %rsi = start_info, whose first bytes are "xen-3.0-x86_64": the magic
 * tells the two apart.  The ring page named here is already set up (its
 * ident written); the KX ELF note is then unused.
 */
#define KX_RING_BOOT_MAGIC 0x746f6f42584bull /* "KXBoot" */

struct kx_ring_boot {
	uint64_t magic;	      /* KX_RING_BOOT_MAGIC */
	uint32_t version;     /* KX_RING_ABI_VERSION */
	uint32_t reserved0;   /* 0 */
	uint64_t ring;	      /* guest address of the kx ring page (read-write) */
	uint64_t shared_info; /* guest address of the domain's shared_info (read-write) */
	/* Bumped by the monitor each time it changed the guest's page tables
	 * while the guest ran; after each kx call the guest flushes its TLB
	 * when it changed (the monitor cannot flush another domain's). */
	uint64_t flush_seq;
	/* A signal handler to run (docs/xen-backend.md "Signals"): the monitor
	 * writes sig and handler, then bumps sig_seq (release), only while no
	 * handler runs.  After taking each answer the guest compares sig_seq
	 * with the last it saw; when it changed it calls handler(sig) and
	 * then KX_HC_SIGRETURN, which resumes the code that made the call. */
	uint64_t sig_seq;
	uint64_t sig;
	uint64_t sig_handler;
	/* For tests and benchmarks (the runtime ignores them): this pVM's
	 * KX_HC_NOTIFY_WAITs on an IpC word that ended because another holder
	 * woke it (or had woken it since the guest looked), and those that
	 * ended at their time limit. */
	uint64_t ipc_waits_woken;
	uint64_t ipc_waits_timed_out;
	uint64_t reserved[6]; /* 0 */
};

/* Written by the monitor before the guest's first instruction. */
struct kx_ring_ident {
	uint64_t magic;	    /* KX_RING_MAGIC */
	uint32_t version;   /* KX_RING_ABI_VERSION */
	uint32_t slots;	    /* KX_RING_SLOTS */
	uint32_t slot_size; /* KX_RING_SLOT_SIZE */
	uint32_t evtchn;    /* the guest's end of the event channel to the monitor */
	uint64_t features;  /* KX_RING_FEATURES */
	uint64_t reserved[4];
};

/* Written by the guest only. */
struct kx_ring_front {
	uint32_t req_prod;  /* requests published (free-running) */
	uint32_t rsp_event; /* notify me when rsp_prod passes this */
	uint32_t reserved[14];
};

/* Written by the monitor only. */
struct kx_ring_back {
	uint32_t rsp_prod;  /* responses published (free-running) */
	uint32_t req_event; /* notify me when req_prod passes this */
	uint32_t reserved[14];
};

/* A request or, once the monitor has answered, a response. */
struct kx_ring_slot {
	uint64_t id;  /* chosen by the guest, echoed in the response */
	uint32_t len; /* bytes of block used: a multiple of 8, 16..KX_RING_BLOCK_MAX */
	uint32_t reserved;
	uint8_t block[KX_RING_BLOCK_MAX]; /* starts with struct kx_hc_hdr */
};

struct kx_ring_page {
	struct kx_ring_ident ident;
	struct kx_ring_front front;
	struct kx_ring_back back;
	uint8_t reserved[KX_RING_HDR_SIZE - 192];
	struct kx_ring_slot slot[KX_RING_SLOTS];
};

_Static_assert(sizeof(struct kx_ring_ident) == 64, "kx_ring_ident layout");
_Static_assert(sizeof(struct kx_ring_front) == 64, "kx_ring_front layout");
_Static_assert(sizeof(struct kx_ring_back) == 64, "kx_ring_back layout");
_Static_assert(sizeof(struct kx_ring_boot) == 128, "kx_ring_boot layout");
_Static_assert(sizeof(struct kx_ring_slot) == KX_RING_SLOT_SIZE, "kx_ring_slot layout");
_Static_assert(offsetof(struct kx_ring_slot, block) == 16, "kx_ring_slot.block");
_Static_assert(offsetof(struct kx_ring_page, front) == 64, "kx_ring_page.front");
_Static_assert(offsetof(struct kx_ring_page, back) == 128, "kx_ring_page.back");
_Static_assert(offsetof(struct kx_ring_page, slot) == KX_RING_HDR_SIZE, "kx_ring_page.slot");
_Static_assert(sizeof(struct kx_ring_page) == KX_RING_PAGE_SIZE, "kx_ring_page layout");
_Static_assert((KX_RING_SLOTS & (KX_RING_SLOTS - 1)) == 0, "KX_RING_SLOTS: a power of two");
_Static_assert(KX_RING_BLOCK_MAX % 8 == 0, "KX_RING_BLOCK_MAX: 8-byte blocks");

#endif /* KX_RING_ABI_H */
