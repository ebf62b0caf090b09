/*
 * kvm.c — the KVM backend: one pVM per monitor process, one vCPU.
 *
 * Guest memory is one private memfd mapping in one memslot (a fork of the
 * monitor copies it on write: kvm_fork.c),
 * split around the read-only slots of shared library text (kvm_link.c).
 * The guest enters directly at CPL3 in 64-bit
 * long mode on structures layout.c writes into the monitor region.  Every
 * way a guest can stop — a hypercall, a CPU exception reported by the fault
 * stubs, stray port I/O, a triple fault, an MMIO access, a KVM error — ends
 * in struct hv_end; only a failure of the host itself (an ioctl the monitor
 * needs) is an error return.  The state (kvm.h) is private to kvm*.c.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "manager/hv/kvm.h"

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
#define CR4_FSGSBASE   (1ull << 16)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP       (1ull << 11)
#define CR4_SMEP       (1ull << 20)
#define CR4_SMAP       (1ull << 21)
#define EFER_LME       (1ull << 8)
#define EFER_LMA       (1ull << 10)
#define EFER_NXE       (1ull << 11)
#define RFLAGS_FIXED   0x2ull
/* Flags a restored vCPU state may carry: arithmetic, TF, DF.  Never IOPL. */
#define RFLAGS_SETTABLE 0xdd5ull


int kvm_seterr(struct hv_error *err, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

/* A vCPU ioctl that must succeed; the error names the request. */
int kvm_vcpu_ioctl(struct hv_vm *vm, unsigned long request, void *arg, const char *name,
		   struct hv_error *err)
{
	if (ioctl(vm->vcpu_fd, request, arg) != 0)
		return kvm_seterr(err, -errno, "%s: %s", name, strerror(errno));
	return 0;
}


static int kvm_open(int *out, struct hv_error *err)
{
	int fd, rc = 0;

	fd = open(KVM_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return kvm_seterr(err, -errno, "cannot open %s: %s", KVM_PATH, strerror(errno));
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		rc = kvm_seterr(err, -ENOTSUP, "%s: unsupported KVM API version", KVM_PATH);
	else if (ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0)
		rc = kvm_seterr(err, -ENOTSUP, "%s: KVM_CAP_IMMEDIATE_EXIT missing", KVM_PATH);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

static int kvm_probe(struct hv_error *err)
{
	int kvm_fd = -1, vm_fd = -1, rc;

	rc = kvm_open(&kvm_fd, err);
	if (rc != 0)
		goto out;
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		rc = kvm_seterr(err, -errno, "KVM_CREATE_VM: %s", strerror(errno));
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
	linker_destroy(vm->linker);
	kvm_ipc_destroy(vm);
	if (vm->run != NULL)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->mem.host != NULL)
		munmap(vm->mem.host, vm->mem.size);
	if (vm->mem_fd >= 0)
		close(vm->mem_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm->mem.page_prot);
	free(vm);
}

static int check_config(const struct hv_config *cfg, struct hv_error *err)
{
	uint64_t stack = cfg->stack_size ? cfg->stack_size : HV_STACK_DEFAULT;

	if (cfg->mem_size < HV_MEM_MIN || cfg->mem_size > HV_MEM_MAX ||
	    cfg->mem_size % (2ull << 20) != 0)
		return kvm_seterr(err, -EINVAL,
			      "memory size must be a multiple of 2 MiB in 8 MiB..1 GiB");
	if (stack % KX_PAGE_SIZE != 0 || stack < 4 * KX_PAGE_SIZE || stack > cfg->mem_size / 4)
		return kvm_seterr(err, -EINVAL, "stack size must be whole pages, 16 KiB..memory/4");
	if (cfg->argc < 1 || cfg->argv == NULL)
		return kvm_seterr(err, -EINVAL, "argv[0] (the image name) is required");
	return 0;
}

static int setup_memory(struct hv_vm *vm, uint64_t size, struct hv_error *err)
{
	struct kvm_userspace_memory_region region = {0};
	void *host;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return kvm_seterr(err, -errno, "KVM_CREATE_VM: %s", strerror(errno));
	vm->mem_fd = memfd_create("kx-pvm", MFD_CLOEXEC);
	if (vm->mem_fd < 0)
		return kvm_seterr(err, -errno, "memfd_create: %s", strerror(errno));
	if (ftruncate(vm->mem_fd, (off_t)size) != 0)
		return kvm_seterr(err, -errno, "guest memory (%llu bytes): %s",
			      (unsigned long long)size, strerror(errno));
	/* Private: a fork of the monitor copies guest memory on write. */
	host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, vm->mem_fd, 0);
	if (host == MAP_FAILED)
		return kvm_seterr(err, -errno, "mmap guest memory: %s", strerror(errno));
	vm->mem.host = host;
	vm->mem.size = size;
	vm->mem.page_prot = calloc(size / KX_PAGE_SIZE, 1);
	if (vm->mem.page_prot == NULL)
		return kvm_seterr(err, -ENOMEM, "out of memory");
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = size;
	region.userspace_addr = (uint64_t)(uintptr_t)host;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) != 0)
		return kvm_seterr(err, -errno, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	vm->slots[0] = region;
	vm->nslots = 1;
	return 0;
}

