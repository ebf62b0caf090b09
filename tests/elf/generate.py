#!/usr/bin/python3
"""Build the ELF loader's test inputs.

  tests/elf/generate.py            rebuild everything below (needs gcc, binutils)
  tests/elf/generate.py --check    rebuild into a temporary directory and fail if
                                   the hostile files differ from the committed ones

Outputs (committed, small):
  fuzz/corpus/elf/   the test libraries built from tests/elf/src/: fuzz seeds and
                     the inputs of tests/unit/test_elf_*.c; plus a regress-* copy
                     of each hostile file, so that AFL++ starts from them too
  fuzz/regress/elf/  one hostile file per case below, each made from a test
                     library by changing a few bytes; the file name says the case.
                     tests/unit/test_elf_regress.c asserts each one's message.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "tests", "elf", "src")
CORPUS = os.path.join(ROOT, "fuzz", "corpus", "elf")
REGRESS = os.path.join(ROOT, "fuzz", "regress", "elf")

# Small, reproducible objects: no libc, no build id, no page padding.
CFLAGS = ["-Os", "-fno-asynchronous-unwind-tables", "-fno-stack-protector", "-nostdlib",
          "-Wl,--build-id=none", "-Wl,-z,noseparate-code", "-Wl,-z,max-page-size=4096",
          "-Wl,--no-as-needed"]


def gcc(out, src, *args):
    cmd = ["gcc", *CFLAGS, *args, "-o", out, os.path.join(SRC, src)]
    subprocess.run(cmd, check=True)


def build(outdir):
    """Compile the test libraries into outdir (dependency order matters)."""
    o = lambda n: os.path.join(outdir, n)
    lib = ["-shared", "-fPIC"]
    gcc(o("libkxdep.so"), "kxdep.c", *lib, "-Wl,-soname,libkxdep.so", "-Wl,--hash-style=gnu")
    gcc(o("libkxtest.so"), "kxtest.c", *lib, "-Wl,-soname,libkxtest.so",
        "-Wl,--hash-style=both", "-L" + outdir, "-lkxdep")
    # The same code with packed relative relocations, SysV hash only, bind-now, stripped.
    gcc(o("libkxrelr.so"), "kxtest.c", *lib, "-s", "-Wl,-soname,libkxrelr.so",
        "-Wl,--hash-style=sysv", "-Wl,-z,pack-relative-relocs", "-Wl,-z,now",
        "-L" + outdir, "-lkxdep")
    gcc(o("kxpie.elf"), "kxpie.c", "-fPIE", "-pie", "-L" + outdir, "-lkxtest",
        "-Wl,-rpath-link," + outdir)
    gcc(o("kxexec.elf"), "kxexec.c", "-static", "-no-pie")
    gcc(o("libkxifunc.so"), "kxifunc.c", *lib, "-Wl,-soname,libkxifunc.so")
    # With DWARF, so that kxsign records a pointer map when it signs it.
    gcc(o("libkxptrmap.so"), "kxptrmap.c", *lib, "-g", "-O0", "-Wl,-soname,libkxptrmap.so")
    # A DT_NEEDED loop: b first without a dependency, then a -> b, then b -> a.
    loop = lib + ["-L" + outdir]
    gcc(o("libloopb.so"), "loop.c", *loop, "-DLOOP_NAME=loop_b", "-Wl,-soname,libloopb.so")
    gcc(o("libloopa.so"), "loop.c", *loop, "-DLOOP_NAME=loop_a", "-Wl,-soname,libloopa.so",
        "-lloopb")
    gcc(o("libloopb.so"), "loop.c", *loop, "-DLOOP_NAME=loop_b", "-Wl,-soname,libloopb.so",
        "-lloopa")


# ---- a minimal ELF64 editor ------------------------------------------------

PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_TLS, PT_GNU_RELRO = 1, 2, 3, 7, 0x6474e552
DT = dict(NULL=0, NEEDED=1, PLTRELSZ=2, PLTGOT=3, HASH=4, STRTAB=5, SYMTAB=6, RELA=7,
          RELASZ=8, RELAENT=9, STRSZ=10, SONAME=14, TEXTREL=22, JMPREL=23, RELR=36,
          DEBUG=21, GNU_HASH=0x6ffffef5)


class Elf:
    def __init__(self, data):
        self.d = bytearray(data)

    def u(self, fmt, off):
        return struct.unpack_from("<" + fmt, self.d, off)[0]

    def put(self, fmt, off, v):
        struct.pack_into("<" + fmt, self.d, off, v)

    # headers
    EH = dict(type=("H", 0x10), machine=("H", 0x12), entry=("Q", 0x18), phoff=("Q", 0x20),
              shoff=("Q", 0x28), phentsize=("H", 0x36), phnum=("H", 0x38),
              shentsize=("H", 0x3a), shnum=("H", 0x3c), shstrndx=("H", 0x3e))
    PH = dict(type=("I", 0), flags=("I", 4), offset=("Q", 8), vaddr=("Q", 16), filesz=("Q", 32),
              memsz=("Q", 40), align=("Q", 48))
    SH = dict(name=("I", 0), type=("I", 4), addr=("Q", 16), offset=("Q", 24), size=("Q", 32),
              link=("I", 40), entsize=("Q", 56))

    def eh(self, f, v=None):
        fmt, off = self.EH[f]
        return self.u(fmt, off) if v is None else self.put(fmt, off, v)

    def ph(self, i, f, v=None):
        fmt, off = self.PH[f]
        off += self.eh("phoff") + 56 * i
        return self.u(fmt, off) if v is None else self.put(fmt, off, v)

    def sh(self, i, f, v=None):
        fmt, off = self.SH[f]
        off += self.eh("shoff") + 64 * i
        return self.u(fmt, off) if v is None else self.put(fmt, off, v)

    def phdrs(self, ptype):
        return [i for i in range(self.eh("phnum")) if self.ph(i, "type") == ptype]

    def v2o(self, vaddr):
        for i in self.phdrs(PT_LOAD):
            va, fs = self.ph(i, "vaddr"), self.ph(i, "filesz")
            if va <= vaddr < va + fs:
                return self.ph(i, "offset") + vaddr - va
        raise KeyError(hex(vaddr))

    def section(self, name):
        names = self.sh(self.eh("shstrndx"), "offset")
        for i in range(self.eh("shnum")):
            off = names + self.sh(i, "name")
            if self.d[off:off + len(name) + 1] == name.encode() + b"\0":
                return i
        raise KeyError(name)

    # dynamic section: list of (file offset of the entry, tag, value)
    def dyn(self):
        p = self.phdrs(PT_DYNAMIC)[0]
        off, n = self.ph(p, "offset"), self.ph(p, "filesz") // 16
        return [(off + 16 * i, self.u("q", off + 16 * i), self.u("Q", off + 16 * i + 8))
                for i in range(n)]

    def dyn_get(self, tag):
        return next(e for e in self.dyn() if e[1] == DT[tag])

    def dyn_set(self, tag, value=None, newtag=None):
        off = self.dyn_get(tag)[0]
        if newtag is not None:
            self.put("q", off, DT[newtag])
        if value is not None:
            self.put("Q", off + 8, value)

    # relocations of .rela.dyn (or the PLT table): file offsets of entries
    def relas(self, plt=False):
        addr = self.dyn_get("JMPREL" if plt else "RELA")[2]
        size = self.dyn_get("PLTRELSZ" if plt else "RELASZ")[2]
        base = self.v2o(addr)
        return [base + 24 * i for i in range(size // 24)]

    def rela_type(self, off):
        return self.u("Q", off + 8) & 0xffffffff

    def set_rela(self, off, offset=None, sym=None, rtype=None):
        info = self.u("Q", off + 8)
        if sym is not None:
            info = (sym << 32) | (info & 0xffffffff)
        if rtype is not None:
            info = (info & ~0xffffffff) | rtype
        self.put("Q", off + 8, info)
        if offset is not None:
            self.put("Q", off, offset)

    def dynsym_off(self, name):
        sym = self.v2o(self.dyn_get("SYMTAB")[2])
        strs = self.v2o(self.dyn_get("STRTAB")[2])
        for i in range(1, 4096):
            so = sym + 24 * i
            n = self.u("I", so)
            if self.d[strs + n:strs + n + len(name) + 1] == name.encode() + b"\0":
                return so
        raise KeyError(name)

    def load_index(self, flag):
        """Program header index of the first PT_LOAD with p_flags & flag."""
        return next(i for i in self.phdrs(PT_LOAD) if self.ph(i, "flags") & flag)


PF_X, PF_W, PF_R = 1, 2, 4


def first_rela(e, rtype):
    return next(o for o in e.relas() + e.relas(plt=True) if e.rela_type(o) == rtype)


def gnu_hash(e):
    """File offset of DT_GNU_HASH and its header fields."""
    off = e.v2o(e.dyn_get("GNU_HASH")[2])
    nb, symoff, bloom, _ = struct.unpack_from("<4I", e.d, off)
    return off, nb, symoff, bloom


def sysv_hash(e):
    off = e.v2o(e.dyn_get("HASH")[2])
    nb, nc = struct.unpack_from("<2I", e.d, off)
    return off, nb, nc


def sysv_loop(e):
    """Every bucket starts at symbol 1 and every chain points at itself: the
    table passes the range checks, but lookups must detect the loop."""
    off, nb, nc = sysv_hash(e)
    for k in range(nb):
        e.put("I", off + 8 + 4 * k, 1)
    for k in range(1, nc):
        e.put("I", off + 8 + 4 * nb + 4 * k, k)


def gnu_set_bucket(e, value):
    off, nb, _, bloom = gnu_hash(e)
    buckets = off + 16 + 8 * bloom
    i = next(k for k in range(nb) if e.u("I", buckets + 4 * k) != 0)
    e.put("I", buckets + 4 * i, value)


def text_vaddr(e):
    return e.ph(e.load_index(PF_X), "vaddr") + 0x10


def writable_data(e):
    """A writable address that is not the dynamic section or GOT[0..2]."""
    return e.dyn_get("PLTGOT")[2] + 24


# Each case: file name -> (base library, mutation).  Keep names saying the case.
CASES = {
    # ELF header
    "ehdr-truncated.so": ("libkxdep.so", lambda e: e.d.__delitem__(slice(40, None))),
    "bad-magic.so": ("libkxdep.so", lambda e: e.put("B", 1, ord("X"))),
    "elf32-class.so": ("libkxdep.so", lambda e: e.put("B", 4, 1)),
    "wrong-machine.so": ("libkxdep.so", lambda e: e.eh("machine", 3)),
    "bad-type-rel.so": ("libkxdep.so", lambda e: e.eh("type", 1)),
    "bad-phentsize.so": ("libkxdep.so", lambda e: e.eh("phentsize", 32)),
    "bad-shentsize.so": ("libkxdep.so", lambda e: e.eh("shentsize", 40)),
    "phdr-table-past-eof.so": ("libkxdep.so", lambda e: e.eh("phoff", len(e.d) - 56)),
    "shdr-table-past-eof.so": ("libkxdep.so", lambda e: e.eh("shoff", len(e.d) - 64)),
    "phnum-huge.so": ("libkxdep.so", lambda e: e.eh("phnum", 0xfff0)),
    "shnum-huge.so": ("libkxdep.so", lambda e: e.eh("shnum", 0xfff0)),
    "exec-entry-outside.elf": ("kxexec.elf", lambda e: e.eh("entry", 0x10)),
    # program headers
    "filesz-gt-memsz.so": ("libkxtest.so", lambda e: e.ph(
        e.load_index(PF_W), "filesz", e.ph(e.load_index(PF_W), "memsz") + 0x1000)),
    "segment-past-eof.so": ("libkxtest.so", lambda e: e.ph(
        e.load_index(PF_W), "offset", len(e.d) - 8)),
    "vaddr-wraps.so": ("libkxtest.so", lambda e: (
        e.ph(e.load_index(PF_W), "vaddr", 0xfffffffffffff000),
        e.ph(e.load_index(PF_W), "memsz", 0x2000))),
    "load-unsorted.so": ("libkxtest.so", lambda e: swap_loads(e)),
    "load-overlap.so": ("libkxtest.so", lambda e: e.ph(
        e.load_index(PF_W), "vaddr", e.ph(e.phdrs(PT_LOAD)[0], "vaddr") + 0x10)),
    "wx-segment.so": ("libkxtest.so", lambda e: e.ph(e.load_index(PF_X), "flags",
                                                      PF_R | PF_W | PF_X)),
    "align-not-pow2.so": ("libkxtest.so", lambda e: e.ph(e.load_index(PF_X), "align", 0x1800)),
    "dynamic-outside-load.so": ("libkxtest.so", lambda e: e.ph(
        e.phdrs(PT_DYNAMIC)[0], "vaddr", 0x7fff0000)),
    # Headers found by p_offset must point at the PT_LOAD bytes p_vaddr names
    # (only those are signed): a copy elsewhere in the file is refused.
    "dynamic-offset-outside-load.so": ("libkxtest.so", lambda e: copy_outside(e, PT_DYNAMIC)),
    "interp-offset-outside-load.elf": ("kxpie.elf", lambda e: copy_outside(e, PT_INTERP)),
    "relro-offset-mismatch.so": ("libkxtest.so", lambda e: e.ph(
        e.phdrs(PT_GNU_RELRO)[0], "offset", e.ph(e.phdrs(PT_GNU_RELRO)[0], "offset") + 8)),
    "tls-offset-mismatch.so": ("libkxtest.so", lambda e: e.ph(
        e.phdrs(PT_TLS)[0], "offset", 0)),
    "interp-unterminated.elf": ("kxpie.elf", lambda e: e.put(
        "B", e.ph(e.phdrs(PT_INTERP)[0], "offset") + e.ph(e.phdrs(PT_INTERP)[0], "filesz") - 1,
        ord("x"))),
    # section headers
    "section-past-eof.so": ("libkxtest.so", lambda e: e.sh(e.section(".symtab"), "offset",
                                                            len(e.d) - 8)),
    "symtab-link-bad.so": ("libkxtest.so", lambda e: e.sh(e.section(".symtab"), "link", 0)),
    # dynamic section
    "dynamic-unterminated.so": ("libkxtest.so", lambda e: [
        e.put("q", off, DT["DEBUG"]) for off, tag, _ in e.dyn() if tag == 0]),
    "dynamic-duplicate-strtab.so": ("libkxtest.so", lambda e: e.dyn_set(
        "SONAME", e.dyn_get("STRTAB")[2], newtag="STRTAB")),
    "dynamic-outside-image.so": ("libkxtest.so", lambda e: e.dyn_set("STRTAB", 0x7fff0000)),
    "strtab-not-terminated.so": ("libkxtest.so", lambda e: e.dyn_set(
        "STRSZ", e.dyn_get("STRSZ")[2] - 1)),
    "needed-name-outside-strtab.so": ("libkxtest.so", lambda e: e.dyn_set(
        "NEEDED", e.dyn_get("STRSZ")[2] + 100)),
    "textrel.so": ("libkxtest.so", lambda e: e.dyn_set("SONAME", 0, newtag="TEXTREL")),
    "pltgot-readonly.so": ("libkxtest.so", lambda e: e.dyn_set("PLTGOT", text_vaddr(e))),
    "relasz-huge.so": ("libkxtest.so", lambda e: e.dyn_set("RELASZ", 24 << 23)),
    "relaent-wrong.so": ("libkxtest.so", lambda e: e.dyn_set("RELAENT", 16)),
    # symbols and hash tables
    "dynsym-name-outside-strtab.so": ("libkxtest.so", lambda e: e.put(
        "I", e.dynsym_off("kxtest_add"), 0xffffff)),
    "symbol-outside-image.so": ("libkxtest.so", lambda e: e.put(
        "Q", e.dynsym_off("kxtest_global") + 8, 0x7fff0000)),
    "tls-symbol-outside.so": ("libkxtest.so", lambda e: e.put(
        "Q", e.dynsym_off("kxtest_tls") + 16, 0x10000)),
    "sysv-bucket-out-of-range.so": ("libkxtest.so", lambda e: e.put(
        "I", sysv_hash(e)[0] + 8, sysv_hash(e)[2] + 5)),
    "sysv-chain-out-of-range.so": ("libkxtest.so", lambda e: e.put(
        "I", sysv_hash(e)[0] + 8 + 4 * sysv_hash(e)[1] + 4, sysv_hash(e)[2] + 5)),
    "sysv-nchain-huge.so": ("libkxtest.so", lambda e: e.put("I", sysv_hash(e)[0] + 4, 0x7fffffff)),
    "sysv-chain-loop.so": ("libkxrelr.so", lambda e: sysv_loop(e)),
    "gnu-bucket-below-symoffset.so": ("libkxtest.so", lambda e: gnu_set_bucket(e, 1)),
    "gnu-chain-past-segment.so": ("libkxtest.so", lambda e: gnu_set_bucket(
        e, gnu_hash(e)[2] + 50000)),
    "gnu-bloom-not-pow2.so": ("libkxtest.so", lambda e: e.put("I", gnu_hash(e)[0] + 8, 3)),
    "gnu-bloom-shift-too-big.so": ("libkxtest.so", lambda e: e.put("I", gnu_hash(e)[0] + 12, 38)),
    "gnu-symoffset-huge.so": ("libkxdep.so", lambda e: e.put("I", gnu_hash(e)[0] + 4,
                                                              0x7fffffff)),
    # relocations
    "reloc-symbol-index.so": ("libkxtest.so", lambda e: e.set_rela(
        first_rela(e, 6), sym=0xffff)),
    "reloc-unknown-type.so": ("libkxtest.so", lambda e: e.set_rela(
        first_rela(e, 8), rtype=200)),
    "reloc-tlsdesc.so": ("libkxtest.so", lambda e: e.set_rela(first_rela(e, 8), rtype=36)),
    "reloc-copy-in-shared.so": ("libkxtest.so", lambda e: e.set_rela(
        first_rela(e, 6), rtype=5)),
    "reloc-target-outside.so": ("libkxtest.so", lambda e: e.set_rela(
        first_rela(e, 8), offset=0x7fff0000)),
    "reloc-target-readonly.so": ("libkxtest.so", lambda e: e.set_rela(
        first_rela(e, 8), offset=text_vaddr(e))),
    "reloc-over-dynamic.so": ("libkxtest.so", lambda e: e.set_rela(
        first_rela(e, 8), offset=e.ph(e.phdrs(PT_DYNAMIC)[0], "vaddr") + 8)),
    "reloc-over-got-reserved.so": ("libkxtest.so", lambda e: e.set_rela(
        first_rela(e, 8), offset=e.dyn_get("PLTGOT")[2] + 8)),
    "lazy-slot-outside-file.so": ("libkxtest.so", lambda e: lazy_slot_outside_file(e)),
    "relr-bitmap-first.so": ("libkxrelr.so", lambda e: e.put(
        "Q", e.v2o(e.dyn_get("RELR")[2]), 0x0f)),
    "relr-target-readonly.so": ("libkxrelr.so", lambda e: e.put(
        "Q", e.v2o(e.dyn_get("RELR")[2]), text_vaddr(e) & ~7)),
}


def lazy_slot_outside_file(e):
    """A JUMP_SLOT in .rela.dyn rather than DT_JMPREL (whose slots plt0_locate
    checks), its GOT slot in the writable segment's memory but past its file
    bytes: bound lazily, its initial value would be read from outside the file."""
    rw = e.load_index(PF_W)
    last = e.relas()[-1]
    e.set_rela(last, rtype=7)
    e.ph(rw, "filesz", e.u("Q", last) - e.ph(rw, "vaddr"))


def copy_outside(e, ptype):
    """Append a copy of the header's bytes at the end of the file (outside every
    PT_LOAD) and point its p_offset there; p_vaddr still names the original."""
    i = e.phdrs(ptype)[0]
    off, size = e.ph(i, "offset"), e.ph(i, "filesz")
    e.d += bytes((-len(e.d)) % 8)
    e.ph(i, "offset", len(e.d))
    e.d += e.d[off:off + size]


def swap_loads(e):
    a, b = e.phdrs(PT_LOAD)[:2]
    pa, pb = e.eh("phoff") + 56 * a, e.eh("phoff") + 56 * b
    e.d[pa:pa + 56], e.d[pb:pb + 56] = e.d[pb:pb + 56], e.d[pa:pa + 56]


def hostile(libdir, outdir):
    for name, (base, mutate) in sorted(CASES.items()):
        with open(os.path.join(libdir, base), "rb") as f:
            e = Elf(f.read())
        mutate(e)
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(e.d)


def main():
    check = "--check" in sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        libs, bad = os.path.join(tmp, "libs"), os.path.join(tmp, "bad")
        os.makedirs(libs)
        os.makedirs(bad)
        build(libs)
        if check:
            # Hostile files from the committed libraries must match exactly.
            hostile(CORPUS, bad)
            diff = [n for n in sorted(CASES)
                    if open(os.path.join(bad, n), "rb").read() !=
                    open(os.path.join(REGRESS, n), "rb").read()]
            if diff:
                print("regression files out of date:", " ".join(diff))
                return 1
            print("%d regression files up to date" % len(CASES))
            return 0
        os.makedirs(CORPUS, exist_ok=True)
        os.makedirs(REGRESS, exist_ok=True)
        for n in sorted(os.listdir(libs)):
            shutil.copyfile(os.path.join(libs, n), os.path.join(CORPUS, n))
        hostile(CORPUS, REGRESS)
        # The hostile files seed the fuzzer too (git stores each blob once).
        for n in sorted(CASES):
            shutil.copyfile(os.path.join(REGRESS, n), os.path.join(CORPUS, "regress-" + n))
        print("wrote %d libraries to %s and %d cases to %s" %
              (len(os.listdir(libs)), CORPUS, len(CASES), REGRESS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
