#!/usr/bin/python3
"""Generate kxsign's fuzz seeds and hostile regression inputs.

usage: mkcorpus.py KXSIGN_BINARY

Writes (relative to the repository root):
  fuzz/corpus/sigsec/   a minimal unsigned and a minimal signed ELF64 x86-64 .so
  fuzz/regress/sigsec/  hostile ELF files, named exitN-WHAT.elf, where N is the
                        exit status `kxsign verify -p tests/data/signer/regress.pub`
                        must give (1: verification failed, 2: malformed)
  fuzz/corpus/keyfile/  the regression key files
  fuzz/regress/keyfile/ hostile key files, named pub-WHAT / sec-WHAT
Inputs the fuzzer found are kept beside these as exitN-fuzz-WHAT.elf (not
made by this script).  exit2-presign-dynamic-outside-load.elf is not made
here either: it is libkxtest.so with a copy of its dynamic section appended
and PT_DYNAMIC's p_offset pointed at the copy, signed with regress.sec by the
kxsign of before the fix (which accepted it), then its DT_RELASZ cut in the
copy; today's kxsign refuses to sign such a file, so it cannot be remade.  The signing key is tests/data/signer/regress.{pub,sec} (an unencrypted test
key, created on the first run).  The generated files are committed; this
script documents how each one was made.
"""
import base64
import os
import random
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(ROOT, "tests", "data", "signer")
PUB = os.path.join(DATA, "regress.pub")
SEC = os.path.join(DATA, "regress.sec")


def minimal_elf():
    """ELF header, one PT_LOAD over header + .text, and .text, .symtab,
    .strtab, .shstrtab sections, then the section header table."""
    text = b"\x31\xc0\xc3" + bytes(13)
    strtab = b"\0demo\0"
    shstrtab = b"\0.text\0.symtab\0.strtab\0.shstrtab\0"
    text_off = 0x78
    symtab_off = 0x88
    symtab = bytes(24) + struct.pack("<IBBHQQ", 1, 0x12, 0, 1, text_off, len(text))
    strtab_off = symtab_off + len(symtab)
    shstr_off = strtab_off + len(strtab)
    shoff = (shstr_off + len(shstrtab) + 7) & ~7

    def shdr(name, sh_type, flags, addr, off, size, link=0, info=0, align=1, entsize=0):
        return struct.pack("<IIQQQQIIQQ", name, sh_type, flags, addr, off, size, link, info,
                           align, entsize)

    shdrs = shdr(0, 0, 0, 0, 0, 0) + \
        shdr(1, 1, 6, text_off, text_off, len(text), align=16) + \
        shdr(7, 2, 0, 0, symtab_off, len(symtab), link=3, info=1, align=8, entsize=24) + \
        shdr(15, 3, 0, 0, strtab_off, len(strtab)) + \
        shdr(23, 3, 0, 0, shstr_off, len(shstrtab))
    ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + struct.pack(
        "<HHIQQQIHHHHHH", 3, 62, 1, text_off, 64, shoff, 0, 64, 56, 1, 64, 5, 4)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, 0, 0, text_off + len(text),
                       text_off + len(text), 0x1000)
    body = ehdr + phdr + text + symtab + strtab + shstrtab
    return body + bytes(shoff - len(body)) + shdrs


class Elf:
    def __init__(self, data):
        self.d = bytearray(data)

    def u(self, fmt, off):
        return struct.unpack_from(fmt, self.d, off)[0]

    def put(self, fmt, off, value):
        struct.pack_into(fmt, self.d, off, value)
        return self

    @property
    def shoff(self):
        return self.u("<Q", 0x28)

    def sh(self, i):
        return self.shoff + 64 * i

    def sig_index(self):
        for i in range(self.u("<H", 0x3c)):
            if self.u("<I", self.sh(i) + 4) == 0x80004B58:
                return i
        raise RuntimeError("no .kxsig")

    def sig_off(self):
        return self.u("<Q", self.sh(self.sig_index()) + 24)

    def add_sig_copy(self):
        """A second, distinct .kxsig section: its bytes and a new section
        header table (old headers + a copy of the .kxsig header) appended."""
        i, n = self.sig_index(), self.u("<H", 0x3c)
        data = self.d[self.sig_off():self.sig_off() + 2248]
        table = bytearray(self.d[self.shoff:self.shoff + 64 * n] + self.d[self.sh(i):self.sh(i) + 64])
        self.d += bytes((-len(self.d)) % 8)
        struct.pack_into("<Q", table, 64 * n + 24, len(self.d))
        self.d += data + bytes((-len(data)) % 8)
        self.put("<Q", 0x28, len(self.d)).put("<H", 0x3c, n + 1)
        self.d += table
        return self

    def bytes(self):
        return bytes(self.d)


