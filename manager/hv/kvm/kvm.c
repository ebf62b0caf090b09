/*
 * kvm.c — the KVM backend (backend.h): one VM with one vCPU per monitor
 * process, on /dev/kvm.
 *
 * Guest memory is one private memfd mapping (a fork of the monitor copies
 * it on write: fork.c) in one memslot, split around the ranges mapped from
 * other fds (mem.c).  The guest enters directly at CPL3 in 64-bit long
 * mode on the structures paging.c writes below LAYOUT_MONITOR_END.  Every
 * way the guest stops is an exit for the core (run.c); only a failure of
 * the host itself (an ioctl the monitor needs) is an error return.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "manager/hv/kvm/paging.h"

#define KVM_PATH	  "/dev/kvm"
#define CPUID_MAX_ENTRIES 1024u

#define CR0_PE	       (1ull << 0)
#define CR0_MP	       (1ull << 1)
#define CR0_ET	       (1ull << 4)
#define CR0_NE	       (1ull << 5)
#define CR0_WP	       (1ull << 16)
#define CR0_PG	       (1ull << 31)
#define CR4_PAE	       (1ull << 5)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP       (1ull << 11)
#define CR4_FSGSBASE   (1ull << 16)
#define CR4_SMEP       (1ull << 20)
#define CR4_SMAP       (1ull << 21)
#define EFER_LME       (1ull << 8)
#define EFER_LMA       (1ull << 10)
#define EFER_NXE       (1ull << 11)
#define RFLAGS_FIXED   0x2ull
/* Flags a restored vCPU state may carry: arithmetic, TF, DF.  Never IOPL. */
#define RFLAGS_SETTABLE 0xdd5ull

int kvm_vcpu_ioctl(struct hv_vm *vm, unsigned long request, void *arg, const char *name,
		   struct kx_error *err)
{
	if (ioctl(vm->vcpu_fd, request, arg) != 0)
		return kx_err(err, -errno, "%s: %s", name, strerror(errno));
	return 0;
}

void *kvm_gpa(const struct hv_vm *vm, uint64_t gpa, uint64_t size)
{
	uint64_t end;

	if (size == 0 || __builtin_add_overflow(gpa, size, &end) || end > vm->size)
		return NULL;
	return vm->host + gpa;
}

static int kvm_open(int *out, struct kx_error *err)
{
	int fd, rc = 0;

	fd = open(KVM_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return kx_err(err, -errno, "cannot open %s: %s", KVM_PATH, strerror(errno));
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		rc = kx_err(err, -ENOTSUP, "%s: unsupported KVM API version", KVM_PATH);
	else if (ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0)
		rc = kx_err(err, -ENOTSUP, "%s: KVM_CAP_IMMEDIATE_EXIT missing", KVM_PATH);
	else if (ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0)
		rc = kx_err(err, -ENOTSUP, "%s: KVM_CAP_READONLY_MEM missing", KVM_PATH);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

static int kvm_probe(struct kx_error *err)
{
	int kvm_fd = -1, vm_fd = -1, rc;

	rc = kvm_open(&kvm_fd, err);
	if (rc != 0)
		goto out;
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		rc = kx_err(err, -errno, "KVM_CREATE_VM: %s", strerror(errno));
out:
	if (vm_fd >= 0)
		close(vm_fd);
	if (kvm_fd >= 0)
		close(kvm_fd);
	return rc;
}

static void kvm_destroy(struct hv_vm *vm)
{
	if (vm == NULL)
		return;
	if (vm->run != NULL)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->host != NULL)
		munmap(vm->host, vm->size);
	if (vm->mem_fd >= 0)
		close(vm->mem_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm);
}

static int setup_memory(struct hv_vm *vm, uint64_t size, struct kx_error *err)
{
	struct kvm_userspace_memory_region region = {0};
	void *host;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return kx_err(err, -errno, "KVM_CREATE_VM: %s", strerror(errno));
	vm->mem_fd = memfd_create("kx-pvm", MFD_CLOEXEC);
	if (vm->mem_fd < 0)
		return kx_err(err, -errno, "memfd_create: %s", strerror(errno));
	if (ftruncate(vm->mem_fd, (off_t)size) != 0)
		return kx_err(err, -errno, "guest memory (%llu bytes): %s",
			      (unsigned long long)size, strerror(errno));
	/* Private: a fork of the monitor copies guest memory on write. */
	host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, vm->mem_fd, 0);
	if (host == MAP_FAILED)
		return kx_err(err, -errno, "mmap guest memory: %s", strerror(errno));
	vm->host = host;
	vm->size = size;
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = size;
	region.userspace_addr = (uint64_t)(uintptr_t)host;
	vm->slots[0] = region;
	vm->nslots = 1;
	return kvm_slot_set(vm, &region, err);
}

