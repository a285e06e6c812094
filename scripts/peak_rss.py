#!/usr/bin/env python3
"""Run a command and report its peak memory from /proc (Linux): peak RSS (VmHWM, what
`/usr/bin/time -v` calls "Maximum resident set size"), and the peaks of its two parts sampled every
20 ms: RssAnon (memory the process allocated) and RssFile (pages of mapped files, e.g. a
memory-mapped store: shared with the page cache, dropped by the kernel under memory pressure).

    python3 scripts/peak_rss.py -- dannscope eval --model m.onnx --out OUT --pair S-T

Prints one line: `wall_s=… peak_rss_mib=… peak_anon_mib=… peak_file_mib=… rc=…` after the command's
own output. Only the command's main process is sampled (dannscope runs in one process).
"""
import subprocess
import sys
import time


def status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "RssAnon", "RssFile"):
                    out[k] = int(v.split()[0])  # kB
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def main():
    args = sys.argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        sys.exit(__doc__)
    t0 = time.monotonic()
    p = subprocess.Popen(args)
    peak = {"VmHWM": 0, "RssAnon": 0, "RssFile": 0}
    while p.poll() is None:
        for k, v in status(p.pid).items():
            peak[k] = max(peak[k], v)
        time.sleep(0.02)
    wall = time.monotonic() - t0
    mib = lambda kb: kb / 1024.0
    print(
        f"wall_s={wall:.1f} peak_rss_mib={mib(peak['VmHWM']):.0f} "
        f"peak_anon_mib={mib(peak['RssAnon']):.0f} peak_file_mib={mib(peak['RssFile']):.0f} "
        f"rc={p.returncode}",
        flush=True,
    )
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
