#!/usr/bin/env bats
# kvm_link: the monitor's linking machinery on real pVMs — dynamic images,
# lazy binding and bind now, W^X of GOT and library text, shared text,
# kx_dlopen, pushed links, denials and malformed channel messages.
#
# The other end of the channel here is tests/guest/chanpeer.py, a TEST
# DOUBLE for kxd with no policy: it allows what its --libdir holds unless
# told to deny.  What is tested is kxmon, not the policy (that is kxctl run).

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/guest/helpers"

PEER=$KX_ROOT/tests/guest/chanpeer.py

# peer [peer options] -- [kxmon options] IMAGE [-- ARGS]: through the test
# double; stdout in $output, stderr (kxmon's and the peer's log) in $stderr.
peer() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	local image=$1
	shift
	run --separate-stderr python3 "$PEER" --libdir "$GUESTS" "${opts[@]}" -- \
		"$KXMON" "$GUESTS/$image" "$@"
}

# stat_of NAME: the number before NAME in kxmon -v's "linking:" line.
stat_of() {
	sed -n "s/.*linking:.* \([0-9][0-9]*\) $1.*/\1/p" <<<"$stderr"
}

@test "link: kvstore boots with libkvmath (DT_NEEDED) and kx_dlopen's libacme-log" {
	peer -- kvstore.kxe -v
	[ "$status" -eq 0 ] || explain "want status 0"
	[ "$output" = "kvstore: libkvmath 1.16.2
kvstore: apples=42 pears=42 plums=84 (8 libkvmath calls)
[acme-log 3.3.0 #1] kvstore: plums = 84" ] || explain "unexpected console output"
	[[ "$stderr" == *"LINK_REQ seq=1 libkvmath.so at_boot=1"* ]] || explain "boot request"
	[[ "$stderr" == *"LINK_REQ seq=3 libacme-log.so at_boot=0"* ]] || explain "run-time request" # seq 2: FS_MOUNT_REQ (posix-fs), asked while the image loads
	[[ "$stderr" == *"EXIT status=0 by_guest=1"* ]] || explain "want EXIT sent to the peer"
	[ "$(stat_of modules)" = 3 ] || explain "want 3 modules"
}

@test "link: lazy binding resolves each function on its first call only" {
	peer -- linkt.kxe -v -- calls 1
	[ "$status" -eq 0 ] || explain "calls 1"
	[ "$(stat_of 'lazy resolves')" = 1 ] || explain "one call, one resolve"
	peer -- linkt.kxe -v -- calls 500
	[ "$status" -eq 0 ] || explain "calls 500"
	[[ "$output" == "sum 500, libkvmath 1.16.2, 500 calls" ]] || explain "500 calls"
	[ "$(stat_of 'lazy resolves')" = 1 ] || explain "500 calls, still one resolve"
	[ "$(stat_of 'slots bound at link time')" = 0 ] || explain "nothing bound now"
}

@test "link: bind now (from LINK_RESP) resolves every slot of the library at link time" {
	peer --now libkvmath.so -- linkt.kxe -v -- calls 3
	[ "$status" -eq 0 ] || explain "want status 0"
	# libkvmath's PLT: kvm_add (from kvm_sum) and printf
	[ "$(stat_of 'slots bound at link time')" = 2 ] || explain "libkvmath bound now"
	# the image itself stays lazy: one resolve for its kvm_add
	[ "$(stat_of 'lazy resolves')" = 1 ] || explain "the image is lazy"
}

@test "link: the GOT is read-only to the guest (only the monitor writes it)" {
	peer -- linkt.kxe -- gotwrite
	[ "$status" -eq 126 ] || explain "want 126"
	[[ "$stderr" =~ guest\ fault\ #PF.*user\ write,\ protection\ violation.*\(read-only\ page\) ]] ||
		explain "want a write fault on a read-only page"
	[[ "$output" != *survived* ]] || explain "the guest wrote its GOT"
}

@test "link: library text is read-only and executable (a write faults)" {
	peer -- linkt.kxe -- textwrite
	[ "$status" -eq 126 ] || explain "want 126"
	[[ "$stderr" =~ guest\ fault\ #PF.*protection\ violation.*\(text\ page:\ read,\ execute\) ]] ||
		explain "want a write fault on a text page"
	[[ "$output" != *survived* ]] || explain "the guest wrote library text"
}

@test "link: two pVMs map the same memfd pages for the library text" {
	peer --runs 2 -- linkt.kxe -v
	[ "$status" -eq 0 ] || explain "want status 0"
	inos=$(grep -o 'libkvmath.so: ALLOW bind=lazy memfd-ino=[0-9]*' <<<"$stderr" | sort -u)
	[ "$(grep -c 'memfd-ino' <<<"$stderr")" -eq 2 ] || explain "want two grants"
	[ "$(wc -l <<<"$inos")" -eq 1 ] || explain "want one memfd for both pVMs"
	[ "$(grep -c 'linking: .* 4096 bytes of shared text' <<<"$stderr")" -eq 2 ] ||
		explain "want the text shared in both pVMs"
}

@test "link: kx_dlopen denied returns -EACCES to the guest and changes nothing" {
	peer --deny "libacme-log.so=rule libraries[2] (kvstore.yaml:27)" -- kvstore.kxe -v
	[ "$status" -eq 3 ] || explain "kvstore exits 3 when the link is refused"
	[[ "$output" == *"kvstore: libacme-log.so not linked (-13)"* ]] || explain "want -13"
	[ "$(stat_of modules)" = 2 ] || explain "no module added"
	[ "$(stat_of 'TLB flushes')" = 0 ] || explain "no page table changed"
}

@test "link: kx_dlopen allowed maps the library after the guest ran (TLB flushed)" {
	peer -- linkt.kxe -v -- dlopen libacme-log.so
	[ "$status" -eq 0 ] || explain "want status 0"
	[[ "$output" == *"dlopen libacme-log.so: 0"* ]] || explain "dlopen"
	[[ "$output" == *"dlsym acme_log: found"* ]] || explain "dlsym"
	[[ "$output" == *"dlsym nosuch: missing"* ]] || explain "dlsym of a missing symbol"
	[[ "$output" == *"[acme-log 3.3.0 #1] linkt: answer = 42"* ]] ||
		explain "new code ran from freshly mapped pages"
	[ "$(stat_of 'TLB flushes')" = 1 ] || explain "one flush after the guest ran"
}

@test "link: kx_dlsym with a handle kx_dlopen never returned finds nothing" {
	peer -- linkt.kxe -- dlsym-bad
	[ "$status" -eq 0 ] || explain "want status 0"
	[ "$output" = "dlsym: missing" ] || explain "want NULL"
}

@test "link: a denied DT_NEEDED library means the pVM never runs" {
	peer --deny "libkvmath.so=libkvmath 2.0.0: version outside >= 1.16 && < 2 (kvstore.yaml:14)" \
		-- kvstore.kxe
	[ "$status" -eq 125 ] || explain "want 125"
	[ -z "$output" ] || explain "the pVM ran"
	[[ "$stderr" == *"kxmon: kvstore.kxe: boot denied: libkvmath.so: libkvmath 2.0.0: version outside >= 1.16 && < 2 (kvstore.yaml:14)"* ]] ||
		explain "want the library, the rule and its line"
	[[ "$stderr" == *"EXIT status=125 by_guest=0 report=kvstore.kxe: boot denied: libkvmath.so:"* ]] ||
		explain "want EXIT with the report"
}

@test "link: a missing DT_NEEDED library (the peer denies it) stops the boot" {
	peer -- linkt.kxe --memory 16M
	[ "$status" -eq 0 ] || explain "sanity: linkt boots"
	mkdir "$BATS_TEST_TMPDIR/empty"
	run --separate-stderr python3 "$PEER" --libdir "$BATS_TEST_TMPDIR/empty" -- \
		"$KXMON" "$GUESTS/linkt.kxe"
	[ "$status" -eq 125 ] || explain "want 125"
	[ -z "$output" ] || explain "the pVM ran"
}

@test "link: an operator's LINK_PUSH is applied at a safe point and answered" {
	peer --push libacme-log.so -- linkt.kxe -v -- calls 2
	[ "$status" -eq 0 ] || explain "want status 0"
	[[ "$stderr" =~ LINK_DONE\ seq=1000\ libacme-log.so\ result=0\ linked\ as\ handle\ 3 ]] ||
		explain "want LINK_DONE with the handle"
	[ "$(stat_of 'pushed links')" = 1 ] || explain "one push applied"
}

@test "link: malformed messages from the channel end the boot with the reason" {
	local kind want
	for kind in short type seq name nonul fds unsealed; do
		case $kind in
		short) want="message of the wrong size" ;;
		type) want="unexpected message type" ;;
		seq) want="LINK_RESP with a seq that no LINK_REQ has" ;;
		name) want="LINK_RESP for another library" ;;
		nonul) want="a string without its NUL" ;;
		fds) want="wrong number of file descriptors" ;;
		unsealed) want="library fd is not a sealed memfd" ;;
		esac
		peer --bad "$kind" -- linkt.kxe
		[ "$status" -eq 125 ] || explain "$kind: want 125"
		[ -z "$output" ] || explain "$kind: the pVM ran"
		[[ "$stderr" == *"channel to kxd: $want"* ]] || explain "$kind: want '$want'"
	done
}

