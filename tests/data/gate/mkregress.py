#!/usr/bin/env python3
"""Write the hostile audit-log inputs of fuzz/regress/audit/ (run from the
repository root; the outputs are committed).  Each is a log the reader must
report line by line without crashing, looping or reading out of bounds."""
import os

OUT = "fuzz/regress/audit"
GOOD = (b'{"v":1,"seq":1,"time":"2024-01-02T03:04:05.678Z","op":"link",'
        b'"subject":{"kind":"pvm","pvm":1,"app":"notes","family":1,"depth":0},'
        b'"object":{"pvm":1,"app":"notes","lib":"libgood","version":"1.5"},'
        b'"decision":"allow","stage":"policy","reason":"ok",'
        b'"rule":{"file":"n.yaml","line":15,"col":5,"desc":"d"}}')


def with_extra(extra: bytes) -> bytes:
    return GOOD[:-1] + b"," + extra + b"}"


CASES = {
    "deep-nesting": b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"\n",
    "deep-arrays": b"[" * 100000 + b"\n",
    "many-values": with_extra(b'"x":[' + b"0," * 20000 + b"0]") + b"\n",
    "duplicate-decision": with_extra(b'"decision":"deny"') + b"\n",
    "surrogates": b"\n".join(with_extra(b'"x":"' + s + b'"') for s in
                             [b"\\ud800", b"\\udfff", b"\\ud800\\u0041", b"\\ud800\\", b"\\u"]) + b"\n",
    "bad-utf8": b"\n".join(with_extra(b'"x":"' + s + b'"') for s in
                           [b"\xff", b"\xc0\x80", b"\xe0\x80\x80", b"\xed\xa0\x80",
                            b"\xf4\x90\x80\x80", b"\xf0\x9f\x98", b"\x80"]) + b"\n",
    "numbers": b"\n".join(GOOD.replace(b'"seq":1', b'"seq":' + n) for n in
                          [b"18446744073709551616", b"99999999999999999999999", b"-0",
                           b"1e999", b"0.0", b"00", b"-", b"1.", b""]) + b"\n",
    "nul-bytes": GOOD[:40] + b"\x00" + GOOD[40:] + b"\n\x00\n" + GOOD + b"\n",
    "long-line": with_extra(b'"x":"' + b"A" * 70000 + b'"') + b"\n" + GOOD + b"\n",
    "cr-only": GOOD + b"\r" + GOOD + b"\r\r\n\r",
    "no-newline-tail": GOOD + b"\n" + GOOD[:100],
    "control-in-strings": with_extra(b'"x":"\x1b[2J\x07"') + b"\n",
    "wrong-types": b"\n".join(GOOD.replace(a, b) for a, b in [
        (b'"v":1', b'"v":"1"'), (b'"op":"link"', b'"op":7'),
        (b'"subject":{', b'"subject":[{'), (b'"line":15', b'"line":4294967296'),
        (b'"decision":"allow"', b'"decision":null'), (b'"reason":"ok"', b'"reason":{}'),
    ]) + b"\n",
    "unterminated": b'{"v":1,"reason":"abc\n{"v":\n{\n[\n"\n\\\n',
}

# The chain verifier (gate_audit_verify): format-2 lines whose chain or seal
# members are malformed or almost right.
ZERO = b"0" * 64
HEAD = b'{"v":2,"seq":1,"prev":"' + ZERO + b'","time":"2024-01-02T03:04:05.678Z","op":"audit"'
SIG = b',"sig":"' + b"ab" * 64 + b'"}'
CASES.update({
    "chain-prev-variants": b"\n".join(HEAD.replace(ZERO, p) + b',"event":"open"}' for p in
                                      [ZERO.upper(), ZERO[:63], ZERO + b"0", b"g" * 64, b""]) + b"\n",
    "chain-seal-variants": b"\n".join([
        HEAD + b',"event":"open"}',
        HEAD.replace(b'"seq":1', b'"seq":2') + b',"event":"seal","key":"8046f4a304ecea27"' + SIG,
        HEAD.replace(b'"seq":1', b'"seq":2') + b',"event":"seal","key":"8046f4a304ecea27"' + SIG[:-3] + b'"}',
        HEAD.replace(b'"seq":1', b'"seq":2') + b',"event":"seal","key":"8046f4a304ecea2"' + SIG,
        HEAD.replace(b'"seq":1', b'"seq":2') + b',"event":"close","sig":"' + b"zz" * 64 + b'"}',
        HEAD.replace(b'"seq":1', b'"seq":2') + b',"event":"rotate"}',
        HEAD.replace(b'"seq":1', b'"seq":18446744073709551615') + b',"event":"seal"}',
        HEAD + b',"event":null}', HEAD + b',"event":"open","count":-1}',
    ]) + b"\n",
    "chain-seq-wrap": b"\n".join(HEAD.replace(b'"seq":1', b'"seq":' + n) + b',"event":"open"}' for n in
                                 [b"18446744073709551615", b"0", b"18446744073709551614"]) + b"\n",
})

os.makedirs(OUT, exist_ok=True)
for name, data in CASES.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
