#!/usr/bin/env bats
# libc: ordinary C programs on musl and kx's syscall layer (guest/posix/),
# built with the SDK's kx-cc.  The conformance programs of tests/libc/ run
# natively (host gcc, glibc, Linux) and in a pVM under kxmon; every check
# must pass on both sides and their outputs must be identical.  Then what a
# pVM does on purpose differently (kxonly), the no-`syscall` build check,
# the SDK as installed, and the pinned Debian source cache.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/guest/helpers"

LIBC=$KX_BUILD/tests/libc
SDK=$KX_BUILD/sdk
# The variant-neutral build tree: musl and the source cache live there.
SHARED=$(dirname "$KX_BUILD")/build

# The checks of the build itself (no syscall instruction, kx-cc's and
# kx-pack's refusals, the source cache) run on every machine; the rest
# runs pVMs and needs KVM.
setup() {
	case $BATS_TEST_DESCRIPTION in
	"no syscall:"* | "sdk: kx-cc --help"* | "image tree: kx-pack refuses"* | "debsrc:"*) ;;
	*) need_kvm ;;
	esac
}

teardown() {
	if [ -n "${SOCK:-}" ] && [ -S "$SOCK" ]; then
		"$KX_BIN/kxctl" stop --socket "$SOCK" || true
	fi
}

# native NAME: the native build in a fresh scratch directory, with stdin
# empty and no fd above 2 open (the conformance programs count fds).
native() {
	local scratch=$BATS_TEST_TMPDIR/native-scratch
	mkdir -p "$scratch"
	run --separate-stderr bash -c '
		cd / && for fd in /proc/$BASHPID/fd/*; do
			n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"
		done 2>/dev/null
		exec "$0" "$1" </dev/null' "$LIBC/native/$1" "$scratch"
}

# conform NAME MIN: both runs pass all of at least MIN checks, same output.
conform() {
	native "$1"
	local nstatus=$status nout=$output
	[ "$nstatus" -eq 0 ] || { echo "$nout"; explain "the native run failed"; }
	pvm "$LIBC/kx/$1.kxe" /tmp
	[ "$status" -eq 0 ] || explain "the pVM run failed"
	[ -z "$stderr" ] || explain "want no report from kxmon"
	if [ "$output" != "$nout" ]; then
		diff <(echo "$nout") <(echo "$output") || true
		explain "the outputs differ (native <, pVM >)"
	fi
	local n
	n=$(sed -n 's/^\([0-9]*\) checks, 0 failed$/\1/p' <<<"$output")
	[ -n "$n" ] && [ "$n" -ge "$2" ] || explain "want at least $2 passing checks"
	! grep -q '^FAIL' <<<"$output" || explain "a check failed"
}

@test "conformance: stdio (printf/scanf formats, FILE streams on files, stdin at EOF)" {
	conform stdio 30
}

@test "conformance: memory (strings, qsort, 2000 mallocs with realloc, 8 MiB, mmap/mremap/madvise)" {
	conform memory 30
}

@test "conformance: files (read/write/pread/pwrite/readv/lseek/ftruncate/unlink/rename/link/umask + errors)" {
	conform files 55
}

@test "conformance: directories (mkdir/rmdir/readdir/getcwd/chdir/fchdir/*at calls/renames + errors)" {
	conform dirs 40
}

@test "conformance: pipes and poll/ppoll/select/pselect (EOF, EPIPE, O_NONBLOCK, 64 KiB, timeouts)" {
	conform pipes 30
}

@test "conformance: dup/dup2/dup3/fcntl (shared offsets, FD_CLOEXEC, status flags, locks, ENOTTY)" {
	conform fdops 25
}

@test "conformance: threads (producer/consumer over mutex + condvar, TLS, once, detached, rwlock)" {
	conform threads 15
}

@test "conformance: time (clocks, resolution, nanosleep, clock_nanosleep, calendar)" {
	conform timing 18
}

@test "conformance: signals a process sends itself (handlers, masks, pending, SA_SIGINFO)" {
	conform signals 20
}

# ---- posix-mon: the monitor's services (clock page, halt, preemption, reports) ----

# exits_of FIELD: a number from kxmon -v's "kxmon: exits: ..." line in $stderr.
exits_of() {
	sed -n "s/^kxmon: exits:.*[ ,;]\([0-9][0-9]*\) $1.*/\1/p" <<<"$stderr"
}