static bool host_has_fsgsbase(void)
{
	unsigned a, b, c, d;

	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & 1u);
}

/*
 * What KVM supports, asked once per process: the ioctl costs ~0.3 ms on
 * these hosts, and a forked monitor (fork.c) builds its child's vCPU
 * from the copy its parent already holds.  Never freed (one per process).
 */
static struct kvm_cpuid2 *supported_cpuid(struct hv_vm *vm, struct kx_error *err)
{
	static struct kvm_cpuid2 *cached;
	struct kvm_cpuid2 *cpuid;

	if (cached != NULL)
		return cached;
	cpuid = calloc(1, sizeof(*cpuid) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));
	if (cpuid == NULL) {
		kx_err(err, -ENOMEM, "out of memory");
		return NULL;
	}
	cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) != 0) {
		kx_err(err, -errno, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(cpuid);
		return NULL;
	}
	cached = cpuid;
	return cached;
}

static int set_cpuid(struct hv_vm *vm, struct kx_error *err)
{
	const struct kvm_cpuid2 *cpuid = supported_cpuid(vm, err);
	int rc;

	if (cpuid == NULL)
		return -EIO;
	/* KVM_SET_CPUID2 takes a non-const pointer but only reads the table. */
	rc = VCPU_IOCTL(vm, KVM_SET_CPUID2, (void *)cpuid, err);
	if (rc != 0)
		return rc;
	/* Hardening the CPU offers: UMIP (no sgdt/sidt at CPL3), SMEP, SMAP. */
	vm->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function != 7 || e->index != 0)
			continue;
		if (e->ecx & (1u << 2))
			vm->cr4 |= CR4_UMIP;
		if (e->ebx & (1u << 7))
			vm->cr4 |= CR4_SMEP;
		if (e->ebx & (1u << 20))
			vm->cr4 |= CR4_SMAP;
		/* rd/wrfsbase at CPL3: the guest sets its own TLS base without an
		 * exit (threads switch it); boot info tells the guest. */
		if (e->ebx & (1u << 0))
			vm->cr4 |= CR4_FSGSBASE;
	}
	/* kvm_pvm runs CPL3 code natively but does not list FSGSBASE among
	 * its supported CPUID bits: offer it when the host CPU has it, and
	 * drop it again if KVM_SET_SREGS refuses the CR4 bit (set_cpu_mode). */
	if (host_has_fsgsbase())
		vm->cr4 |= CR4_FSGSBASE;
	return 0;
}

/* A flat DPL 3 segment: 64-bit code (type 11, L) or data (type 3, D/B). */
static struct kvm_segment user_segment(uint16_t selector, int code)
{
	return (struct kvm_segment){
		.limit = 0xffffffff,
		.selector = selector,
		.type = code ? 11 : 3,
		.present = 1,
		.dpl = 3,
		.db = !code,
		.s = 1,
		.l = code != 0,
		.g = 1,
	};
}

static int set_cpu_mode(struct hv_vm *vm, struct kx_error *err)
{
	const struct kvm_segment tss = {.base = LAYOUT_TSS,
					.limit = TSS_LIMIT,
					.selector = SEL_TSS,
					.type = 11,
					.present = 1};
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	int rc;

	rc = VCPU_IOCTL(vm, KVM_GET_SREGS, &sregs, err);
	if (rc != 0)
		return rc;
	sregs.cs = user_segment(SEL_USER_CODE, 1);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = user_segment(SEL_USER_DATA, 0);
	sregs.tr = tss;
	sregs.gdt.base = LAYOUT_GDT;
	sregs.gdt.limit = GDT_ENTRIES * 8 - 1;
	sregs.idt.base = LAYOUT_IDT;
	sregs.idt.limit = IDT_VECTORS * 16 - 1;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr3 = LAYOUT_PML4;
	sregs.cr4 = vm->cr4;
	sregs.efer = EFER_LME | EFER_LMA | EFER_NXE; /* no SCE: syscall is not enabled */
	if ((vm->cr4 & CR4_FSGSBASE) && ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) != 0)
		sregs.cr4 = vm->cr4 &= ~CR4_FSGSBASE; /* KVM refused it: the guest asks us */
	rc = VCPU_IOCTL(vm, KVM_SET_SREGS, &sregs, err);
	if (rc != 0)
		return rc;
	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	return VCPU_IOCTL(vm, KVM_SET_FPU, &fpu, err);
}

int kvm_setup_vcpu(struct hv_vm *vm, struct kx_error *err)
{
	int size, rc;
	void *run;

	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		return kx_err(err, -errno, "KVM_CREATE_VCPU: %s", strerror(errno));
	size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		return kx_err(err, -EIO, "KVM_GET_VCPU_MMAP_SIZE: bad size");
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (run == MAP_FAILED)
		return kx_err(err, -errno, "mmap kvm_run: %s", strerror(errno));
	vm->run = run;
	vm->run_size = (size_t)size;
	rc = set_cpuid(vm, err);
	return rc != 0 ? rc : set_cpu_mode(vm, err);
}