/* argv pointers then strings, after the boot-info page; read-only to the guest. */
static int write_args(struct hv_vm *vm, const struct hv_config *cfg, struct hv_error *err)
{
	uint64_t ptrs = LAYOUT_BOOT + KX_PAGE_SIZE, strings, end = LAYOUT_BOOT + LAYOUT_BOOT_SIZE;
	uint64_t *slot;

	if ((uint64_t)cfg->argc >= HV_ARGS_MAX / 8)
		return kvm_seterr(err, -E2BIG, "too many arguments");
	strings = ptrs + ((uint64_t)cfg->argc + 1) * 8;
	slot = hv_guest_ptr(&vm->mem, ptrs, ((uint64_t)cfg->argc + 1) * 8, HV_ACCESS_MONITOR);
	for (int i = 0; i < cfg->argc; i++) {
		size_t n = strlen(cfg->argv[i]) + 1;
		char *dst;

		if (n > end - strings)
			return kvm_seterr(err, -E2BIG, "arguments exceed %u bytes", HV_ARGS_MAX);
		dst = hv_guest_ptr(&vm->mem, strings, n, HV_ACCESS_MONITOR);
		memcpy(dst, cfg->argv[i], n);
		slot[i] = strings;
		strings += n;
	}
	slot[cfg->argc] = 0;
	vm->argc = (uint32_t)cfg->argc;
	vm->argv_gpa = ptrs;
	return layout_map_user(&vm->mem, LAYOUT_BOOT, LAYOUT_BOOT_SIZE, HV_PROT_READ);
}

/*
 * What KVM supports, asked once per process: the ioctl costs ~0.3 ms on
 * these hosts, and a forked monitor (kvm_fork.c) builds its child's vCPU
 * from the copy its parent already holds.  Never freed (one per process).
 */
static struct kvm_cpuid2 *supported_cpuid(struct hv_vm *vm, struct hv_error *err)
{
	static struct kvm_cpuid2 *cached;
	struct kvm_cpuid2 *cpuid;

	if (cached != NULL)
		return cached;
	cpuid = calloc(1, sizeof(*cpuid) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));
	if (cpuid == NULL) {
		kvm_seterr(err, -ENOMEM, "out of memory");
		return NULL;
	}
	cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) != 0) {
		kvm_seterr(err, -errno, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(cpuid);
		return NULL;
	}
	cached = cpuid;
	return cached;
}

static bool host_has_fsgsbase(void)
{
	unsigned a, b, c, d;

	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & 1u);
}

static int set_cpuid(struct hv_vm *vm, struct hv_error *err)
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

static int set_cpu_mode(struct hv_vm *vm, struct hv_error *err)
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

int kvm_setup_vcpu(struct hv_vm *vm, struct hv_error *err)
{
	int size, rc;
	void *run;

	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		return kvm_seterr(err, -errno, "KVM_CREATE_VCPU: %s", strerror(errno));
	size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		return kvm_seterr(err, -EIO, "KVM_GET_VCPU_MMAP_SIZE: bad size");
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (run == MAP_FAILED)
		return kvm_seterr(err, -errno, "mmap kvm_run: %s", strerror(errno));
	vm->run = run;
	vm->run_size = (size_t)size;
	rc = set_cpuid(vm, err);
	return rc != 0 ? rc : set_cpu_mode(vm, err);
}