@test "conformance: clocks from the clock page (200000 readings, no exit each)" {
	conform clockloop 5
	pvm -v "$LIBC/kx/clockloop.kxe" /tmp
	[ "$status" -eq 0 ] || explain "want 0"
	n=$(exits_of hypercalls)
	[ -n "$n" ] || explain "kxmon -v reports its exits"
	# 201000+ readings: one exit each would be 200000 and more.
	[ "$n" -lt 100 ] || explain "want fewer than 100 hypercalls for 201000 clock readings"
}

@test "conformance: sleeping halts the vCPU (nanosleep, poll, select, timed waits)" {
	conform sleeper 6
	# kxmon's own CPU time (user + system) while the pVM sleeps 1.5 s.
	run --separate-stderr python3 -c '
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r.returncode, int((u.ru_utime + u.ru_stime) * 1000))
sys.stderr.write(r.stderr)' "$KXMON" -v "$LIBC/kx/sleeper.kxe" /tmp
	read -r rc cpu_ms <<<"$output"
	[ "$rc" -eq 0 ] || explain "want 0"
	n=$(exits_of halts)
	[ -n "$n" ] && [ "$n" -ge 6 ] || explain "want a halt per wait (6)"
	# Polling the clock for 1.5 s would burn about that much CPU.
	[ "$cpu_ms" -lt 300 ] || explain "kxmon used $cpu_ms ms of CPU while the pVM slept 1.5 s"
}

@test "conformance: preemption (spinning threads, a spinlock, FPU state, malloc from 4 threads)" {
	conform spinner 7
	pvm -v "$LIBC/kx/spinner.kxe" /tmp
	[ "$status" -eq 0 ] || explain "want 0"
	n=$(exits_of preemptions)
	[ -n "$n" ] && [ "$n" -ge 1 ] || explain "the monitor preempted the spinning threads"
}

@test "conformance: epoll over pipes and epoll fds (LT, ET, one-shot, MOD/DEL, HUP, a closed fd, a waking thread)" {
	conform epoll 50
}

@test "conformance: alarm/setitimer (pause, nanosleep, a spinning loop, blocked SIGALRM)" {
	conform alarms 17
}

@test "conformance: sendfile (file to file, to a full non-blocking pipe, offsets, errors)" {
	conform sendfile 21
}

@test "conformance: sigaltstack (SA_ONSTACK, nested, per thread, EPERM on it, SS_AUTODISARM, siglongjmp out)" {
	conform altstack 29
}

@test "conformance: eventfd and timerfd (counter rules, semaphore, limits, readiness, threads, one-shot/periodic/absolute timers in poll, epoll, select)" {
	conform fdevents 46
}

@test "conformance: signalfd (mask and its update, several in one read, EAGAIN, poll/epoll, a thread's pthread_kill, errors)" {
	conform sigfd 25
}

@test "conformance: stdin from kxmon's stdin, stderr apart from stdout" {
	local text="first line
second, longer line
third"
	run --separate-stderr bash -c 'printf "%s\n" "$2" | "$1" "$BATS_TEST_TMPDIR"' _ \
		"$LIBC/native/stdin" "$text"
	[ "$status" -eq 0 ] || explain "the native run failed"
	local nout=$output nerr=$stderr
	run --separate-stderr bash -c '(sleep 0.2; printf "%s\n" "$2") | "$1" "$3" /tmp' _ \
		"$KXMON" "$text" "$LIBC/kx/stdin.kxe"
	[ "$status" -eq 0 ] || explain "the pVM run failed"
	[ "$output" = "$nout" ] || { diff <(echo "$nout") <(echo "$output"); explain "stdout differs"; }
	[ "$stderr" = "$nerr" ] || { diff <(echo "$nerr") <(echo "$stderr"); explain "stderr differs"; }
	[[ "$output" == *"3: THIRD"* ]] && [[ "$stderr" == *"stderr: 3 lines"* ]] || explain "3 lines"
}

@test "kx only: a write to a read-only page, a read of a guard page end the pVM (#PF)" {
	pvm "$LIBC/kx/kxonly.kxe" rowrite
	[ "$output" = mapped ] || explain "the mapping worked"
	expect_end 126 "guest fault #PF page fault .*user write, protection violation.*\\(read-only page\\)"
	pvm "$LIBC/kx/kxonly.kxe" guard
	[ "$output" = mapped ] || explain "the mapping worked"
	expect_end 126 "guest fault #PF page fault .*user read.*\\(unmapped page\\)"
}

@test "kx only: an unimplemented system call is reported once, by number, on kxmon's log" {
	pvm "$LIBC/kx/kxonly.kxe"
	[ "$status" -eq 0 ] || explain "kxonly failed"
	# kxonly calls mount twice (and fork, execve once each).
	[ "$(grep -c 'system call 165 is not implemented' <<<"$stderr")" -eq 1 ] ||
		explain "mount (165) reported exactly once"
	[[ "$stderr" == *"pVM "[0-9]*": system call 57 is not implemented (ENOSYS)"* ]] ||
		explain "fork (57) reported"
	! grep -q 'system call 0 ' <<<"$stderr" || explain "read is implemented"
}
# ---- end posix-mon ----

