#!/bin/sh
# fixture.sh — what make test-xen's kxd tests need in the test dom0, built on
# the host: the compiled policy, the Xen images and the library signed (or
# not) as the cases need.  usage: fixture.sh BUILD_DIR OUT_DIR
set -eu
b=$1 out=$2 root=$(pwd)
sign_as() { "$b/bin/kxsign" sign -s "tests/data/keys/$1.sec" --name "$2" --version "$3" \
	-o "$4" "$5" >/dev/null; }
mkdir -p "$out/lib" "$out/badlib"
for m in xhello xlinkt xposix xhostdirs; do
	sed -e "s|@KEYS@|$root/manifests/keys|g" "tests/xen/kxd/$m.yaml.in" > "$out/$m.yaml"
done
# updt: KVM's online-update manifest as it is (no rollback, nothing revoked)
sed -e "s|@KEYS@|$root/manifests/keys|g" -e "s|@ROLLBACK@|deny|" \
	-e "s|@REVOKED@|$(printf '0%.0s' $(seq 64))|" tests/data/kxd/upd.yaml.in > "$out/updt.yaml"
# xforkd: KVM's fork manifest with max-depth 2 (children 8, members 16)
sed -e "s|@KEYS@|$root/manifests/keys|g" -e "s|@APP@|xforkd|" -e "s|@CHILDREN@|8|" \
	-e "s|@DEPTH@|2|" -e "s|@MEMBERS@|16|" tests/data/kxd/fork.yaml.in > "$out/xforkd.yaml"
# xipc: KVM's IpC manifest with pipes, queues and segments in the family
sed -e "s|@KEYS@|$root/manifests/keys|g" -e "s|@APP@|xipc|" -e "s|@KINDS@|pipe, msgq, shm|" \
	tests/data/kxd/ipc.yaml.in > "$out/xipc.yaml"
# xsrv, xcli: two apps trusting each other for message queues (KVM's IpC
# manifest + ipc-trust.yaml.in), for an object another pVM's domain holds
for pair in xsrv:xcli xcli:xsrv; do
	a=${pair%%:*} peer=${pair#*:}
	sed -e "s|@KEYS@|$root/manifests/keys|g" -e "s|@APP@|$a|" -e "s|@KINDS@|msgq|" \
		tests/data/kxd/ipc.yaml.in > "$out/$a.yaml"
	sed -e "/^#/d" -e "s|@PEER@|$peer|" tests/data/kxd/ipc-trust.yaml.in >> "$out/$a.yaml"
done
# xsig: KVM's signal manifest (signals in the family, no trust)
sed -e "s|@KEYS@|$root/manifests/keys|g" -e "s|@APP@|xsig|" -e "s|@TRUST@||" \
	tests/data/kxd/sig.yaml.in > "$out/xsig.yaml"
"$b/bin/kxpolicy" compile -o "$out/kx.kxp" "$out/xhello.yaml" "$out/xlinkt.yaml" \
	"$out/updt.yaml" "$out/xforkd.yaml" "$out/xipc.yaml" "$out/xsig.yaml" "$out/xsrv.yaml" \
	"$out/xcli.yaml" "$out/xposix.yaml" "$out/xhostdirs.yaml" >/dev/null
sign_as acme xhello 1.0 "$out/xhello.kxe" "$b/guest/xen/xhello.kxe"
sign_as webco xhello 1.0 "$out/wrongkey.kxe" "$b/guest/xen/xhello.kxe"
cp "$b/guest/xen/xhello.kxe" "$out/unsigned.kxe"
sign_as acme xlinkt 1.0 "$out/linkt.kxe" "$b/guest/xen/linkt.kxe"
sign_as acme xforkd 1.0 "$out/forkt.kxe" "$b/guest/xen/forkt.kxe"
sign_as acme xipc 1.0 "$out/ipct.kxe" "$b/guest/xen/ipct.kxe"
sign_as acme xipc 1.0 "$out/pipex.kxe" "$b/guest/xen/pipex.kxe"
sign_as acme xsrv 1.0 "$out/xsrv.kxe" "$b/guest/xen/ipct.kxe"
sign_as acme xcli 1.0 "$out/xcli.kxe" "$b/guest/xen/ipct.kxe"
sign_as acme xsig 1.0 "$out/sigt.kxe" "$b/guest/xen/sigt.kxe"
sign_as acme xsig 1.0 "$out/sigx.kxe" "$b/guest/xen/sigx.kxe"
# SDK programs built with kx-cc --backend xen (dom0/posix.sh)
sign_as acme xposix 1.0 "$out/xposix.kxe" "$b/tests/libc/xen/stdio.kxe"
sign_as acme xhostdirs 1.0 "$out/xhostdirs.kxe" "$b/tests/libc/xen/hostdirs.kxe"
# lib/: the library signed as the policy wants; badlib/: the same bytes unsigned
sign_as libc-team libkvmath 1.16.2 "$out/lib/libkvmath.so" "$b/guest/libkvmath.so"
cp "$b/guest/libkvmath.so" "$out/badlib/libkvmath.so"
sign_as acme libacme-log 3.3 "$out/lib/libacme-log.so" "$b/guest/libacme-log.so"
# online update: updt boots with libupd 1.16 and gets 1.18 under load
sign_as acme updt 1.0 "$out/updt.kxe" "$b/guest/xen/updt.kxe"
sign_as libc-team libupd 1.16 "$out/lib/libupd.so" "$b/guest/upd/libupd-116.so"
sign_as libc-team libupd 1.18 "$out/libupd-1.18.so" "$b/guest/upd/libupd-118.so"
