#!/usr/bin/env bats
# kvm: CPU faults and privileged instructions at CPL3.  Each ends only that
# pVM (kxmon exits 126 with one report line naming the vector and the RIP
# of the faulting instruction, which the guest announced beforehand); the
# monitor itself never crashes.

bats_require_minimum_version 1.5.0

# setup_file probes /dev/kvm once; setup skips every test, with the
# reason, when it is not usable.
load "$KX_ROOT/tests/guest/helpers"

# guest_case IMAGE CASE REGEX: run IMAGE.kxe CASE and match the report; RIP and
# ADDR announced by the guest are substituted for @RIP and @ADDR.
guest_case() {
	local image=$1 name=$2 want=$3 rip addr
	pvm "$GUESTS/$image.kxe" "$name"
	rip=$(announced RIP)
	addr=$(announced ADDR)
	want=${want//@RIP/$(re_quote "$rip")}
	want=${want//@ADDR/$(re_quote "$addr")}
	expect_end 126 "$want"
}

PF='guest fault #PF page fault \(vector 14, error'

@test "faults: NULL read, write and call" {
	guest_case fault null_read "$PF 0x4: user read, page not present\) at RIP @RIP: address 0x0 \(NULL page\)"
	guest_case fault null_write "$PF 0x6: user write, page not present\) at RIP @RIP: address 0x0 \(NULL page\)"
	guest_case fault null_call "$PF 0x14: user instruction fetch, page not present\) at RIP 0x0: address 0x0 \(NULL page\)"
}

@test "faults: W^X — writing text or rodata, executing data, stack or heap" {
	guest_case fault text_write "$PF 0x7: user write, protection violation\) at RIP @RIP: address @ADDR \(text page: read, execute\)"
	guest_case fault rodata_write "$PF 0x7: user write, protection violation\) at RIP @RIP: address @ADDR \(read-only page\)"
	for c in exec_data exec_stack exec_heap; do
		guest_case fault "$c" "$PF 0x15: user instruction fetch, protection violation\) at RIP @RIP: address @ADDR \(data page: read, write, no execute\)"
	done
}

@test "faults: the monitor region, boot info, unmapped and out-of-memory addresses" {
	guest_case fault gdt_read "$PF 0x5: user read, protection violation\) at RIP @RIP: address @ADDR \(monitor region\)"
	guest_case fault pagetable_read "$PF 0x4: user read, page not present\) at RIP @RIP: address @ADDR \(monitor region\)"
	guest_case fault boot_write "$PF 0x7: user write, protection violation\) at RIP @RIP: address @ADDR \(read-only page\)"
	guest_case fault heap_gap "$PF 0x4: user read, page not present\) at RIP @RIP: address @ADDR \(unmapped page\)"
	guest_case fault beyond "$PF 0x4: user read, page not present\) at RIP @RIP: address @ADDR \(outside guest memory\)"
	guest_case fault noncanonical "guest fault #GP general protection \(vector 13, error 0x0\) at RIP @RIP"
}

@test "faults: divide by zero, ud2, stack overflow into the guard page" {
	guest_case fault div0 "guest fault #DE divide error \(vector 0, error 0x0\) at RIP @RIP"
	guest_case fault ud2 "guest fault #UD invalid opcode \(vector 6, error 0x0\) at RIP @RIP"
	guest_case fault stack_overflow "$PF 0x6: user write, page not present\) at RIP 0x[0-9a-f]+: address 0x[0-9a-f]+ \(stack guard page\)"
}

@test "privileged: hlt, cli, sti, control registers, MSRs, descriptor tables, invlpg fault with #GP" {
	for c in hlt cli sti cr3_write cr3_read cr0_write wrmsr rdmsr lgdt lidt invlpg; do
		guest_case priv "$c" "guest fault #GP general protection \(vector 13, error 0x0\) at RIP @RIP"
	done
}

@test "privileged: port I/O outside the hypercall port faults; in the TSS bitmap it is refused" {
	for c in in_port out_port in_dx; do
		guest_case priv "$c" "guest fault #GP general protection \(vector 13, error 0x0\) at RIP @RIP"
	done
	# The bitmap lets the four bytes of the 32-bit hypercall port through to
	# the monitor, which accepts exactly one form: a 32-bit out to 0x10.
	guest_case priv fault_port "forbidden port I/O \(out, 1 bytes, port 0x11\) at RIP @RIP"
	guest_case priv hcall_in "forbidden port I/O \(in, 4 bytes, port 0x10\) at RIP @RIP"
	guest_case priv hcall_byte "forbidden port I/O \(out, 1 bytes, port 0x10\) at RIP @RIP"
}

@test "privileged: int \$0x80 and syscall end the pVM with a fault" {
	# Which vector depends on the host (kvm_pvm: #UD for int, a jump to 0 for
	# syscall; VT-x: #GP and #UD); that it is a fault at CPL3 does not.
	guest_case priv int80 "guest fault #(GP|UD) [a-z ]+ \(vector (13|6), error 0x[0-9a-f]+\) at RIP @RIP"
	guest_case priv syscall "guest fault #(UD|PF) .*"
}
