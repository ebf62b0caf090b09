#!/usr/bin/python3
"""Independent verifier for kxsign signatures, written only from
docs/signature-format.md (it shares no code with signer/): Python's hashlib
for BLAKE2b and python3-cryptography (Debian's) for Ed25519.

usage: verify.py PUBKEY FILE
Prints "valid <name> <version> <keyid> <content digest>" and exits 0, or
"invalid: <reason>" and exits 1.  Exit 2 on a malformed key or ELF file.
"""
import base64
import hashlib
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SECTION_SIZE = 2248
SIG_OFFSET = 2184
REGIONS_OFFSET = 392
REGION_SIZE = 56
SIG_DOMAIN = b"KXSIG-ELF-SIGNATURE-V1\0"
CONTENT_DOMAIN = b"KXSIG-CONTENT-DIGEST-V1\0"


class Malformed(Exception):
    pass


def b2b256(data):
    return hashlib.blake2b(data, digest_size=32).digest()


def load_pubkey(path):
    """Section 1: comment line, base64 of alg(2) keyid(8) pk(32)."""
    with open(path, "rb") as f:
        lines = f.read().decode("ascii").splitlines()
    if len(lines) < 2 or not lines[0].startswith("untrusted comment: "):
        raise Malformed("bad public key file")
    raw = base64.b64decode(lines[1].strip(), validate=True)
    if len(raw) != 42 or raw[0:2] != b"Ed":
        raise Malformed("bad public key")
    keyid, pk = raw[2:10], raw[10:42]
    if hashlib.blake2b(pk, digest_size=8).digest() != keyid:
        raise Malformed("key id does not match the key")
    return keyid, pk


def inside(off, size, length):
    return 0 <= off and 0 <= size and off + size <= length


class Elf:
    """Section 5 step 1: just the headers the format needs, bounds-checked."""

    def __init__(self, data):
        self.data = data
        if len(data) < 64 or data[0:4] != b"\x7fELF":
            raise Malformed("not an ELF file")
        if data[4] != 2 or data[5] != 1:
            raise Malformed("not ELF64 little-endian")
        (e_type, e_machine, _ver, _entry, self.phoff, self.shoff, _flags, ehsize,
         phentsize, self.phnum, shentsize, self.shnum, self.shstrndx) = struct.unpack_from(
             "<HHIQQQIHHHHHH", data, 16)
        if e_machine != 62 or e_type not in (2, 3) or ehsize != 64:
            raise Malformed("not an x86-64 shared object or executable")
        if phentsize != 56 or shentsize != 64:
            raise Malformed("bad header entry sizes")
        if not inside(self.phoff, 56 * self.phnum, len(data)) or \
                not inside(self.shoff, 64 * self.shnum, len(data)):
            raise Malformed("header table outside the file")
        if self.shstrndx >= self.shnum:
            raise Malformed("bad e_shstrndx")

    def phdrs(self):
        for i in range(self.phnum):
            p_type, _flags, p_offset, _vaddr, _paddr, p_filesz = struct.unpack_from(
                "<IIQQQQ", self.data, self.phoff + 56 * i)
            yield p_type, p_offset, p_filesz

    def shdr(self, i):
        name, sh_type, flags, _addr, offset, size, link = struct.unpack_from(
            "<IIQQQQI", self.data, self.shoff + 64 * i)
        return {"name": name, "type": sh_type, "flags": flags, "offset": offset,
                "size": size, "link": link}

    def section_name(self, sh):
        strtab = self.shdr(self.shstrndx)
        start = strtab["offset"] + sh["name"]
        end = self.data.index(b"\0", start)
        return self.data[start:end]

    def region(self, kind, index, off, size):
        if not inside(off, size, len(self.data)):
            raise Malformed("region outside the file")
        return (kind, index, off, size, b2b256(self.data[off:off + size]))

    def regions(self):
        """Section 4, canonical order."""
        out = [self.region(1, 0, 0, 64), self.region(2, 0, self.phoff, 56 * self.phnum)]
        loads = [(off, size) for (t, off, size) in self.phdrs() if t == 1]
        out += [self.region(3, i, off, size) for i, (off, size) in enumerate(loads)]
        out.append(self.region(4, 0, self.shoff, 64 * self.shnum))
        names = self.shdr(self.shstrndx)
        out.append(self.region(5, self.shstrndx, names["offset"], names["size"]))
        for i in range(self.shnum):
            sh = self.shdr(i)
            if sh["type"] == 2:
                strtab = self.shdr(sh["link"])
                out.append(self.region(6, i, sh["offset"], sh["size"]))
                out.append(self.region(7, sh["link"], strtab["offset"], strtab["size"]))
        for i in range(self.shnum):
            sh = self.shdr(i)
            if sh["type"] == 0x80004b59:  # the pointer map, last
                out.append(self.region(8, i, sh["offset"], sh["size"]))
        return out

    def content_digest(self, regions):
        """Section 6: region hashes over the file with e_shoff, e_shnum and
        e_shstrndx zeroed."""
        normalized = bytearray(self.data)
        normalized[0x28:0x30] = bytes(8)
        normalized[0x3c:0x40] = bytes(4)
        h = hashlib.blake2b(digest_size=32)
        h.update(CONTENT_DOMAIN)
        for kind, index, off, size, _digest in regions:
            if kind in (4, 5, 8):
                continue
            h.update(struct.pack("<HIQ", kind, index, size))
            h.update(b2b256(bytes(normalized[off:off + size])))
        return h.hexdigest()


