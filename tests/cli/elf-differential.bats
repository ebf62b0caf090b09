#!/usr/bin/env bats
# The loader against binutils: for the Debian libraries on this machine,
# kxctl's program headers and dynamic symbols equal readelf's, and each
# library's whole DT_NEEDED tree maps and relocates (tests/elf/differential.py).

@test "Debian libraries: segments and dynamic symbols match readelf; trees relocate" {
	run /usr/bin/python3 "$KX_ROOT/tests/elf/differential.py" "$KX_BIN/kxctl"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok   libc.so.6 "* ]]
	[[ "$output" == *"ok   libz.so.1 "* ]]
	[[ "$output" =~ differential:\ ([0-9]+)\ libraries\ checked,\ 0\ failed ]]
	[ "${BASH_REMATCH[1]}" -ge 5 ]
}
