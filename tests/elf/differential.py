#!/usr/bin/python3
"""Differential test of the kx ELF loader against binutils' readelf.

usage: differential.py KXCTL [LIBRARY...]

For each Debian shared library found (by default the list below, located
through `ldconfig -p`), `kxctl inspect --loader-only --json -L DIR` (the
loader's view: host libraries are not pVM modules) must accept the library
with its whole DT_NEEDED tree mapped and relocated (no unresolved symbol), and
its view of every program header (`readelf -lW`) and every dynamic symbol
(`readelf --dyn-syms -W`) must match readelf's exactly.  Prints each library
it checked with its Debian package; fails if none is found.
"""
import json
import os
import re
import subprocess
import sys

LIBRARIES = ["libz.so.1", "libm.so.6", "libsodium.so.23", "libyaml-0.so.2", "libcrypto.so.3",
             "libssl.so.3", "libc.so.6", "libstdc++.so.6", "libgcc_s.so.1",
             "ld-linux-x86-64.so.2"]

PT = {"NULL": 0, "LOAD": 1, "DYNAMIC": 2, "INTERP": 3, "NOTE": 4, "SHLIB": 5, "PHDR": 6,
      "TLS": 7, "GNU_EH_FRAME": 0x6474e550, "GNU_STACK": 0x6474e551, "GNU_RELRO": 0x6474e552,
      "GNU_PROPERTY": 0x6474e553}
STT = {"NOTYPE": 0, "OBJECT": 1, "FUNC": 2, "SECTION": 3, "FILE": 4, "COMMON": 5, "TLS": 6,
       "IFUNC": 10}
STB = {"LOCAL": 0, "GLOBAL": 1, "WEAK": 2, "UNIQUE": 10}
STV = {"DEFAULT": 0, "INTERNAL": 1, "HIDDEN": 2, "PROTECTED": 3}
SHN = {"UND": 0, "ABS": 0xfff1, "COM": 0xfff2}

PHDR_RE = re.compile(r"^\s+(\S+)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) "
                     r"0x([0-9a-f]+) ([R ][W ][E ]) 0x([0-9a-f]+)$")
SYM_RE = re.compile(r"^\s*(\d+): ([0-9a-f]{16})\s+(\S+) (\S+)\s+(\S+)\s+(\S+)\s+(\S+) ?(.*)$")


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace")


def find(name):
    out = run("ldconfig", "-p").stdout
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) \(libc6,x86-64.*\) => (\S+)$", line)
        if m and m.group(1) == name:
            return m.group(2)
    for d in ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return None


def package(path):
    for p in (path, os.path.realpath(path)):
        out = run("dpkg", "-S", p)
        if out.returncode == 0:
            return out.stdout.split(":")[0]
    return None


def readelf_phdrs(path):
    rows = []
    for line in run("readelf", "-lW", path).stdout.splitlines():
        m = PHDR_RE.match(line)
        if m:
            if m.group(1) not in PT:
                raise ValueError("readelf program header type %s unknown here" % m.group(1))
            rows.append(dict(type=PT[m.group(1)], offset=int(m.group(2), 16),
                             vaddr=int(m.group(3), 16), paddr=int(m.group(4), 16),
                             filesz=int(m.group(5), 16), memsz=int(m.group(6), 16),
                             flags=m.group(7), align=int(m.group(8), 16)))
    return rows


def readelf_dynsyms(path):
    rows = []
    for line in run("readelf", "--dyn-syms", "-W", path).stdout.splitlines():
        m = SYM_RE.match(line)
        if not m:
            continue
        size = m.group(3)
        ndx = m.group(7)
        # "name@VERSION (n)" / "name@@VERSION": the loader reports the bare name.
        name = re.sub(r" \(\d+\)$", "", m.group(8))
        name = re.sub(r"@@?[^@]*$", "", name) if "@" in name else name
        rows.append(dict(value=int(m.group(2), 16),
                         size=int(size, 16) if size.startswith("0x") else int(size),
                         type=STT[m.group(4)], bind=STB[m.group(5)], vis=STV[m.group(6)],
                         shndx=SHN[ndx] if ndx in SHN else int(ndx), name=name))
    return rows


def compare(what, mine, theirs, keys):
    if len(mine) != len(theirs):
        return ["%s: %d entries, readelf has %d" % (what, len(mine), len(theirs))]
    errors = []
    for i, (a, b) in enumerate(zip(mine, theirs)):
        for k in keys:
            if a[k] != b[k]:
                errors.append("%s %d: %s %r, readelf says %r" % (what, i, k, a[k], b[k]))
    return errors[:10]


def check(kxctl, path):
    """Returns (errors, summary)."""
    libdir = os.path.dirname(os.path.realpath(path))
    out = run(kxctl, "inspect", "--loader-only", "--json", "-L", libdir, path)
    if out.returncode != 0:
        return ["kxctl inspect exited %d: %s" % (out.returncode, out.stderr.strip())], ""
    rep = json.loads(out.stdout)
    errors = []
    if not rep["accepted"]:
        errors.append("not accepted")
    if rep["unresolved"]:
        errors.append("%d unresolved symbols in the full tree" % rep["unresolved"])
    phdrs = readelf_phdrs(path)
    syms = readelf_dynsyms(path)
    errors += compare("program header", rep["phdrs"], phdrs,
                      ["type", "offset", "vaddr", "paddr", "filesz", "memsz", "flags", "align"])
    errors += compare("dynamic symbol", rep["dynsyms"], syms,
                      ["value", "size", "type", "bind", "vis", "shndx", "name"])
    if not phdrs or not syms:
        errors.append("readelf output not understood")
    summary = ("%d program headers and %d dynamic symbols match readelf; tree of %d modules "
               "mapped and relocated (%d relocations + %d RELR, %d IFUNC left to the guest)" %
               (len(phdrs), len(syms), len(rep["modules"]), rep["applied"] - rep["relr"],
                rep["relr"], rep["deferred_ifunc"]))
    return errors, summary


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    kxctl, names = sys.argv[1], sys.argv[2:] or LIBRARIES
    checked, failed = 0, 0
    for name in names:
        path = name if os.path.isabs(name) else find(name)
        pkg = package(path) if path else None
        if not path or not pkg:
            print("skip %s: not installed from a Debian package" % name)
            continue
        errors, summary = check(kxctl, path)
        checked += 1
        if errors:
            failed += 1
            print("FAIL %s (%s, package %s):" % (name, path, pkg))
            for e in errors:
                print("    " + e)
        else:
            print("ok   %s (%s, package %s): %s" % (name, path, pkg, summary))
    print("differential: %d libraries checked, %d failed" % (checked, failed))
    return 1 if failed or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