static int kvm_create(uint64_t mem_size, struct hv_guest_mem *mem, uint64_t *features,
		      struct hv_vm **out, struct kx_error *err)
{
	struct hv_vm *vm = NULL;
	int rc;

	*out = NULL;
	vm = calloc(1, sizeof(*vm));
	if (vm == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = vm->mem_fd = -1;
	rc = kvm_open(&vm->kvm_fd, err);
	if (rc == 0)
		rc = setup_memory(vm, mem_size, err);
	if (rc == 0 && paging_build(vm) != 0)
		rc = kx_err(err, -EINVAL,
			    "memory size must be a multiple of 2 MiB in 8 MiB..1 GiB");
	if (rc == 0)
		rc = kvm_setup_vcpu(vm, err);
	if (rc != 0) {
		kvm_destroy(vm);
		return rc;
	}
	mem->host = vm->host;
	mem->size = vm->size;
	*features = (vm->cr4 & CR4_FSGSBASE) ? KX_BOOT_FSGSBASE : 0;
	*out = vm;
	return 0;
}

static int kvm_boot(struct hv_vm *vm, uint64_t entry, uint64_t rsp, uint64_t arg,
		    struct kx_error *err)
{
	struct kvm_regs regs;

	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rsp = rsp;
	regs.rdi = arg;
	regs.rflags = RFLAGS_FIXED;
	return VCPU_IOCTL(vm, KVM_SET_REGS, &regs, err);
}

static void kvm_pause(struct hv_vm *vm)
{
	vm->pause_requested = 1;
	vm->run->immediate_exit = 1;
}

static void kvm_kick(struct hv_vm *vm)
{
	vm->kick_requested = 1;
	vm->run->immediate_exit = 1;
}

static void kvm_resume(struct hv_vm *vm)
{
	vm->run->immediate_exit = 0;
	vm->pause_requested = 0;
}

/* ---- vCPU state ---------------------------------------------------------- */

_Static_assert(sizeof(((struct kvm_fpu *)0)->fpr) == 128 &&
		       sizeof(((struct kvm_fpu *)0)->xmm) == 256,
	       "struct kvm_fpu: x87 and SSE registers as FXSAVE keeps them");

/* struct kvm_fpu <-> the FXSAVE image of struct hv_vcpu. */
static void fpu_to_fxsave(const struct kvm_fpu *f, uint8_t *x)
{
	memset(x, 0, 512);
	memcpy(x + 0, &f->fcw, 2);
	memcpy(x + 2, &f->fsw, 2);
	x[4] = f->ftwx;
	memcpy(x + 6, &f->last_opcode, 2);
	memcpy(x + 8, &f->last_ip, 8);
	memcpy(x + 16, &f->last_dp, 8);
	memcpy(x + 24, &f->mxcsr, 4);
	memcpy(x + 32, f->fpr, sizeof(f->fpr));
	memcpy(x + 160, f->xmm, sizeof(f->xmm));
}

static void fxsave_to_fpu(const uint8_t *x, struct kvm_fpu *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(&f->fcw, x + 0, 2);
	memcpy(&f->fsw, x + 2, 2);
	f->ftwx = x[4];
	memcpy(&f->last_opcode, x + 6, 2);
	memcpy(&f->last_ip, x + 8, 8);
	memcpy(&f->last_dp, x + 16, 8);
	memcpy(&f->mxcsr, x + 24, 4);
	memcpy(f->fpr, x + 32, sizeof(f->fpr));
	memcpy(f->xmm, x + 160, sizeof(f->xmm));
}

static int kvm_get_vcpu(struct hv_vm *vm, struct hv_vcpu *st, unsigned parts,
			struct kx_error *err)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_fpu f;
	int rc = 0;

	if (parts & HV_VCPU_REGS) {
		rc = VCPU_IOCTL(vm, KVM_GET_REGS, &r, err);
		if (rc != 0)
			return rc;
		memcpy(st->gpr, (const uint64_t[16]){r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp,
						      r.rsi, r.rdi, r.r8, r.r9, r.r10, r.r11,
						      r.r12, r.r13, r.r14, r.r15},
		       sizeof(st->gpr));
		st->rip = r.rip;
		st->rflags = r.rflags;
	}
	if (parts & HV_VCPU_SEGS) {
		rc = VCPU_IOCTL(vm, KVM_GET_SREGS, &s, err);
		if (rc != 0)
			return rc;
		st->fs_base = s.fs.base;
		st->gs_base = s.gs.base;
		st->user = (s.cs.selector & 3) == 3 && s.cs.dpl == 3;
	}
	if (parts & HV_VCPU_FPU) {
		rc = VCPU_IOCTL(vm, KVM_GET_FPU, &f, err);
		if (rc != 0)
			return rc;
		fpu_to_fxsave(&f, st->fpu);
	}
	return 0;
}