static int kvm_create(const struct hv_config *cfg, struct hv_vm **out, struct hv_error *err)
{
	struct hv_vm *vm = NULL;
	int rc;

	*out = NULL;
	rc = check_config(cfg, err);
	if (rc != 0)
		goto out;
	vm = calloc(1, sizeof(*vm));
	if (vm == NULL) {
		rc = kvm_seterr(err, -ENOMEM, "out of memory");
		goto out;
	}
	vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = vm->mem_fd = -1;
	vm->console_fd = cfg->console_fd;
	vm->link_src = cfg->link;
	vm->proc_src = cfg->proc;
	vm->ipc_src = cfg->ipc;
	vm->sig_src = cfg->sig;
	vm->recycle_src = cfg->recycle;
	vm->stack_size = cfg->stack_size ? cfg->stack_size : HV_STACK_DEFAULT;
	rc = kvm_open(&vm->kvm_fd, err);
	if (rc == 0)
		rc = setup_memory(vm, cfg->mem_size, err);
	if (rc == 0 && layout_build(&vm->mem) != 0)
		rc = kvm_seterr(err, -EINVAL, "cannot lay out %llu bytes of guest memory",
			    (unsigned long long)cfg->mem_size);
	if (rc == 0)
		rc = write_args(vm, cfg, err);
	if (rc == 0)
		rc = kvm_setup_vcpu(vm, err);
	if (rc != 0)
		goto out;
	*out = vm;
	vm = NULL;
out:
	kvm_destroy(vm);
	return rc;
}

static int kvm_load_image(struct hv_vm *vm, const uint8_t *buf, size_t len, struct hv_error *err)
{
	struct image_info info;
	struct kx_boot_info *boot;
	struct kvm_regs regs;
	uint64_t guard, heap_start, heap_end;
	int rc;

	if (vm->load_tried)
		return kvm_seterr(err, -EBUSY, "load_image was already called for this pVM");
	vm->load_tried = true;
	vm->stack_base = vm->mem.size - vm->stack_size;
	guard = vm->stack_base - LAYOUT_STACK_GUARD;
	if (vm->link_src != NULL)
		rc = kvm_load_dynamic(vm, guard, buf, len, &info, err);
	else
		rc = image_load(&vm->mem, guard - LAYOUT_HEAP_GAP - LAYOUT_HEAP_MIN, buf, len,
				&info, err);
	if (rc != 0)
		return rc;
	heap_start = info.end + LAYOUT_HEAP_GAP;
	heap_end = guard;
	rc = kvm_ipc_reserve(vm, heap_start, &heap_end, err); /* IpC window above the heap */
	if (rc != 0)
		return rc;
	rc = layout_map_user(&vm->mem, heap_start, heap_end - heap_start,
			     HV_PROT_READ | HV_PROT_WRITE);
	if (rc == 0)
		rc = layout_map_user(&vm->mem, vm->stack_base, vm->stack_size,
				     HV_PROT_READ | HV_PROT_WRITE);
	if (rc != 0)
		return kvm_seterr(err, rc, "cannot map heap and stack");

	boot = hv_guest_ptr(&vm->mem, LAYOUT_BOOT, sizeof(*boot), HV_ACCESS_MONITOR);
	*boot = (struct kx_boot_info){
		.magic = KX_BOOT_MAGIC,
		.abi_version = KX_HCALL_ABI_VERSION,
		.argc = vm->argc,
		.argv = vm->argv_gpa,
		.heap_start = heap_start,
		.heap_size = heap_end - heap_start,
		.stack_top = vm->mem.size,
		.stack_size = vm->stack_size,
		.image_start = info.start,
		.image_end = info.end,
		.mem_size = vm->mem.size,
		.features = (vm->cr4 & CR4_FSGSBASE) ? KX_BOOT_FSGSBASE : 0,
	};
	memset(&regs, 0, sizeof(regs));
	regs.rip = info.entry;
	regs.rsp = vm->mem.size;
	regs.rdi = LAYOUT_BOOT;
	regs.rflags = RFLAGS_FIXED;
	rc = VCPU_IOCTL(vm, KVM_SET_REGS, &regs, err);
	if (rc != 0)
		return rc;
	vm->loaded = true;
	return 0;
}

