# Shared by tests/cli/kxsign*.bats: build the test libraries and a key pair
# once per file (setup_file), and give each test its own copies.
# Needs $KX_BIN and $KX_ROOT (tests/run-bats.sh exports them).

KXSIGN="$KX_BIN/kxsign"
SIGNER_DATA="$KX_ROOT/tests/data/signer"
PY=/usr/bin/python3 # Debian's, with python3-cryptography

# Build libdemo.so and libother.so and an unencrypted key pair into DIR.
signer_fixture() {
	local dir=$1
	cc -shared -fPIC -O1 -o "$dir/libdemo.so" "$SIGNER_DATA/libdemo.c"
	cc -shared -fPIC -O1 -o "$dir/libother.so" "$SIGNER_DATA/libother.c"
	"$KXSIGN" keygen --no-passphrase -c "test key" -p "$dir/test.pub" -s "$dir/test.sec" >/dev/null
	"$KXSIGN" keygen --no-passphrase -c "other key" -p "$dir/other.pub" -s "$dir/other.sec" >/dev/null
}

# Copy the fixture into the test's scratch directory and cd there.
signer_scratch() {
	cp "$BATS_FILE_TMPDIR"/* "$BATS_TEST_TMPDIR"/
	cd "$BATS_TEST_TMPDIR" || return 1
}

sign_demo() {
	"$KXSIGN" sign -s test.sec --name libdemo --version 1.2.3 -t "bats" "${@:-libdemo.so}"
}

# Print the key id of a public key file (the 16 hex digits its comment ends with).
keyid_of() {
	sed -n '1s/.* \([0-9a-f]\{16\}\)$/\1/p' "$1"
}

# Flip (xor 0x01) the byte at OFFSET of FILE.
flip_byte() {
	"$PY" - "$1" "$2" <<'PYEOF'
import sys
path, off = sys.argv[1], int(sys.argv[2], 0)
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 1]))
PYEOF
}

# File offset of the .kxsig section's bytes (its magic) in FILE.
kxsig_offset() {
	"$PY" -c 'import sys; d=open(sys.argv[1],"rb").read(); print(d.index(b"KXSIG\0v1"))' "$1"
}

# Copy the .kxsig section's bytes of FROM over those of TO (same size).
graft_section() {
	"$PY" - "$1" "$2" <<'PYEOF'
import sys
src, dst = (open(p, "rb").read() for p in sys.argv[1:3])
i, j = src.index(b"KXSIG\0v1"), dst.index(b"KXSIG\0v1")
open(sys.argv[2], "wb").write(dst[:j] + src[i:i + 2248] + dst[j + 2248:])
PYEOF
}
