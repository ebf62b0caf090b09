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
