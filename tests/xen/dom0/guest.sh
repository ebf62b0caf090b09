# guest.sh — kx pVM images on Xen PV, created with plain `xl create` (no kx
# monitor yet): boot, console, argv, exit status, the runtime's own checks,
# faults.  Run by tests/xen/run.sh inside dom0; images in /kx/guest/.
. /kx/dom0/lib.sh
G=/kx/guest

if xl info > /tmp/xl-info 2>&1; then
	ok "xl info: $(grep -E '^xen_version' /tmp/xl-info | tr -s ' ')"
else
	not_ok "xl info"
	cat /tmp/xl-info
fi

# boot, console, argv, exit 0
boot_pvm xhello $G/xhello.kxe one two
echo "timing: xhello create ${CREATE_MS} ms, create->shutdown ${RUN_MS} ms, state $STATE"
expect_console "xhello: console" "hello from a pVM on xen"
expect_console "xhello: argv[0] from the command line" "argv[0] = xhello.kxe"
expect_console "xhello: argv[2]" "argv[2] = two"
expect_console "xhello: clocks" "clock: monotonic ok, realtime after 2020: yes"
expect_console "xhello: exit status 0" "kx: exit 0"
case $STATE in
*s*) case $STATE in *c*) not_ok "xhello: shut down, not crashed (state $STATE)" ;;
	*) ok "xhello: the domain shut down (state $STATE)" ;; esac ;;
*) not_ok "xhello: the domain did not shut down (state $STATE)" ;;
esac
end_pvm xhello
[ "$(domain_state xhello)" = gone ] && ok "xhello: destroyed" || not_ok "xhello: still there"

# a nonzero status
boot_pvm xfail $G/xhello.kxe fail
expect_console "exit status 7 reaches the console" "kx: exit 7"
end_pvm xfail

# the runtime's own checks (printf, strings, malloc, clocks, boot layout)
boot_pvm rt $G/rt.kxe
if grep -q '^FAIL' "$CONSOLE"; then
	not_ok "rt: $(grep '^FAIL' "$CONSOLE" | head -3 | tr '\n' ' ')"
else
	expect_console "rt: every check passes" "0 failures"
fi
end_pvm rt

# a fault is reported with its vector and RIP, and the domain crashes
boot_pvm fnull $G/fault.kxe null_read
rip=$(sed -n 's/^RIP \(0x[0-9a-f]*\).*/\1/p' "$CONSOLE" | head -1)
expect_console "fault null_read: reported" "kx: guest fault #PF page fault (vector 14, error 0x0: kernel read, page not present) at RIP $rip: address 0x0 (NULL page)"
case $STATE in *c*) ok "fault null_read: the domain crashed (state $STATE)" ;;
*) not_ok "fault null_read: state $STATE, not crashed" ;; esac
end_pvm fnull

# W^X inside the guest (its own page tables: docs/xen-backend.md)
PF='kx: guest fault #PF page fault (vector 14, error'
fault_case() { # CASE ERROR WORDS WHAT
	boot_pvm "f$1" $G/fault.kxe "$1"
	rip=$(sed -n 's/^RIP \(0x[0-9a-f]*\).*/\1/p' "$CONSOLE" | head -1)
	addr=$(sed -n 's/^ADDR \(0x[0-9a-f]*\).*/\1/p' "$CONSOLE" | head -1)
	expect_console "fault $1: reported" "$PF $2: $3) at RIP $rip: address $addr ($4)"
	end_pvm "f$1"
}
fault_case text_write 0x3 "kernel write, protection violation" "text page: read, execute"
fault_case rodata_write 0x3 "kernel write, protection violation" "read-only page"
fault_case exec_data 0x11 "kernel instruction fetch, protection violation" \
	"data page: read, write, no execute"
fault_case exec_heap 0x11 "kernel instruction fetch, protection violation" \
	"data page: read, write, no execute"

boot_pvm fud2 $G/fault.kxe ud2
rip=$(sed -n 's/^RIP \(0x[0-9a-f]*\).*/\1/p' "$CONSOLE" | head -1)
expect_console "fault ud2: reported" "kx: guest fault #UD invalid opcode (vector 6, error 0x0) at RIP $rip"
end_pvm fud2

# the stack guard page: Xen cannot push the fault frame; it crashes the domain
boot_pvm fstack $G/fault.kxe stack_overflow
case $STATE in *c*) ok "fault stack_overflow: the domain crashed (state $STATE)" ;;
*) not_ok "fault stack_overflow: state $STATE"; cat "$CONSOLE" ;; esac
# ... and says why in its own log, with the domain's id
id=$(xl domid fstack 2>/dev/null)
if xl dmesg | grep -q "domain_crash_sync called from entry.S" &&
	xl dmesg | grep -q "pv guest (d${id}v0)"; then
	ok "fault stack_overflow: Xen reports the crash of d${id}"
else
	not_ok "fault stack_overflow: no domain_crash report for d${id} in xl dmesg"
fi
end_pvm fstack

# without a monitor the same calls return -KX_EPERM (1) at once
boot_pvm xcalls $G/xhello.kxe calls 200
expect_console "no monitor: manager calls return -KX_EPERM" "calls: 200 in"
expect_console "no monitor: ... with -KX_EPERM" "last -1"
echo "timing: no monitor $(grep '^calls:' "$CONSOLE")"
end_pvm xcalls
