#!/usr/bin/env bats
# kxmon's backends, without needing any of them to work here: the table
# (--backend), the skeleton backend (the template of a new one: every
# primitive "not implemented"), an unknown name.

setup() {
	KXMON="$KX_BIN/kxmon"
	GUESTS="$KX_BUILD/guest"
}

@test "--backend skeleton: probing and booting are cleanly not implemented (exit 125)" {
	run "$KXMON" --backend skeleton --check
	[ "$status" -eq 125 ]
	[ "$output" = "kxmon: backend skeleton cannot run pVMs here: skeleton backend: probe: not implemented" ]
	run "$KXMON" --backend skeleton "$GUESTS/hello.kxe"
	[ "$status" -eq 125 ]
	[ "$output" = "kxmon: cannot create the pVM: skeleton backend: create: not implemented" ]
}

# Outside a Xen dom0 (no /dev/xen/privcmd) the xen backend says why it cannot
# run; inside one, --check passes (make test-xen runs it there, and more).
@test "--backend xen: --check says whether this host is a Xen dom0" {
	run "$KXMON" --backend xen --check
	if [ -e /dev/xen/privcmd ]; then
		[ "$status" -eq 0 ]
		[ "$output" = "kxmon: backend xen can run pVMs here" ]
	else
		[ "$status" -eq 125 ]
		[ "$output" = "kxmon: backend xen cannot run pVMs here: cannot open Xen's control interface (/dev/xen/privcmd): No such file or directory (kx runs Xen pVMs from dom0)" ]
		run "$KXMON" --backend xen "$GUESTS/xen/hello.kxe"
		[ "$status" -eq 125 ]
		[[ "$output" == "kxmon: cannot create the pVM: cannot open Xen's interfaces (kx runs Xen pVMs from dom0): "* ]]
	fi
}

@test "--backend with an unknown name exits 125 and names it" {
	run "$KXMON" --backend vmware --check
	[ "$status" -eq 125 ]
	[ "$output" = "kxmon: no backend 'vmware'" ]
}

@test "--help lists --backend and every exit status" {
	run "$KXMON" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"-b, --backend NAME"*"the hypervisor backend (default kvm)"* ]]
	[[ "$output" == *"128+N a signal's default action ended it."* ]]
}
