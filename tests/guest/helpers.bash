# helpers.bash — loaded by tests/cli/kvm*.bats: run real pVMs through kxmon.
#
# setup_file asks kxmon whether /dev/kvm is usable, once per file; setup
# skips each test with the reason when it is not — such a run reports the
# tests as skipped, never as passed.

KXMON=$KX_BIN/kxmon
GUESTS=$KX_BUILD/guest

kvm_probe() {
	local why
	if why=$("$KX_BIN/kxmon" --check 2>&1); then
		export KX_KVM_USABLE=1
	else
		export KX_KVM_USABLE=0 KX_KVM_WHY="${why#kxmon: backend kvm cannot run pVMs here: }"
	fi
}

need_kvm() {
	[ "${KX_KVM_USABLE:-0}" = 1 ] || skip "no usable /dev/kvm: ${KX_KVM_WHY:-not probed}"
}

setup_file() {
	kvm_probe
}

setup() {
	need_kvm
}

# pvm [kxmon options] IMAGE ARGS...: stdout in $output, stderr in $stderr; stdin
# is /dev/null (the console input of an SDK program).
pvm() {
	run --separate-stderr "$KXMON" "$@" </dev/null
}

# Fail with the whole picture.
explain() {
	echo "$1"
	echo "status: $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
	return 1
}

# expect_end STATUS REGEX: kxmon exited STATUS and its one-line report on
# stderr ("pVM <pid>: ...") matches REGEX.
expect_end() {
	[ "$status" -eq "$1" ] || explain "want status $1"
	[[ "$stderr" =~ ^pVM\ [0-9]+:\ $2$ ]] || explain "want stderr: pVM <pid>: $2"
	[[ "$output" != *survived* ]] || explain "the guest was resumed"
}

# The address the guest announced on stdout ("RIP 0x..." / "ADDR 0x...").
announced() {
	sed -n "s/^$1 //p" <<<"$output"
}

# Regex-quote a literal string.
re_quote() {
	sed 's/[][\.|$(){}?+*^]/\\&/g' <<<"$1"
}
