#!/usr/bin/env python3
"""xmppctl(8) and xmppctl agree on the commands: every command the program's usage lists is
described in the page's command list, with the same arguments, and the page describes no
command the program lacks.

usage: xmppctl_manual_test.py XMPPCTL MANUAL
"""
import re
import subprocess
import sys


def program_commands(xmppctl):
    r = subprocess.run([xmppctl], capture_output=True, text=True)
    if r.returncode != 2:
        sys.exit(f"xmppctl without a command exited {r.returncode}, not 2")
    lines = r.stderr.splitlines()
    if "commands:" not in lines:
        sys.exit(f"xmppctl's usage lists no commands:\n{r.stderr}")
    return {" ".join(l.split()) for l in lines[lines.index("commands:") + 1:] if l.startswith("  ")}


def manual_commands(manual):
    """The `.It Cm word ... Ar argument` lines of the list that follows "The commands are:"."""
    text = open(manual, encoding="utf-8").read()
    start = text.index("The commands are:")
    block = text[start:text.index(".El", start)]
    commands = set()
    for line in block.splitlines():
        if not line.startswith(".It Cm "):
            continue
        words = []
        for macro, arg in re.findall(r"(Cm|Ar|Op Ar|Op Fl|Ns|Fl)\s+(\S+)", line):
            words.append(f"[{arg}]" if macro.startswith("Op") else arg)
        commands.add(" ".join(words))
    return commands


def main():
    xmppctl, manual = sys.argv[1:3]
    program, page = program_commands(xmppctl), manual_commands(manual)
    failed = False
    for c in sorted(program - page):
        print(f"xmppctl has `{c}`, which {manual} does not describe")
        failed = True
    for c in sorted(page - program):
        print(f"{manual} describes `{c}`, which xmppctl does not have")
        failed = True
    if not failed:
        print(f"{len(program)} commands agree")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