@test "kx only: fixed ids, no terminal, W^X (EACCES / ENOSYS), entropy (RDRAND, the host's), devices, ENOSYS recorded" {
	pvm "$LIBC/kx/kxonly.kxe"
	[ "$status" -eq 0 ] || explain "kxonly failed"
	! grep -q '^FAIL' <<<"$output" || explain "a check failed"
	[[ "$output" == *"ok mmap W+X: EACCES"* ]] || explain "W^X"
	[[ "$output" == *"ok the ENOSYS record names mount, not read"* ]] || explain "the record"
	n=$(sed -n 's/^\([0-9]*\) checks, 0 failed$/\1/p' <<<"$output")
	[ -n "$n" ] && [ "$n" -ge 22 ] || explain "want at least 22 passing checks"
}

@test "kx only: argv reaches main, writable; the environment is empty" {
	pvm "$LIBC/kx/kxonly.kxe" argv one "two words" ""
	[ "$status" -eq 0 ] || explain "want 0"
	[ "$output" = "argv[2] = One
argv[3] = Two words
argv[4] = 
argc = 5, environ[0] = (null)" ] || explain "unexpected argv"
}

@test "kx only: kxmon -e puts NAME=VALUE in environ, in order; nothing of kxmon's own" {
	PATH=/usr/bin:/bin pvm -e GREETING=hello -e "TWO=a b" -e EMPTY= "$LIBC/kx/kxonly.kxe" env
	[ "$status" -eq 0 ] || explain "want 0"
	[ "$output" = "env: GREETING=hello
env: TWO=a b
env: EMPTY=
getenv: ADDED=yes EMPTY=(unset) PATH=(unset)" ] || explain "unexpected environment"
	pvm -e NOEQUALS "$LIBC/kx/kxonly.kxe" env
	[ "$status" -eq 125 ] && [[ "$stderr" == *"invalid value 'NOEQUALS' for -e"* ]] ||
		explain "NAME=VALUE only"
}

@test "kx only: exit() from a second thread ends the pVM with its status" {
	pvm "$LIBC/kx/kxonly.kxe" exit 42
	[ "$status" -eq 42 ] || explain "want 42"
}

@test "kx only: a pVM whose every thread waits for ever ends with a deadlock panic" {
	pvm "$LIBC/kx/kxonly.kxe" deadlock
	expect_end 126 "guest panic at RIP 0x[0-9a-f]+: deadlock: all 1 threads of the pVM wait, none with a deadline"
}

@test "image tree: files packed by kx-pack read back; every change is EROFS/EXDEV/EBUSY" {
	pvm "$LIBC/kx/imagetree.kxe"
	[ "$status" -eq 0 ] || explain "imagetree failed"
	[ -z "$stderr" ] || explain "want no report from kxmon"
	! grep -q '^FAIL' <<<"$output" || explain "a check failed"
	[[ "$output" == *"ok read it whole"* ]] || explain "reading"
	[[ "$output" == *"ok rename out to tmpfs -> EXDEV"* ]] || explain "EXDEV"
	n=$(sed -n 's/^\([0-9]*\) checks, 0 failed$/\1/p' <<<"$output")
	[ -n "$n" ] && [ "$n" -ge 46 ] || explain "want at least 46 passing checks"
}

# tree_image NAME PACKFILE: an image whose tree is PACKFILE's bytes as they
# are (assembled by hand, past kx-pack's own check).
tree_image() {
	printf '\t.section .rodata.kx_image_tree,"a"\n\t.globl kx_image_tree\nkx_image_tree:\n\t.incbin "%s"\n\t.globl kx_image_tree_end\nkx_image_tree_end:\n\t.section .note.GNU-stack,"",@progbits\n' \
		"$2" > "$1.S"
	gcc -c -o "$1-tree.o" "$1.S" || explain "assembling $1"
	printf '#include <stdio.h>\nint main(void) { puts("main ran"); return 0; }\n' > "$1.c"
	"$SDK/bin/kx-cc" -o "$1.kxe" "$1.c" "$1-tree.o" || explain "linking $1"
}

@test "image tree: a malformed pack or a taken mount point ends the pVM at start, before main" {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p t/d && echo data > t/d/f
	"$SDK/bin/kx-pack" --blob -m /srv/t -o good.pack t || explain "kx-pack --blob"
	tree_image good good.pack
	pvm good.kxe
	[ "$status" -eq 0 ] && [ "$output" = "main ran" ] || explain "the well-formed pack"
	# The entry "d/f" (the second) claims more bytes than the pack holds.
	cp good.pack bad.pack
	printf '\377\377\377\177' | dd of=bad.pack bs=1 seek=$((32 + 32 + 24)) conv=notrunc 2>/dev/null
	tree_image bad bad.pack
	pvm bad.kxe
	expect_end 126 "guest panic at RIP 0x[0-9a-f]+: posix: the image's file tree is malformed: a file's bytes lie outside the pack"
	[ -z "$output" ] || explain "main must not run"
	"$SDK/bin/kx-pack" --blob -m /tmp -o tmp.pack t || explain "kx-pack -m /tmp"
	tree_image tmp tmp.pack
	pvm tmp.kxe
	expect_end 126 "guest panic at RIP 0x[0-9a-f]+: posix: cannot mount at /tmp: tmp exists"
}

@test "image tree: kx-pack refuses symbolic links and special files, and bad mount points" {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p t && echo x > t/f
	ln -s /etc/passwd t/link
	run "$SDK/bin/kx-pack" -o t.o t
	[ "$status" -eq 1 ] && [[ "$output" == *"t/link: a symbolic link"* ]] || explain "a symlink"
	[ ! -e t.o ] || explain "no output"
	rm t/link && mkfifo t/fifo
	run "$SDK/bin/kx-pack" -o t.o t
	[ "$status" -eq 1 ] && [[ "$output" == *"t/fifo: a special file"* ]] || explain "a FIFO"
	rm t/fifo
	run "$SDK/bin/kx-pack" -m / -o t.o t
	[ "$status" -eq 1 ] && [[ "$output" == *"mount point"* ]] || explain "mount point /"
	run "$SDK/bin/kx-pack" -m /a/../b -o t.o t
	[ "$status" -eq 1 ] || explain "mount point with .."
	run "$SDK/bin/kx-pack" -o t.o t
	[ "$status" -eq 0 ] && [ -f t.o ] || explain "a clean tree packs"
}

@test "image tree: the image's signature covers the packed files" {
	cd "$BATS_TEST_TMPDIR"
	"$KX_BIN/kxsign" keygen -p me.pub -s me.sec --no-passphrase >/dev/null
	"$KX_BIN/kxsign" sign -s me.sec --name imagetree --version 1.0 -o signed.kxe \
		"$LIBC/kx/imagetree.kxe" >/dev/null
	run "$KX_BIN/kxsign" verify -p me.pub signed.kxe
	[ "$status" -eq 0 ] || explain "the signed image verifies"
	pvm signed.kxe
	[ "$status" -eq 0 ] || explain "and runs"
	# One byte of a packed file changed: the signature no longer holds.
	off=$(grep -obUa 'hello from the signed tree' signed.kxe | head -1 | cut -d: -f1)
	[ -n "$off" ] || explain "the file's bytes are in the image"
	printf 'J' | dd of=signed.kxe bs=1 seek="$off" conv=notrunc 2>/dev/null
	run "$KX_BIN/kxsign" verify -p me.pub signed.kxe
	[ "$status" -ne 0 ] || explain "a changed packed file must fail verification"
}

# A host tree for hostdirs.kxe: data/ (rw) with symlinks that lead out,
# conf/ (ro), a secret beside them; keys, a manifest granting both, the
# signed image and the compiled policy.
hostdirs_setup() {
	cd "$BATS_TEST_TMPDIR"
	top=$BATS_TEST_TMPDIR/host
	mkdir -p "$top/data" "$top/conf"
	echo 'mode = ro' > "$top/conf/app.conf"
	echo 'outside every mount' > "$top/secret"
	ln -s /etc "$top/data/etc"
	ln -s /etc/passwd "$top/data/abs"
	ln -s .. "$top/data/up"
	# The jailed monitor works on the directory as its jail's uid
	# (docs/jail.md): a writable mount must be writable by it.
	chmod 0777 "$top/data"
	"$KX_BIN/kxsign" keygen -p me.pub -s me.sec --no-passphrase >/dev/null
	cat > hostdirs.yaml <<-EOF
	kx-manifest: 1
	app: hostdirs
	image: hostdirs.kxe
	memory: 32M
	keys:
	  me: me.pub
	files:
	  - { guest: /conf, host: ${1:-$top/conf} }
	  - { guest: /data, host: $top/data, mode: rw, max: 64K }
	EOF
	"$KX_BIN/kxsign" sign -s me.sec --name hostdirs --version 1.0 -o hostdirs.kxe \
		"$LIBC/kx/hostdirs.kxe" >/dev/null
	"$KX_BIN/kxpolicy" compile --serial 1 -o hostdirs.kxp hostdirs.yaml >/dev/null ||
		explain "the manifest compiles"
	SOCK=$BATS_TEST_TMPDIR/kxd.sock
}

@test "host dirs: files rules mount host directories; escapes EXDEV, ro EROFS, the cap ENOSPC, chdir; audited" {
	hostdirs_setup
	run --separate-stderr "$KX_BIN/kxctl" run --socket "$SOCK" --policy hostdirs.kxp hostdirs.kxe
	[ "$status" -eq 0 ] || explain "hostdirs failed"
	! grep -q '^FAIL' <<<"$output" || explain "a check failed"
	n=$(sed -n 's/^\([0-9]*\) checks, 0 failed$/\1/p' <<<"$output")
	[ -n "$n" ] && [ "$n" -ge 47 ] || explain "want at least 47 passing checks"
	# What reached the host: the file, nothing outside, the ro mount intact.
	[ "$(cat "$top/data/sub/moved.txt")" = "writ" ] || explain "the file on the host"
	[ ! -e "$top/escaped" ] && [ ! -e "$top/evil" ] && [ ! -e "$top/moved.txt" ] ||
		explain "something was made outside the mount"
	[ "$(cat "$top/secret")" = "outside every mount" ] || explain "the secret"
	[ "$(cat "$top/conf/app.conf")" = "mode = ro" ] && [ ! -e "$top/conf/new" ] ||
		explain "the read-only mount changed"
	[ ! -e "$top/data/fill" ] && [ ! -e "$top/data/fill2" ] || explain "cleanup"
	run "$KX_BIN/kxctl" audit --socket "$SOCK"
	[[ "$output" == *"file "*"/conf"*"ALLOW hostdirs.yaml:8"* ]] || explain "the ro mount audited"
	[[ "$output" == *"file "*"/data"*"ALLOW hostdirs.yaml:9"* ]] || explain "the rw mount audited"
}

@test "host dirs: a rule whose host path is a symlink to elsewhere is denied, audited, no boot" {
	hostdirs_setup "$BATS_TEST_TMPDIR/host/link-to-etc"
	ln -s /etc "$top/link-to-etc"
	run --separate-stderr "$KX_BIN/kxctl" run --socket "$SOCK" --policy hostdirs.kxp hostdirs.kxe
	[ "$status" -ne 0 ] || explain "the pVM must not boot"
	[ -z "$output" ] || explain "main must not run"
	[[ "$stderr" == *"/conf"* ]] || explain "says which mount"
	run "$KX_BIN/kxctl" audit --socket "$SOCK"
	[[ "$output" == *"file "*"/conf"*"DENY"* ]] || explain "the denial audited"
	[[ "$output" != *"file "*"/etc"*"ALLOW"* ]] || explain "/etc never granted"
}

@test "no syscall: musl's libc.a and every SDK image hold no syscall, sysenter or int \$0x80" {
	run "$SDK/bin/kx-nosyscall" "$SDK/lib/kx/lib/libc.a" "$SDK/lib/kx/lib/libkxposix.a" \
		"$SDK/lib/kx/lib/libkxrt.a" "$LIBC"/kx/*.kxe
	[ "$status" -eq 0 ] || explain "a system call instruction is left"
	# The check reads instructions: syscall's bytes inside another
	# instruction's immediate are no syscall.
	printf '.text\n.globl f\nf: mov $0x050f, %%eax\n ret\n' > "$BATS_TEST_TMPDIR/imm.s"
	as -o "$BATS_TEST_TMPDIR/imm.o" "$BATS_TEST_TMPDIR/imm.s"
	run "$SDK/bin/kx-nosyscall" "$BATS_TEST_TMPDIR/imm.o"
	[ "$status" -eq 0 ] || explain "0f 05 inside an immediate is not an instruction"
}

@test "no syscall: the check fires on a deliberately bad object, and kx-cc refuses the image" {
	cd "$BATS_TEST_TMPDIR"
	printf '.text\n.globl raw_getpid\nraw_getpid: mov $39, %%eax\n syscall\n ret\n' > bad.s
	printf '.text\n.globl raw_int\nraw_int: int $0x80\n sysenter\n ret\n' > bad2.s
	as -o bad.o bad.s && as -o bad2.o bad2.s
	run "$SDK/bin/kx-nosyscall" bad.o bad2.o
	[ "$status" -eq 1 ] || explain "want 1"
	[[ "$output" == *"bad.o: syscall in raw_getpid at 0x5"* ]] || explain "names the syscall"
	[[ "$output" == *"bad2.o: int \$0x80 in raw_int at 0x0"* ]] || explain "names int \$0x80"
	[[ "$output" == *"bad2.o: sysenter in raw_int at 0x2"* ]] || explain "names sysenter"
	printf 'long raw_getpid(void);\nint main(void) { return (int)raw_getpid(); }\n' > main.c
	run "$SDK/bin/kx-cc" -o bad.kxe main.c bad.o
	[ "$status" -eq 1 ] || explain "kx-cc must fail"
	[[ "$output" == *"syscall in raw_getpid"* ]] || explain "kx-cc says why"
	[ ! -e bad.kxe ] || explain "the image must be removed"
	run "$SDK/bin/kx-nosyscall" /etc/hostname
	[ "$status" -eq 2 ] || explain "an unreadable (non-ELF) file is an error, not a pass"
}

@test "no syscall: -a allows the Xen platform's own hypercalls, never an app's; kx-cc --backend xen" {
	cd "$BATS_TEST_TMPDIR"
	xenrt=$SDK/lib/kx/lib/libkxrt-xen.a
	# kx-cc --backend xen: an image with Xen's platform, whose hypercalls
	# are syscall instructions: found without -a, allowed with it.
	printf 'int main(void) { return 0; }\n' > m.c
	run "$SDK/bin/kx-cc" --backend xen -o m.kxe m.c
	[ "$status" -eq 0 ] && [ -f m.kxe ] || explain "--backend xen links"
	nm m.kxe | grep -q ' kx_plat_set_segbase$' || explain "the platform's TLS hook is in it"
	run "$SDK/bin/kx-nosyscall" -q m.kxe
	[ "$status" -eq 1 ] || explain "the platform's syscalls are found without -a"
	run "$SDK/bin/kx-nosyscall" -a "$xenrt" m.kxe
	[ "$status" -eq 0 ] || explain "-a allows the functions the platform defines"
	# an app function doing the same is still refused
	printf '.text\n.globl raw_getpid\nraw_getpid: mov $39, %%eax\n syscall\n ret\n' > bad.s
	as -o bad.o bad.s
	run "$SDK/bin/kx-nosyscall" -a "$xenrt" bad.o
	[ "$status" -eq 1 ] && [[ "$output" == *"bad.o: syscall in raw_getpid"* ]] ||
		explain "an app's syscall is refused whatever -a says"
	run "$SDK/bin/kx-nosyscall" -a /nonexistent bad.o
	[ "$status" -eq 2 ] || explain "-a without a readable file is a usage error"
	# what is not supported yet is refused with exit 2 and nothing left behind
	run "$SDK/bin/kx-cc" --backend xen -rdynamic -o dyn.kxe m.c
	[ "$status" -eq 2 ] && [[ "$output" == *"dynamic images"*"not supported yet"* ]] ||
		explain "a dynamic Xen image is refused"
	[ ! -e dyn.kxe ] || explain "no image left"
	run "$SDK/bin/kx-cc" --backend bogus -o b.kxe m.c
	[ "$status" -eq 2 ] && [[ "$output" == *"unknown backend 'bogus'"* ]] || explain "bogus"
	printf '.text\n.globl main\nmain: mov $60, %%eax\n syscall\n ret\n' > rawmain.s
	as -o rawmain.o rawmain.s
	run "$SDK/bin/kx-cc" --backend xen -o raw.kxe rawmain.o
	[ "$status" -eq 1 ] && [[ "$output" == *"syscall in main"* ]] && [ ! -e raw.kxe ] ||
		explain "a Xen image whose app makes a syscall is refused"
}

@test "sdk: kx-cc --help is a manual page; -c, -shared and an image that names a library" {
	run "$SDK/bin/kx-cc" --help
	[ "$status" -eq 0 ] || explain "want 0"
	for s in NAME SYNOPSIS DESCRIPTION ENVIRONMENT "EXIT STATUS" "SEE ALSO"; do
		grep -q "^$s" <<<"$output" || explain "missing section $s"
	done
	cd "$BATS_TEST_TMPDIR"
	printf '#include <stdio.h>\nint greet(const char *w) { return printf("hi %%s\\n", w); }\n' > lib.c
	printf 'int greet(const char *);\nint main(void) { return greet("x") == 5 ? 0 : 1; }\n' > app.c
	run "$SDK/bin/kx-cc" -c -o app.o app.c
	[ "$status" -eq 0 ] && [ -f app.o ] || explain "-c"
	# docs/sdk.md: programs test __kx__ (when compiling, not only with -E)
	printf '#ifndef __kx__\n#error no __kx__\n#endif\nint kx_only;\n' > kxonly.c
	run "$SDK/bin/kx-cc" -c -o kxonly.o kxonly.c
	[ "$status" -eq 0 ] || explain "__kx__ is defined when compiling"
	run "$SDK/bin/kx-cc" -shared -o libgreet.so lib.c
	[ "$status" -eq 0 ] || explain "-shared"
	run readelf -dW libgreet.so
	[[ "$output" == *"Library soname: [libgreet.so]"* ]] || explain "soname from -o"
	run "$SDK/bin/kx-cc" -o app.kxe app.o libgreet.so
	[ "$status" -eq 0 ] || explain "an image naming a library"
	run "$KX_BIN/kxctl" inspect app.kxe
	[ "$status" -eq 0 ] || explain "kx's loader accepts the image"
	[[ "$output" == *"needed:      libgreet.so"* ]] || explain "DT_NEEDED"
	run "$KX_BIN/kxctl" inspect libgreet.so
	[ "$status" -eq 0 ] || explain "kx's loader accepts the library"
}

@test "sdk: an SDK image links its signed SDK library through kxd and the gate, lazily bound" {
	cd "$BATS_TEST_TMPDIR"
	"$KX_BIN/kxsign" keygen -p me.pub -s me.sec --no-passphrase >/dev/null
	cat > greet.c <<-'EOF'
	#include <stdio.h>
	#include <string.h>
	int greet(const char *who) { return printf("greetings, %s (%zu letters)\n", who, strlen(who)); }
	EOF
	printf 'int greet(const char *);\nint main(int c, char **v) { return greet(c > 1 ? v[1] : "x") > 0 ? 0 : 1; }\n' > app.c
	cat > greeter.yaml <<-'EOF'
	kx-manifest: 1
	app: greeter
	image: greeter.kxe
	memory: 32M
	keys:
	  me: me.pub
	libraries:
	  - name: libgreet
	    signed-by: [me]
	    version: ">= 1.0 && < 2"
	    loader: self
	    bind: lazy
	EOF
	"$SDK/bin/kx-cc" -O2 -shared -o libgreet.so greet.c || explain "kx-cc -shared"
	"$SDK/bin/kx-cc" -O2 -o app.kxe app.c libgreet.so || explain "kx-cc with a library"
	run readelf --dyn-syms -W app.kxe
	[[ "$output" == *" du_resolve"* ]] || explain "the image exports du_resolve: lazy binding"
	[[ "$output" == *" printf"* ]] || explain "and the C library the library uses"
	mkdir libs
	"$KX_BIN/kxsign" sign -s me.sec --name libgreet --version 1.0 -o libs/libgreet.so libgreet.so >/dev/null
	"$KX_BIN/kxsign" sign -s me.sec --name greeter --version 1.0 -o greeter.kxe app.kxe >/dev/null
	"$KX_BIN/kxpolicy" compile --serial 1 -o greeter.kxp greeter.yaml >/dev/null
	SOCK=$BATS_TEST_TMPDIR/kxd.sock
	run --separate-stderr "$KX_BIN/kxctl" run --socket "$SOCK" --policy greeter.kxp --libdir libs \
		greeter.kxe pVMs
	[ "$status" -eq 0 ] || explain "want 0"
	[ "$output" = "greetings, pVMs (4 letters)" ] || explain "musl's printf, from the library"
	run "$KX_BIN/kxctl" audit --socket "$SOCK"
	[[ "$output" == *"link    pvm 1 (greeter) -> pvm 1 (greeter) lib libgreet 1.0 ALLOW greeter.yaml:8"* ]] ||
		explain "the link, decided and audited"
	cp libgreet.so libs/libgreet.so # unsigned now
	run --separate-stderr "$KX_BIN/kxctl" run --socket "$SOCK" greeter.kxe
	[ "$status" -ne 0 ] || explain "an unsigned library must not be linked"
	[[ "$stderr" == *"libgreet.so"*"not signed"* ]] || explain "says why"
}

@test "sdk: make install puts a working SDK under PREFIX (kx-cc, kx.pc, headers, libraries)" {
	dest=$BATS_TEST_TMPDIR/dest
	run make -C "$KX_ROOT" --no-print-directory -s install-sdk B="$KX_BUILD" DESTDIR="$dest" \
		PREFIX=/opt/kx
	[ "$status" -eq 0 ] || explain "make install-sdk failed"
	for f in bin/kx-cc bin/kx-nosyscall bin/kx-pack lib/kx/kx.specs lib/kx/lib/libc.a lib/kx/lib/libkxposix.a \
		lib/kx/lib/libkxrt.a lib/kx/lib/kxcrt1.o lib/kx/lib/kx.ld lib/kx/lib/kx-dyn.ld \
		lib/kx/include/stdio.h lib/kx/include/kx/kxrt.h lib/kx/include/kx/posix.h \
		lib/kx/include/kx/kx_hcall_abi.h lib/pkgconfig/kx.pc lib/kx/kxpool.kxe; do
		[ -f "$dest/opt/kx/$f" ] || explain "missing $f"
	done
	[ -x "$dest/opt/kx/bin/kx-cc" ] || explain "kx-cc not executable"
	run env PKG_CONFIG_PATH="$dest/opt/kx/lib/pkgconfig" pkg-config --variable=cc kx
	[ "$output" = /opt/kx/bin/kx-cc ] || explain "kx.pc names PREFIX's kx-cc"
	# The installed copy works from where it is (it finds its SDK next to it).
	cd "$BATS_TEST_TMPDIR"
	cat > hello.c <<-'EOF'
	#include <stdio.h>
	#include <stdlib.h>
	#include <kx/kxrt.h>
	int main(int argc, char **argv)
	{
		char *s = malloc(32);
		FILE *f = fopen("/tmp/greeting", "w+");
		fprintf(f, "hello, %s", argc > 1 ? argv[1] : "world");
		rewind(f);
		fgets(s, 32, f);
		printf("%s from a pVM (abi %u)\n", s, kx_boot_info()->abi_version);
		return 0;
	}
	EOF
	run "$dest/opt/kx/bin/kx-cc" -O2 -Wall -Werror -o hello.kxe hello.c
	[ "$status" -eq 0 ] || explain "the installed kx-cc failed"
	pvm hello.kxe kx
	[ "$status" -eq 0 ] && [ "$output" = "hello, kx from a pVM (abi 1)" ] || explain "hello"
	# A file tree shipped inside the image, with the installed kx-pack.
	mkdir -p conf && echo 'greeting = hi' > conf/app.conf
	printf '#include <stdio.h>\nint main(void) { char l[64]; FILE *f = fopen("/etc/hello/app.conf", "r"); return f && fgets(l, sizeof l, f) && printf("%%s", l) > 0 ? 0 : 1; }\n' > tree.c
	run "$dest/opt/kx/bin/kx-pack" -m /etc/hello -o tree.o conf
	[ "$status" -eq 0 ] || explain "the installed kx-pack failed"
	run "$dest/opt/kx/bin/kx-cc" -o tree.kxe tree.c tree.o
	[ "$status" -eq 0 ] || explain "linking the tree"
	pvm tree.kxe
	[ "$status" -eq 0 ] && [ "$output" = "greeting = hi" ] || explain "the packed file"
}

@test "debsrc: a second run needs no network; a cache that does not match the pins is refused" {
	cache=${KX_SRC_CACHE:-$SHARED/src-cache}
	[ -d "$cache/dl" ] || skip "no source cache at $cache (built with another KX_SRC_CACHE)"
	run env KX_SRC_CACHE="$cache" KX_SRC_OFFLINE=1 sh "$KX_ROOT/.ci/debsrc.sh" musl
	[ "$status" -eq 0 ] && [ -f "$output/src/env/__libc_start_main.c" ] || explain "offline run"
	tampered=$BATS_TEST_TMPDIR/cache
	mkdir -p "$tampered"
	cp -R "$cache/dl" "$tampered/"
	printf 'x' >> "$tampered"/dl/musl_*/musl_*.debian.tar.xz
	run --separate-stderr env KX_SRC_CACHE="$tampered" KX_SRC_OFFLINE=1 \
		sh "$KX_ROOT/.ci/debsrc.sh" musl
	[ "$status" -eq 1 ] || explain "want 1"
	[[ "$stderr" == *"debian.tar.xz: sha256 "*", pinned 8f12cc80"* ]] || explain "names the file"
	[ ! -e "$tampered/src" ] || explain "nothing may be unpacked"
	run env KX_SRC_CACHE="$tampered" sh "$KX_ROOT/.ci/debsrc.sh" no-such-package
	[ "$status" -eq 1 ] && [[ "$output" == *"not pinned"* ]] || explain "unpinned package"
	printf 'musl 1.2.3-1 musl_1.2.3-1.dsc nothex\n' > "$BATS_TEST_TMPDIR/bad.pins"
	run env KX_SRC_CACHE="$tampered" sh "$KX_ROOT/.ci/debsrc.sh" -p "$BATS_TEST_TMPDIR/bad.pins" musl
	[ "$status" -eq 1 ] && [[ "$output" == *"malformed pin line"* ]] || explain "malformed pin"
}