static int kvm_map_pages(struct hv_vm *vm, uint64_t gpa, uint64_t size, unsigned prot,
			 struct hv_error *err)
{
	int rc = layout_map_user(&vm->mem, gpa, size, prot);

	if (rc != 0)
		return kvm_seterr(err, rc, "cannot map [0x%llx, +0x%llx) with rights %u",
				  (unsigned long long)gpa, (unsigned long long)size, prot);
	/* The guest may hold the old rights in its TLB (kvm_tlbcheck). */
	rc = kvm_flush_tlb(vm, err);
	return rc < 0 ? rc : 0;
}

static int kvm_notify(struct hv_vm *vm, uint32_t event, struct hv_error *err)
{
	(void)vm, (void)event;
	return kvm_seterr(err, -ENOSYS, "notify: not implemented yet");
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

/* A safe point outside a hypercall: the vCPU left KVM_RUN for a kick. */
void kvm_kicked(struct hv_vm *vm)
{
	vm->kick_requested = 0;
	if (!vm->pause_requested)
		vm->run->immediate_exit = 0;
	if (vm->link_src != NULL && vm->link_src->safe_point != NULL)
		vm->link_src->safe_point(vm->link_src->ctx, vm);
}

static void kvm_resume(struct hv_vm *vm)
{
	vm->run->immediate_exit = 0;
	vm->pause_requested = 0;
}

/* ---- vCPU state ---------------------------------------------------------- */

static int kvm_get_vcpu(struct hv_vm *vm, struct hv_vcpu_state *st, struct hv_error *err)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	int rc = VCPU_IOCTL(vm, KVM_GET_REGS, &r, err);

	if (rc != 0)
		return rc;
	rc = VCPU_IOCTL(vm, KVM_GET_SREGS, &s, err);
	if (rc != 0)
		return rc;
	*st = (struct hv_vcpu_state){
		.gpr = {r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi, r.r8, r.r9, r.r10,
			r.r11, r.r12, r.r13, r.r14, r.r15},
		.rip = r.rip,
		.rflags = r.rflags,
		.fs_base = s.fs.base,
		.gs_base = s.gs.base,
	};
	return 0;
}

static int kvm_set_vcpu(struct hv_vm *vm, const struct hv_vcpu_state *st, struct hv_error *err)
{
	const uint64_t *g = st->gpr;
	struct kvm_regs r = {
		.rax = g[0],
		.rcx = g[1],
		.rdx = g[2],
		.rbx = g[3],
		.rsp = g[4],
		.rbp = g[5],
		.rsi = g[6],
		.rdi = g[7],
		.r8 = g[8],
		.r9 = g[9],
		.r10 = g[10],
		.r11 = g[11],
		.r12 = g[12],
		.r13 = g[13],
		.r14 = g[14],
		.r15 = g[15],
		.rip = st->rip,
		/* The guest never gets IOPL, IF or any system flag from a restore. */
		.rflags = (st->rflags & RFLAGS_SETTABLE) | RFLAGS_FIXED,
	};
	struct kvm_sregs s;
	int rc;

	rc = VCPU_IOCTL(vm, KVM_GET_SREGS, &s, err);
	if (rc != 0)
		return rc;
	s.fs.base = st->fs_base;
	s.gs.base = st->gs_base;
	rc = VCPU_IOCTL(vm, KVM_SET_SREGS, &s, err);
	if (rc != 0)
		return rc;
	return VCPU_IOCTL(vm, KVM_SET_REGS, &r, err);
}

const struct hv_ops hv_kvm_ops = {
	.name = "kvm",
	.probe = kvm_probe,
	.create = kvm_create,
	.load_image = kvm_load_image,
	.map_pages = kvm_map_pages,
	.share_pages = kvm_share_pages,
	.notify = kvm_notify,
	.run = kvm_run_vm,
	.pause = kvm_pause,
	.kick = kvm_kick,
	.resume = kvm_resume,
	.get_vcpu = kvm_get_vcpu,
	.set_vcpu = kvm_set_vcpu,
	.link = kvm_link,
	.link_stats = kvm_link_stats,
	.update = kvm_update,
	.signal_enter = kvm_signal_enter,
	.destroy = kvm_destroy,
};
