#!/usr/bin/env bats
# kvm: hypercalls with wild pointers and malformed blocks.  Each ends only
# that pVM: kxmon exits 126 with "pVM <pid>: bad hypercall <n> from RIP
# 0x...: <reason>", where RIP is the guest's `out` instruction.

bats_require_minimum_version 1.5.0

# setup_file probes /dev/kvm once; setup skips every test, with the
# reason, when it is not usable.
load "$KX_ROOT/tests/guest/helpers"

# bad_hcall NR REASON ARGS...: wild.kxe ARGS ends with that report, and the
# reported RIP really is a 32-bit out to the hypercall port.
bad_hcall() {
	local nr=$1 reason=$2 rip
	shift 2
	pvm "$GUESTS/wild.kxe" "$@"
	expect_end 126 "bad hypercall $nr from RIP 0x[0-9a-f]+: $reason"
	rip=$(sed -n 's/.* from RIP \(0x[0-9a-f]*\):.*/\1/p' <<<"$stderr")
	objdump -d --start-address="$rip" --stop-address=$((rip + 2)) "$GUESTS/wild.kxe" |
		grep -q 'out *%eax,\$0x10' || explain "RIP $rip is not the hypercall instruction"
}

BLOCK='argument block outside writable guest memory'

@test "hcall: wild argument blocks (NULL, unmapped, page tables, GDT, far away, read-only, text)" {
	for kind in null unmapped pagetable gdt high readonly text; do
		bad_hcall 0 "$BLOCK" block "$kind"
	done
	bad_hcall 0 "argument block not 8-byte aligned" block misaligned
}

@test "hcall: every call's block crossing the end of guest memory" {
	bad_hcall 1 "$BLOCK" block end console
	bad_hcall 2 "$BLOCK" block end exit
	bad_hcall 3 "$BLOCK" block end clock
	bad_hcall 4 "$BLOCK" block end panic
}

@test "hcall: console write with wild buffers and lengths" {
	for kind in null unmapped pagetable gdt end wrap; do
		bad_hcall 1 "console buffer outside readable guest memory" console "$kind"
	done
	bad_hcall 1 "console length exceeds KX_HC_CONSOLE_MAX" console toolong
}

@test "hcall: panic with wild messages and lengths" {
	for kind in null unmapped pagetable gdt end wrap; do
		bad_hcall 4 "panic message outside readable guest memory" panic "$kind"
	done
	bad_hcall 4 "panic message length exceeds KX_HC_PANIC_MAX" panic toolong
}

@test "hcall: wrong ABI version and unknown call numbers" {
	bad_hcall 2 "unsupported hypercall ABI version" version
	bad_hcall 999 "unknown hypercall number" unknown
}
