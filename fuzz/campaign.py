#!/usr/bin/env python3
"""A long fuzz campaign: every target (or those named) for a fixed time, a few at once.

Each target gets a corpus folder of its own under OUT that grows from run to run, its log
OUT/<name>.log, and its findings OUT/<name>-crash-* (or -leak-, -oom-, -timeout-). At the
end a Markdown table gives what README.md records: executions, rate, coverage, corpus, peak
RSS and findings. The targets and their dictionaries are read from fuzz/meson.build, so a
new target is in the campaign as soon as it is in the build.

    fuzz/campaign.py --build build-fuzz --out /var/tmp/campaign --seconds 630 --jobs 2
"""

import argparse
import pathlib
import re
import subprocess
import sys
import time

FUZZ_DIR = pathlib.Path(__file__).resolve().parent
TARGET_LINE = re.compile(r"^\s*'(\w+)'\s*:\s*\[\[.*\],\s*'([^']*)'\],?\s*$")


def targets():
    """name -> dictionary file name ('' for none), in the order of fuzz/meson.build."""
    found = {}
    for line in (FUZZ_DIR / "meson.build").read_text().splitlines():
        m = TARGET_LINE.match(line)
        if m:
            found[m.group(1)] = m.group(2)
    if not found:
        sys.exit("fuzz/meson.build: no targets found in the fuzz_targets table")
    return found


def command(build, out, name, dictionary, seconds):
    corpus = out / name
    corpus.mkdir(parents=True, exist_ok=True)
    args = [str(build / "fuzz" / f"{name}_fuzzer"), str(corpus), str(FUZZ_DIR / "corpus" / name),
            f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
            "-print_final_stats=1", f"-artifact_prefix={out}/{name}-"]
    if dictionary:
        args.append(f"-dict={FUZZ_DIR / dictionary}")
    return args


def summary(out, name):
    log = (out / f"{name}.log").read_text(errors="replace")
    stats = dict(re.findall(r"^stat::(\w+):\s+(\d+)", log, re.M))
    coverage = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)", log)
    cov, ft, corp, size = coverage[-1] if coverage else ("?", "?", "?", "?")
    findings = sorted(p.name for p in out.glob(f"{name}-*") if p.is_file())
    return {
        "name": name,
        "execs": int(stats.get("number_of_executed_units", 0)),
        "rate": int(stats.get("average_exec_per_sec", 0)),
        "cov": cov, "ft": ft, "corp": corp, "size": size,
        "rss": stats.get("peak_rss_mb", "?"),
        "findings": findings,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=pathlib.Path, default=pathlib.Path("build-fuzz"))
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--seconds", type=int, default=630)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("names", nargs="*", help="targets to run (all by default)")
    options = parser.parse_args()

    known = targets()
    names = options.names or list(known)
    for name in names:
        if name not in known:
            sys.exit(f"{name}: no such target in fuzz/meson.build")
    out = options.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    waiting = list(names)
    running = {}
    while waiting or running:
        while waiting and len(running) < options.jobs:
            name = waiting.pop(0)
            log = open(out / f"{name}.log", "w")
            args = command(options.build, out, name, known[name], options.seconds)
            running[name] = (subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT), log)
            print(f"{time.strftime('%H:%M:%S')} started {name}", flush=True)
        time.sleep(2)
        for name, (process, log) in list(running.items()):
            if process.poll() is not None:
                log.close()
                del running[name]
                print(f"{time.strftime('%H:%M:%S')} {name} ended ({process.returncode})", flush=True)

    print("\n| Target | Executions (exec/s) | cov / ft | Corpus | Peak RSS | Findings |")
    print("|---|---|---|---|---|---|")
    failed = 0
    for name in names:
        s = summary(out, name)
        failed += bool(s["findings"])
        print(f"| `{name}` | {s['execs']:,} ({s['rate']:,}) | {s['cov']} / {s['ft']} | "
              f"{s['corp']} inputs, {s['size']} | {s['rss']} MB | "
              f"{', '.join(s['findings']) or 'none'} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