@test "link: hostile RESOLVE module ids and indexes end only that pVM" {
	local a
	for a in "0 0" "3 0" "1 3" "2 2" "1 99999999999" "4294967297 0"; do
		peer -- linkt.kxe -- resolve $a
		[ "$status" -eq 126 ] || explain "resolve $a: want 126"
		[[ "$stderr" =~ bad\ hypercall\ 5\ from\ RIP\ 0x[0-9a-f]+:\ lazy\ binding:\ module\ id\ or\ PLT\ index\ out\ of\ range ]] ||
			explain "resolve $a: want the report"
		[[ "$output" != *survived* ]] || explain "resolve $a: resumed"
	done
	# in range: the monitor resolves it and the guest goes on
	peer -- linkt.kxe -- resolve 1 0
	[ "$status" -eq 0 ] || explain "resolve 1 0 is legitimate"
	[[ "$output" == "survived: resolved to 0x"* ]] || explain "want the address"
}

@test "link: without a channel, DT_NEEDED images are refused and kx_dlopen is -EPERM" {
	pvm "$GUESTS/linkt.kxe"
	[ "$status" -eq 125 ] || explain "want 125"
	[[ "$stderr" == *"needs libraries (DT_NEEDED), which only kxd grants; first: libkvmath.so"* ]] ||
		explain "want the refusal"
	pvm "$GUESTS/wild.kxe" nolink
	[ "$status" -eq 0 ] || explain "want 0"
	[ "$output" = "kx_dlopen: -1
kx_dlsym: 0x0" ] || explain "want -KX_EPERM and NULL"
}

@test "link: linking hypercalls with wild names or without a linker end only that pVM" {
	pvm "$GUESTS/wild.kxe" resolve
	expect_end 126 "bad hypercall 5 from RIP 0x[0-9a-f]+: lazy binding: this pVM has no linked modules"
	local kind
	for kind in null unmapped pagetable gdt end wrap; do
		pvm "$GUESTS/wild.kxe" dlopen "$kind"
		expect_end 126 "bad hypercall 6 from RIP 0x[0-9a-f]+: name outside readable guest memory"
		pvm "$GUESTS/wild.kxe" dlsym "$kind"
		expect_end 126 "bad hypercall 7 from RIP 0x[0-9a-f]+: name outside readable guest memory"
	done
}

@test "link: kxmon refuses an image fd that is not a sealed memfd, and half a channel" {
	run --separate-stderr "$KXMON" --channel 3 --image-fd 4 3</dev/null 4<"$GUESTS/linkt.kxe"
	[ "$status" -eq 125 ] || explain "want 125"
	[[ "$stderr" == *"--channel, --image-fd and --image-name go together"* ]] || explain "usage"
	run --separate-stderr "$KXMON" --channel 3 --image-fd 4 --image-name x 3</dev/null \
		4<"$GUESTS/linkt.kxe"
	[ "$status" -eq 125 ] || explain "want 125"
	[[ "$stderr" == *"not a SOCK_SEQPACKET socket"* ]] || explain "want the socket check"
}

@test "link: a push reaches a guest that makes no hypercalls (the channel kicks the vCPU)" {
	peer --push libacme-log.so --push-delay 1 -- linkt.kxe -t 4 -v -- spin
	[ "$status" -eq 124 ] || explain "want the timeout's 124"
	[[ "$output" == spinning ]] || explain "want the guest spinning"
	[[ "$stderr" =~ LINK_DONE\ seq=1000\ libacme-log.so\ result=0\ linked\ as\ handle\ 3.*EXIT\ status=124 ]] ||
		explain "want LINK_DONE while the guest spins, before EXIT"
}

@test "link: a pushed library is usable by the guest (wait-push finds it by kx_dlsym)" {
	peer --push libacme-log.so --push-delay 0.5 -- linkt.kxe -- wait-push acme_log
	[ "$status" -eq 0 ] || explain "want 0"
	[ "$output" = "[acme-log 3.3.0 #1] linkt: pushed = 7" ] || explain "want the pushed library's output"
}

@test "link: a library whose GOT shares a page with data is refused, the pVM never runs" {
	# gotdata/libkvmath.so: ld's default layout puts .got.plt beside .bss
	run --separate-stderr python3 "$PEER" --libdir "$GUESTS/gotdata" -- "$KXMON" \
		"$GUESTS/linkt.kxe"
	[ "$status" -eq 125 ] || explain "want 125"
	[ -z "$output" ] || explain "the pVM ran"
	[[ "$stderr" == *"kxmon: linkt.kxe: libkvmath.so: data object 'kvm_calls' shares a page with the GOT (link pVM libraries with guest/dyn.ld)"* ]] ||
		explain "want the refusal naming the object"
}

@test "link: page-table changes after the guest ran are flushed (no write through a stale TLB)" {
	# kvm_tlbcheck takes write access away from a page the guest has just
	# written (at its next hypercall); the next write must fault.  Without
	# the flush the guest writes on through KVM's stale translation.
	run "$KX_BUILD/tests/kvm_tlbcheck" "$GUESTS"
	[ "$status" -eq 0 ] || explain "want the write after the change to fault"
	[[ "$output" == *"user write, protection violation"*"(read-only page)"* ]] ||
		explain "want a protection fault on the page"
	[[ "$output" != *survived* ]] || explain "the guest wrote through a stale translation"
}