def run(*args, env=None):
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL)


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def sigsec_files(kxsign, tmp):
    unsigned = minimal_elf()
    path = os.path.join(tmp, "min.so")
    with open(path, "wb") as f:
        f.write(unsigned)
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    run(kxsign, "sign", "-s", SEC, "--name", "libmin", "--version", "1.0", "-t", "regress",
        path, env=env)
    with open(path, "rb") as f:
        signed = f.read()
    s = lambda: Elf(signed)  # noqa: E731
    sig = Elf(signed).sig_off()
    loads = Elf(signed)
    loads.d += bytes((-len(loads.d)) % 8)
    loads.put("<Q", 0x20, len(loads.d)).put("<H", 0x38, 40)
    for _ in range(40):
        loads.d += struct.pack("<IIQQQQQQ", 1, 4, 0, 0, 0, 64, 64, 0x1000)
    rng = random.Random(1)
    hostile = {
        "exit1-unsigned": unsigned,
        "exit1-tampered-text": s().put("<B", 0x79, 0x90).bytes(),
        "exit1-tampered-symtab": s().put("<B", 0x88 + 24 + 8, 0x77).bytes(),
        "exit1-tampered-name": s().put("<B", sig + 40, ord("X")).bytes(),
        "exit1-tampered-signature": s().put("<B", sig + 2200, 0).bytes(),
        "exit2-empty": b"",
        "exit2-truncated-header": signed[:40],
        "exit2-truncated-half": signed[:len(signed) // 2],
        "exit2-garbage": bytes(rng.randrange(256) for _ in range(512)),
        "exit2-elf32": s().put("<B", 4, 1).bytes(),
        "exit2-big-endian": s().put("<B", 5, 2).bytes(),
        "exit2-aarch64": s().put("<H", 0x12, 183).bytes(),
        "exit2-relocatable": s().put("<H", 0x10, 1).bytes(),
        "exit2-phdrs-outside": s().put("<Q", 0x20, 1 << 40).bytes(),
        "exit2-phnum-huge": s().put("<H", 0x38, 0xFFFF).bytes(),
        "exit2-shoff-overflow": s().put("<Q", 0x28, 2**64 - 16).bytes(),
        "exit2-no-section-headers": s().put("<Q", 0x28, 0).put("<H", 0x3c, 0).bytes(),
        "exit2-shstrndx-out-of-range": s().put("<H", 0x3e, 77).bytes(),
        "exit2-section-outside": s().put("<Q", Elf(signed).sh(2) + 24, 1 << 40).bytes(),
        "exit2-section-size-overflow": s().put("<Q", Elf(signed).sh(2) + 32, 2**64 - 1).bytes(),
        "exit2-sections-overlap": s().put("<Q", Elf(signed).sh(3) + 24, 0x90).bytes(),
        "exit2-load-outside": s().put("<Q", 0x40 + 32, 1 << 50).bytes(),
        "exit2-sig-size-huge": s().put("<Q", s().sh(s().sig_index()) + 32, 2**62).bytes(),
        "exit2-sig-in-load": s().put("<Q", 0x40 + 32, len(signed)).bytes(),
        "exit2-two-sig-sections": s().add_sig_copy().bytes(),
        "exit2-sig-bad-magic": s().put("<B", sig, 0).bytes(),
        "exit2-sig-region-count-0": s().put("<H", sig + 14, 0).bytes(),
        "exit2-sig-region-count-33": s().put("<H", sig + 14, 33).bytes(),
        "exit2-sig-unused-region": s().put("<B", sig + 2183, 1).bytes(),
        "exit2-sig-name-unterminated": s().put("<64s", sig + 40, b"A" * 64).bytes(),
        "exit2-symtab-bad-link": s().put("<I", Elf(signed).sh(2) + 40, 1).bytes(),
        "exit2-too-many-loads": loads.bytes(),
    }
    for name, data in hostile.items():
        write(os.path.join(ROOT, "fuzz", "regress", "sigsec"), name + ".elf", data)
    write(os.path.join(ROOT, "fuzz", "corpus", "sigsec"), "min-unsigned.so", unsigned)
    write(os.path.join(ROOT, "fuzz", "corpus", "sigsec"), "min-signed.so", signed)


def keyfile(comment, raw):
    return b"untrusted comment: " + comment + b"\n" + base64.b64encode(raw) + b"\n"


def keyfile_files(kxsign, tmp):
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write("regress\n")
    enc_pub, enc_sec = os.path.join(tmp, "e.pub"), os.path.join(tmp, "e.sec")
    run(kxsign, "keygen", "-p", enc_pub, "-s", enc_sec, env=dict(os.environ,
                                                              KXSIGN_PASSPHRASE_FILE=pw))
    corpus = os.path.join(ROOT, "fuzz", "corpus", "keyfile")
    for src, name in ((PUB, "pub"), (SEC, "sec-plain"), (enc_sec, "sec-encrypted")):
        with open(src, "rb") as f:
            write(corpus, name, f.read())
    with open(PUB, "rb") as f:
        pub = base64.b64decode(f.read().split(b"\n")[1])
    with open(SEC, "rb") as f:
        sec = base64.b64decode(f.read().split(b"\n")[1])
    with open(enc_sec, "rb") as f:
        enc = base64.b64decode(f.read().split(b"\n")[1])

    def patch(raw, off, value):
        b = bytearray(raw)
        b[off:off + len(value)] = value
        return bytes(b)

    hostile = {
        "pub-empty": b"",
        "pub-no-newline": b"untrusted comment: x",
        "pub-no-prefix": b"comment: x\n" + base64.b64encode(pub) + b"\n",
        "pub-bad-base64": b"untrusted comment: x\n!!!!\n",
        "pub-short": keyfile(b"x", pub[:41]),
        "pub-long": keyfile(b"x", pub + b"\0"),
        "pub-wrong-alg": keyfile(b"x", b"RS" + pub[2:]),
        "pub-keyid-mismatch": keyfile(b"x", patch(pub, 2, b"\0")),
        "pub-trailing-garbage": keyfile(b"x", pub) + b"more\n",
        "pub-nul-byte": keyfile(b"x\0y", pub),
        "pub-comment-too-long": keyfile(b"c" * 300, pub),
        "pub-comment-control": keyfile(b"a\x1b[31mred", pub),
        "pub-huge": b"untrusted comment: " + b"A" * 8000 + b"\n",
        "sec-wrong-kdf": keyfile(b"x", patch(sec, 2, b"ZZ")),
        "sec-plain-with-salt": keyfile(b"x", patch(sec, 12, b"\1")),
        "sec-reserved": keyfile(b"x", patch(sec, 28, b"\1")),
        "sec-inconsistent": keyfile(b"x", patch(sec, 88 + 8 + 40, b"\xff")),
        "sec-keyid-mismatch": keyfile(b"x", patch(sec, 4, b"\0\0")),
        "sec-memlimit-huge": keyfile(b"x", patch(enc, 40, struct.pack("<Q", 2**63))),
        "sec-opslimit-huge": keyfile(b"x", patch(enc, 32, struct.pack("<Q", 2**40))),
        "sec-short": keyfile(b"x", sec[:100]),
    }
    for name, data in hostile.items():
        write(os.path.join(ROOT, "fuzz", "regress", "keyfile"), name, data)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    kxsign = os.path.abspath(argv[1])
    if not os.path.exists(SEC):
        run(kxsign, "keygen", "--no-passphrase", "-c", "kx regression test key", "-p", PUB,
            "-s", SEC)
    with tempfile.TemporaryDirectory() as tmp:
        sigsec_files(kxsign, tmp)
        keyfile_files(kxsign, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