def find_section(elf):
    """Section 2: exactly one .kxsig section, of the right type and size."""
    found = [elf.shdr(i) for i in range(elf.shnum)
             if elf.section_name(elf.shdr(i)) == b".kxsig"]
    if len(found) != 1:
        raise Malformed("%d .kxsig sections" % len(found))
    sh = found[0]
    if sh["type"] != 0x80004B58 or sh["size"] != SECTION_SIZE or sh["flags"] & 2:
        raise Malformed("bad .kxsig section header")
    if not inside(sh["offset"], SECTION_SIZE, len(elf.data)):
        raise Malformed(".kxsig outside the file")
    return elf.data[sh["offset"]:sh["offset"] + SECTION_SIZE]


def text_field(raw):
    end = raw.index(b"\0")
    if any(raw[end:]):
        raise Malformed("text field not NUL-padded")
    return raw[:end].decode("utf-8")


def verify(pubkey_path, file_path):
    keyid, pk = load_pubkey(pubkey_path)
    with open(file_path, "rb") as f:
        elf = Elf(f.read())
    sec = find_section(elf)
    (magic, version, sig_alg, hash_alg, count, size, reserved, sig_keyid,
     _timestamp) = struct.unpack_from("<8sHHHHII8sQ", sec, 0)
    if magic != b"KXSIG\0v1" or version != 1 or sig_alg != 1 or hash_alg != 1 or \
            size != SECTION_SIZE or reserved != 0 or not 1 <= count <= 32:
        raise Malformed("bad .kxsig header")
    unused = sec[REGIONS_OFFSET + REGION_SIZE * count:SIG_OFFSET]
    if any(unused):
        raise Malformed("unused region entries not zero")
    name, lib_version = text_field(sec[40:104]), text_field(sec[104:136])
    if sig_keyid != keyid:
        return False, "signed by key %s, not %s" % (sig_keyid.hex(), keyid.hex())
    message = SIG_DOMAIN + sec[0:SIG_OFFSET]
    try:
        Ed25519PublicKey.from_public_bytes(pk).verify(sec[SIG_OFFSET:SECTION_SIZE], message)
    except InvalidSignature:
        return False, "bad Ed25519 signature"
    signed = []
    for i in range(count):
        kind, _res, index, off, rsize, digest = struct.unpack_from(
            "<HHIQQ32s", sec, REGIONS_OFFSET + REGION_SIZE * i)
        signed.append((kind, index, off, rsize, digest))
    actual = elf.regions()
    if signed != actual:
        changed = [r for r in signed if r not in actual] or actual
        kind, index, off, rsize, _ = changed[0]
        return False, "region kind %d index %d (offset %#x, %d bytes) differs" % (
            kind, index, off, rsize)
    return True, "%s %s %s %s" % (name, lib_version, keyid.hex(), elf.content_digest(actual))


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        return 2
    try:
        ok, why = verify(argv[1], argv[2])
    except (Malformed, ValueError, struct.error, OSError) as e:
        print("malformed: %s" % e)
        return 2
    print(("valid " if ok else "invalid: ") + why)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