static int kvm_set_vcpu(struct hv_vm *vm, const struct hv_vcpu *st, unsigned parts,
			struct kx_error *err)
{
	int rc = 0;

	if (parts & HV_VCPU_SEGS) {
		struct kvm_sregs s;

		rc = VCPU_IOCTL(vm, KVM_GET_SREGS, &s, err);
		if (rc != 0)
			return rc;
		s.fs.base = st->fs_base;
		s.gs.base = st->gs_base;
		rc = VCPU_IOCTL(vm, KVM_SET_SREGS, &s, err);
		if (rc != 0)
			return rc;
	}
	if (parts & HV_VCPU_FPU) {
		struct kvm_fpu f;

		fxsave_to_fpu(st->fpu, &f);
		rc = VCPU_IOCTL(vm, KVM_SET_FPU, &f, err);
		if (rc != 0)
			return rc;
	}
	if (parts & HV_VCPU_REGS) {
		const uint64_t *g = st->gpr;
		struct kvm_regs r = {
			.rax = g[0], .rcx = g[1], .rdx = g[2], .rbx = g[3],
			.rsp = g[4], .rbp = g[5], .rsi = g[6], .rdi = g[7],
			.r8 = g[8], .r9 = g[9], .r10 = g[10], .r11 = g[11],
			.r12 = g[12], .r13 = g[13], .r14 = g[14], .r15 = g[15],
			.rip = st->rip,
			/* The guest never gets IOPL, IF or any system flag from a restore. */
			.rflags = (st->rflags & RFLAGS_SETTABLE) | RFLAGS_FIXED,
		};

		rc = VCPU_IOCTL(vm, KVM_SET_REGS, &r, err);
	}
	return rc;
}

/* The guest's IA32_TSC read through KVM, between two host readings: their
 * midpoint is the same instant to within the ioctl's time. */
static int kvm_tsc_offset(struct hv_vm *vm, int64_t *offset, struct kx_error *err)
{
	/* struct kvm_msrs and its one entry (the struct ends in a flexible array). */
	uint64_t raw[(sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)) / 8] = {0};
	struct kvm_msrs *m = (struct kvm_msrs *)(void *)raw;
	uint64_t before, after;
	int rc;

	m->nmsrs = 1;
	m->entries[0].index = 0x10; /* IA32_TSC */
	before = __builtin_ia32_rdtsc();
	rc = ioctl(vm->vcpu_fd, KVM_GET_MSRS, m);
	after = __builtin_ia32_rdtsc();
	if (rc != 1)
		return kx_err(err, rc < 0 ? -errno : -ENOSYS, "KVM_GET_MSRS(IA32_TSC): %s",
			      rc < 0 ? strerror(errno) : "not read");
	*offset = (int64_t)(m->entries[0].data - (before + (after - before) / 2));
	return 0;
}
/* Every ioctl after create (docs/jail.md): the run loop and vCPU state,
 * memory slots (map_fd, unmap, flush), and fork_child's new VM and vCPU.
 * KVM_GET_SUPPORTED_CPUID is asked once, at create, and cached. */
static const unsigned long kvm_ioctls[] = {
	KVM_RUN,	 KVM_GET_REGS,		  KVM_SET_REGS,		KVM_GET_SREGS,
	KVM_SET_SREGS, KVM_GET_FPU,		  KVM_SET_FPU,		KVM_SET_USER_MEMORY_REGION,
	KVM_CREATE_VM, KVM_CREATE_VCPU,	  KVM_GET_VCPU_MMAP_SIZE, KVM_SET_CPUID2,
	KVM_GET_MSRS, /* tsc_offset: the clock page (posix.c) */
};

const struct hv_backend hv_kvm_backend = {
	.name = "kvm",
	.probe = kvm_probe,
	.create = kvm_create,
	.boot = kvm_boot,
	.protect = kvm_protect,
	.map_fd = kvm_map_fd,
	.unmap = kvm_unmap,
	.flush = kvm_flush,
	.run = kvm_run,
	.hcall_rip = kvm_hcall_rip,
	.kick = kvm_kick,
	.pause = kvm_pause,
	.resume = kvm_resume,
	.get_vcpu = kvm_get_vcpu,
	.set_vcpu = kvm_set_vcpu,
	.fork_prepare = kvm_fork_prepare,
	.fork_child = kvm_fork_child,
	.destroy = kvm_destroy,
	.tsc_offset = kvm_tsc_offset,
	.ioctls = kvm_ioctls,
	.nioctls = sizeof(kvm_ioctls) / sizeof(kvm_ioctls[0]),
};
