#!/usr/bin/env python3
"""Reads each built program's ELF file with readelf (binutils) and fails if any hardening property
that meson.build asks for is missing: PIE, full RELRO, the stack protector, fortified calls, CET
(IBT and SHSTK) and a stack that is not executable.

Usage: hardening_test.py [--fortify|--no-fortify|--sanitized] ELF...
--no-fortify skips the fortify check (a build without optimisation cannot fortify);
--sanitized skips it and the CET check: sanitizer builds leave _FORTIFY_SOURCE out on purpose,
and clang links its sanitizer runtimes, built without CET, into each program."""
import re
import subprocess
import sys
import unittest

FILES = []
FORTIFY = True
CET = True


def readelf(path, *flags):
    return subprocess.run(["readelf", "-W", *flags, path], check=True, capture_output=True, text=True).stdout


def x86_features(notes):
    feature = re.search(r"x86 feature:\s*(.*)", notes)
    return {f.strip() for f in feature.group(1).split(",")} if feature else set()


def c_runtime_has_cet():
    """Whether the C runtime's start file for PIE carries IBT and SHSTK."""
    for compiler in ("gcc", "cc", "c++"):
        try:
            found = subprocess.run([compiler, "-print-file-name=Scrt1.o"], capture_output=True, text=True).stdout.strip()
        except FileNotFoundError:
            continue
        if found.startswith("/"):
            return {"IBT", "SHSTK"} <= x86_features(readelf(found, "-n"))
    return True  # no compiler to ask: insist on the note


def functions_without_endbr64(path):
    """Global functions of .text whose first instruction is not ENDBR64, but for _start, which
    the C runtime brings and the kernel jumps to."""
    sections = readelf(path, "-S")
    text = re.search(r"\]\s+\.text\s+PROGBITS\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", sections)
    if not text:
        return ["(no .text section)"]
    address, offset, size = (int(x, 16) for x in text.groups())
    with open(path, "rb") as f:
        data = f.read()
    symbols = readelf(path, "-s").splitlines()
    if not any(" FUNC " in line and " GLOBAL " in line for line in symbols):
        return ["(no symbol table: cannot check ENDBR64)"]
    unmarked = []
    for line in symbols:
        fields = line.split()
        if len(fields) < 8 or fields[3] != "FUNC" or fields[4] not in ("GLOBAL", "WEAK") or fields[6] == "UND":
            continue
        value = int(fields[1], 16)
        if fields[7] == "_start" or int(fields[2], 0) == 0 or not address <= value < address + size:
            continue
        at = offset + value - address
        if data[at:at + 4] != b"\xf3\x0f\x1e\xfa":
            unmarked.append(fields[7])
    return unmarked


def problems(path, fortify=True, cet=True):
    """The hardening properties that `path` lacks, as short sentences; empty when it has them all."""
    missing = []
    header = readelf(path, "-h")
    segments = readelf(path, "-l")
    dynamic = readelf(path, "-d")
    notes = readelf(path, "-n")
    symbols = readelf(path, "--dyn-syms")

    # PIE: a shared object type that has an interpreter (a shared library would have none).
    if not re.search(r"Type:\s+DYN\b", header) or "INTERP" not in segments:
        missing.append("not PIE (ELF type DYN with a PT_INTERP segment)")
    # Full RELRO: the GOT made read-only after relocation, which needs every symbol bound at start.
    bind_now = re.search(r"\(BIND_NOW\)", dynamic) or re.search(r"\(FLAGS_1\).*\bNOW\b", dynamic)
    if "GNU_RELRO" not in segments or not bind_now:
        missing.append("no full RELRO (PT_GNU_RELRO with BIND_NOW)")
    undefined = set(re.findall(r"\bUND\s+([^\s@]+)", symbols))
    if "__stack_chk_fail" not in undefined:
        missing.append("no stack protector (__stack_chk_fail not referenced)")
    checked = sorted(s for s in undefined if re.fullmatch(r"__\w+_chk", s) and s != "__stack_chk_fail")
    if fortify and not checked:
        missing.append("not fortified (no __*_chk function referenced)")
    # CET: the linker marks the program IBT and SHSTK only when every object linked in is
    # marked, the C runtime's start files included; Debian 12's glibc is built without CET, so
    # its Scrt1.o and crti.o are not, and no program linked on it can carry the note. There the
    # evidence of -fcf-protection is in the code: every global function opens with ENDBR64.
    machine = re.search(r"Machine:\s+(.*)", header).group(1)
    if cet and "X86-64" in machine:
        features = x86_features(notes)
        if not {"IBT", "SHSTK"} <= features:
            if c_runtime_has_cet():
                for want in sorted({"IBT", "SHSTK"} - features):
                    missing.append(f"no CET {want} in .note.gnu.property")
            else:
                unmarked = functions_without_endbr64(path)
                if unmarked:
                    missing.append(f"no CET: {len(unmarked)} global functions lack ENDBR64, e.g. {unmarked[0]}")
    stack = re.search(r"GNU_STACK\s+.*\s(R?W?E?)\s+0x[0-9a-f]+$", segments, re.M)
    if not stack or "E" in stack.group(1):
        missing.append("executable stack (PT_GNU_STACK missing or with E)")
    return missing


class Hardening(unittest.TestCase):
    def test_every_program_is_hardened(self):
        self.assertTrue(FILES, "no ELF file given")
        for path in FILES:
            with self.subTest(path=path):
                self.assertEqual(problems(path, FORTIFY, CET), [], path)


if __name__ == "__main__":
    args = sys.argv[1:]
    for flag in ("--fortify", "--no-fortify", "--sanitized"):
        if flag in args:
            FORTIFY = flag == "--fortify"
            CET = flag != "--sanitized"
            args.remove(flag)
    FILES[:] = args
    unittest.main(argv=[sys.argv[0]], verbosity=2)
