#!/usr/bin/env python3
"""bench.py - StoryKiosk's `make bench`: every figure of issue 6, measured
side by side with its floor or its alternative, printed as a table and written
to bench/results.md. Run it through bench/bench.sh (which starts the private
PostgreSQL server); see bench/README.md for what each figure means.

Settings (environment):
  BENCH_RUNS=15         runs of each quick figure (start-up, consent, list, stats)
  BENCH_SLOW_RUNS=3     runs of export and of the full list
  BENCH_SYNC_RUNS=3     runs of each sync comparison
  BENCH_BIG=100000      stories in the big queue
  BENCH_SYNC_N=10000    stories per sync run
  BENCH_KEYS=5000       characters typed for the keystroke figure
  BENCH_FEW_KEYS=100    ...and in the run it is compared with
  BENCH_PSQL_N=100      stories sent with one psql each (then scaled to SYNC_N)
  BENCH_CURL_N=100      stories sent with one curl each (then scaled to SYNC_N)
  BENCH_BIG_SYNC_SECONDS=45  the sync of BENCH_BIG stories (for its memory) is
                        stopped after this long, and says how far it got
  BENCH_SCALE="1 10 50" concurrent syncing queues
  BENCH_SCALE_N=1000    stories in each of them
  BENCH_SKIP=""         words: startup keys consent reports export pg http memory scale
  BENCH_RESULTS=bench/results.md
"""
import csv
import io
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BB = os.path.join(ROOT, "build-bench")
WORK = os.path.join(BB, "work")
SK = os.environ.get("SK_BIN") or os.path.join(ROOT, "storykiosk")
PTYRUN = os.path.join(BB, "ptyrun")
RUNSTAT = os.path.join(BB, "runstat")


def env_int(name, default):
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        sys.exit("bench: %s must be a number" % name)


RUNS = env_int("BENCH_RUNS", 15)
SLOW_RUNS = env_int("BENCH_SLOW_RUNS", 3)
SYNC_RUNS = env_int("BENCH_SYNC_RUNS", 3)
BIG = env_int("BENCH_BIG", 100000)
SYNC_N = env_int("BENCH_SYNC_N", 10000)
KEYS = env_int("BENCH_KEYS", 5000)
FEW_KEYS = env_int("BENCH_FEW_KEYS", 100)
PSQL_N = env_int("BENCH_PSQL_N", 100)
CURL_N = env_int("BENCH_CURL_N", 100)
BIG_SYNC_SECONDS = env_int("BENCH_BIG_SYNC_SECONDS", 45)
SCALE = [int(x) for x in os.environ.get("BENCH_SCALE", "1 10 50").split()]
SCALE_N = env_int("BENCH_SCALE_N", 1000)
SKIP = set(os.environ.get("BENCH_SKIP", "").replace(",", " ").split())
RESULTS = os.environ.get("BENCH_RESULTS") or os.path.join(ROOT, "bench", "results.md")
PG_URL = os.environ.get("BENCH_PG_URL")
PG_DIR = os.environ.get("BENCH_PG_DIR")
TICK = os.sysconf("SC_CLK_TCK")

# Every storykiosk run gets a private HOME, so no one's own config or queue
# takes part; the locale is UTF-8 as on a ward terminal.
HOME = os.path.join(WORK, "home")
SK_ENV = dict(os.environ)
for name in ("STORYKIOSK_DB", "NO_COLOR", "LC_ALL", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
    SK_ENV.pop(name, None)
SK_ENV.update({"HOME": HOME, "XDG_CONFIG_HOME": os.path.join(HOME, ".config"),
               "XDG_DATA_HOME": os.path.join(HOME, ".local", "share"),
               "LANG": "C.UTF-8", "SK_BIN": SK})

rows = []          # the table
diagnostics = []   # (what, value) lines under it
scaling = []       # the concurrency points
notes = []
started = time.time()


def say(text):
    print("bench: " + text, flush=True)


# ---------------------------------------------------------------- helpers

def med(values):
    return statistics.median(values) if values else None


def summary(values):
    return (med(values), min(values), max(values)) if values else (None, None, None)


class Usage:
    """What runstat reported about one command."""

    def __init__(self, values):
        self.wall = values["wall_us"] / 1e6
        self.first = values["first_us"] / 1e6 if values["first_us"] >= 0 else None
        self.maxrss_kb = values["maxrss_kb"]
        self.cpu = (values["user_us"] + values["sys_us"]) / 1e6
        self.status = values["status"]


def run_timed(argv, stdin=None, stdout=subprocess.DEVNULL, input_bytes=None, check=True,
              head_lines=None):
    """Run argv under bench/runstat; return (Usage, stdout bytes or None).
    With head_lines, its output goes through a pipe closed after that many
    lines, as `argv | head -n LINES`."""
    stat = os.path.join(WORK, "runstat.out")
    cmd = [RUNSTAT, "-o", stat]
    if head_lines is not None:
        cmd += ["-n", str(head_lines)]
    proc = subprocess.run(cmd + ["--"] + argv, input=input_bytes,
                          stdin=None if input_bytes is not None else stdin,
                          stdout=stdout, stderr=subprocess.PIPE, env=SK_ENV, check=False)
    values = {}
    with open(stat) as f:
        for line in f:
            name, value = line.split()
            values[name] = int(value)
    usage = Usage(values)
    if check and proc.returncode != 0:
        raise RuntimeError("%s exited %s: %s" % (" ".join(argv[:4]), proc.returncode,
                                                  proc.stderr.decode("utf-8", "replace")[-500:]))
    return usage, proc.stdout if stdout == subprocess.PIPE else None


def ptyrun(args, timeout=None):
    """Run ptyrun; return its "name value" lines as a dict of ints."""
    proc = subprocess.run([PTYRUN] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=SK_ENV, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError("ptyrun %s failed:\n%s" % (" ".join(args[-3:]),
                                                      proc.stderr.decode("utf-8", "replace")[-3000:]))
    values = {}
    for line in proc.stdout.decode().splitlines():
        parts = line.split()
        if len(parts) == 2:
            values.setdefault(parts[0], []).append(int(parts[1]))
    return values


def fresh_copy(src, dst):
    for suffix in ("", "-wal", "-shm", ".sync-lock"):
        if os.path.exists(dst + suffix):
            os.unlink(dst + suffix)
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o600)


def make_queue(path, count, seed, no_email_every=25, in_order=False):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "tools", "make_queue.py"), path,
                    str(count), "--seed", str(seed), "--no-email-every", str(no_email_every)]
                   + (["--in-order"] if in_order else []),
                   stdout=subprocess.DEVNULL, env=SK_ENV, check=True)
    return time.perf_counter() - t0


def fmt_time(seconds):
    if seconds is None:
        return "-"
    if seconds < 0.01:
        return "%.2f ms" % (seconds * 1e3)
    if seconds < 1:
        return "%.1f ms" % (seconds * 1e3)
    return "%.2f s" % seconds


def fmt_kb(kb):
    return "-" if kb is None else "%.1f MB" % (kb / 1024.0)


def fmt_ratio(r):
    return "-" if r is None else ("%.2f×" % r if r < 10 else "%.0f×" % r)


def add_row(figure, med_v, min_v, max_v, compared, ratio, budget, ok, fmt=fmt_time, note=""):
    verdict = "-" if ok is None else ("PASS" if ok else "FAIL")
    rows.append({"figure": figure, "median": fmt(med_v), "min": fmt(min_v), "max": fmt(max_v),
                 "compared": compared, "ratio": ratio, "budget": budget, "verdict": verdict,
                 "note": note})


def add_error(figure, budget, why):
    rows.append({"figure": figure, "median": "ERROR", "min": "-", "max": "-",
                 "compared": "-", "ratio": "-", "budget": budget, "verdict": "ERROR",
                 "note": why})
    say("ERROR in %s: %s" % (figure, why))


def section(name):
    return name not in SKIP


def proc_cpu(pid):
    """utime+stime (and children's) of a process, in seconds; None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    own = (int(fields[11]) + int(fields[12])) / TICK
    children = (int(fields[13]) + int(fields[14])) / TICK
    return own, children


def server_cpu():
    """CPU seconds the PostgreSQL server has used: the postmaster, its live
    children, and (through the postmaster's cutime) every backend it reaped."""
    with open(os.path.join(PG_DIR, "data", "postmaster.pid")) as f:
        postmaster = int(f.readline())
    own, reaped = proc_cpu(postmaster)
    total = own + reaped
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def psql(sql, stdin=None, check=True):
    return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", PG_URL, "-c", sql],
                          stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          check=check)


def sync_summary_ok(out, expected):
    text = (out or b"").decode("utf-8", "replace")
    m = re.search(r"delivered (\d+), already there (\d+), failed (\d+), left (\d+)", text)
    if not m:
        return False, text.strip()[-200:]
    delivered = int(m.group(1))
    return delivered == expected and int(m.group(4)) == 0, m.group(0)


# ---------------------------------------------------------------- machine

def machine():
    info = {}
    info["cores"] = os.cpu_count()
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    info["cpu"] = model
    with open("/proc/meminfo") as f:
        info["memory"] = "%.1f GB" % (int(f.readline().split()[1]) / 1024 / 1024)
    info["kernel"] = platform.release()
    df = subprocess.run(["df", "--output=source,fstype", WORK], stdout=subprocess.PIPE,
                        text=True, check=False).stdout.split("\n")
    source, fstype = (df[1].split() + ["?", "?"])[:2] if len(df) > 1 else ("?", "?")
    dev = os.path.basename(source)
    base = re.sub(r"(p?\d+)$", "", dev) if not os.path.exists("/sys/block/%s" % dev) else dev
    rot = "?"
    try:
        with open("/sys/block/%s/queue/rotational" % base) as f:
            rot = f.read().strip()
    except OSError:
        pass
    kind = {"0": "non-rotational (SSD-class)", "1": "reports rotational"}.get(rot, "unknown")
    virtual = " (a virtio disk: the hypervisor's flag, not proof of a spinning disk)" \
        if base.startswith("vd") else ""
    info["disk"] = "%s, %s on /dev/%s: %s%s" % (WORK, fstype, base, kind, virtual)
    with open("/proc/loadavg") as f:
        info["load at start"] = " ".join(f.read().split()[:3])
    versions = []
    for argv in (["sqlite3", "--version"], ["psql", "--version"], ["curl", "--version"],
                 ["dialog", "--version"], ["valgrind", "--version"]):
        try:
            out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True, check=False).stdout.splitlines()[0]
            out = " ".join(out.split()[:3])
            versions.append(out if out.lower().startswith(argv[0]) else "%s %s" % (argv[0], out))
        except (OSError, IndexError):
            versions.append(argv[0] + " missing")
    info["tools"] = "; ".join(versions)
    return info


# ---------------------------------------------------------------- start-up

def bench_startup(q_empty, q_big):
    say("start-up: %d runs each, alternating" % RUNS)
    dialog_db = os.path.join(WORK, "dialog.db")
    markers = ["-e", "please sign in", "-e", "Esc Menu"]
    programs = [
        ("kiosk", ["-m"] + markers + ["--", SK, "--db", q_empty]),
        ("floor", markers[:2] + ["--", os.path.join(BB, "floor")]),
        ("dialog", markers + ["-e", "<Cancel>", "--", os.path.join(ROOT, "bench", "dialog_wizard.sh"),
                              dialog_db]),
        ("kiosk_big", ["-m"] + markers + ["--", SK, "--db", q_big]),
        ("version", ["-e", "storykiosk", "--", SK, "--version"]),
        ("floor_libs", ["-m"] + markers[:2] + ["--", os.path.join(BB, "floor_libs")]),
        ("floor_screen", markers + ["--", os.path.join(BB, "floor_screen")]),
    ]
    if "dialog" in missing_tools:
        programs = [p for p in programs if p[0] != "dialog"]
    t = {name: [] for name, _ in programs}
    mem = {}
    # One untimed run of each warms the page cache, as on a terminal that has
    # run the kiosk before.
    for name, args in programs:
        ptyrun(args)
    for i in range(RUNS):
        order = programs if i % 2 == 0 else list(reversed(programs))
        for name, args in order:
            v = ptyrun(args)
            t[name].append(v["startup_us"][0] / 1e6)
            for key in ("vmhwm_kb", "rssanon_kb", "rssfile_kb"):
                if key in v:
                    mem.setdefault(name, {}).setdefault(key, []).append(v[key][0])
    k = summary(t["kiosk"])
    f = summary(t["floor"])
    ratio_a = k[0] / f[0]
    add_row("start-up: exec to first complete screen (empty queue)", *k,
            "(a) ncursesw floor: %s" % fmt_time(f[0]), fmt_ratio(ratio_a), "≤ 1.3× (a)",
            ratio_a <= 1.3)
    if "dialog" in t:
        d = summary(t["dialog"])
        ratio_b = k[0] / d[0]
        add_row("start-up: exec to first complete screen (empty queue)", *k,
                "(b) dialog + sqlite3 shell wizard: %s" % fmt_time(d[0]), fmt_ratio(ratio_b),
                "≤ 0.25× (b)", ratio_b <= 0.25)
    else:
        add_error("start-up vs dialog wizard", "≤ 0.25× (b)", "dialog is not installed")
    b = summary(t["kiosk_big"])
    ratio = b[0] / k[0]
    add_row("start-up with %s stories queued" % format(BIG, ","), *b,
            "empty queue: %s" % fmt_time(k[0]), fmt_ratio(ratio), "≤ 1.1×", ratio <= 1.1)
    v = summary(t["version"])
    diagnostics.append(("`storykiosk --version` in the same pty (exec + dynamic loader + "
                        "library constructors, no work)", "%s (min %s, max %s)" % (
                            fmt_time(v[0]), fmt_time(v[1]), fmt_time(v[2]))))
    fl = summary(t["floor_libs"])
    diagnostics.append(("the floor program linked with the kiosk's libraries, as the kiosk links "
                        "them (ncursesw; sqlite3, libsodium, uuid statically by default)", "%s; floor alone %s" % (
                            fmt_time(fl[0]), fmt_time(f[0]))))
    fs = summary(t["floor_screen"])
    diagnostics.append(("the floor drawing the kiosk's whole sign-in screen (bench/floor_screen.c: "
                        "same rows, rules, box, colours; no form, no files)",
                        "%s: drawing a full screen instead of one line costs %s; the kiosk's own "
                        "work before its first screen (the form, the set-up) %s, %s this floor" % (
                            fmt_time(fs[0]), fmt_time(fs[0] - f[0]), fmt_time(k[0] - fs[0]),
                            fmt_ratio(k[0] / fs[0]))))
    libs = subprocess.run(["ldd", SK], stdout=subprocess.PIPE, text=True, check=False).stdout
    diagnostics.append(("shared libraries the kiosk loads (ldd)", str(len(
        [l for l in libs.splitlines() if "=>" in l]))))
    for name in ("kiosk", "kiosk_big", "floor_libs"):
        if name in mem:
            m = mem[name]
            diagnostics.append(("memory at the first screen: %s" % {
                "kiosk": "kiosk, empty queue", "kiosk_big": "kiosk, %s queued" % format(BIG, ","),
                "floor_libs": "floor with the kiosk's libraries"}[name],
                "VmHWM %s (anonymous %s, file-backed %s)" % (
                    fmt_kb(med(m["vmhwm_kb"])), fmt_kb(med(m["rssanon_kb"])),
                    fmt_kb(med(m["rssfile_kb"])))))
    return mem


def bench_quick_check(q_big):
    """How long the start-up check takes on its own (sqlite3 CLI, same library)."""
    times = []
    for _ in range(3):
        usage, _ = run_timed(["sqlite3", "-batch", q_big, "PRAGMA quick_check(1)"],
                             stdout=subprocess.PIPE)
        times.append(usage.wall)
    size = os.path.getsize(q_big)
    diagnostics.append(("`PRAGMA quick_check(1)` alone on the %s-story queue (%.0f MB), sqlite3 CLI"
                        % (format(BIG, ","), size / 1e6), "%s (min %s)" % (fmt_time(med(times)),
                                                                         fmt_time(min(times)))))


# ---------------------------------------------------------------- keystrokes

SIGN_IN = """expect please sign in
send Bench Operator
send \\r\\r
expect Introduce yourself
"""


def callgrind_calls(path):
    """Calls per function name from a callgrind output file."""
    names, calls, current = {}, {}, None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith(("fn=", "cfn=", "cfi=", "cfl=")):
                m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
                if m:
                    if m.group(3):
                        names[m.group(2)] = m.group(3)
                    if m.group(1) == "cfn":
                        current = m.group(2)
            elif line.startswith("calls=") and current is not None:
                calls[current] = calls.get(current, 0) + int(line[6:].split()[0])
    return {names.get(k, k): v for k, v in calls.items()}


def callgrind_inclusive(path):
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         check=False).stdout
    costs, total = {}, None
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$", line)
        if not m:
            continue
        value = int(m.group(1).replace(",", ""))
        what = m.group(2)
        if what.startswith("PROGRAM TOTALS"):
            total = value
            continue
        if what.startswith("events annotated"):
            continue
        fn = re.sub(r" \([\d,]+x\)$", "", what.split(" [")[0].strip())
        fn = fn.split(":", 1)[1] if ":" in fn else fn
        costs[fn] = max(costs.get(fn, 0), value)
    return total, costs


def bench_keys():
    say("keystroke cost: typing %d and %d characters under callgrind (this takes a while)"
        % (KEYS, FEW_KEYS))
    results = {}
    for n in (FEW_KEYS, KEYS):
        db = os.path.join(WORK, "keys-%d.db" % n)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
        script = os.path.join(WORK, "keys-%d.script" % n)
        with open(script, "w") as f:
            f.write(SIGN_IN + "send \\x0e\nexpect What was good?\nsettle\nmark\ntype %d\n"
                    "lap typing_us\nterm\n" % n)
        out = os.path.join(WORK, "callgrind-%d.out" % n)
        t0 = time.perf_counter()
        ptyrun(["-t", "900", "-s", script, "--", "valgrind", "--tool=callgrind",
                "--callgrind-out-file=" + out, SK, "--db", db], timeout=1800)
        total, costs = callgrind_inclusive(out)
        results[n] = {"total": total, "costs": costs, "calls": callgrind_calls(out),
                      "seconds": time.perf_counter() - t0}
    few, many = results[FEW_KEYS], results[KEYS]
    keys = KEYS - FEW_KEYS
    per_key = (many["total"] - few["total"]) / keys
    draws_few = few["calls"].get("doupdate", few["calls"].get("doupdate_sp", 0))
    draws_many = many["calls"].get("doupdate", many["calls"].get("doupdate_sp", 0))
    add_row("keystroke in the story editor, typing a %s-character story (callgrind)"
            % format(KEYS, ","), per_key, None, None,
            "(%s run − %s run) / %s keys" % (format(KEYS, ","), FEW_KEYS, format(keys, ",")),
            "-", "≤ 200,000 instructions a key", per_key <= 200000,
            fmt=lambda v: "-" if v is None else "{:,.0f} instr".format(v),
            note="one deterministic count, so no min/max")
    diagnostics.append(("screen updates (doupdate calls) per key typed",
                        "%.2f (%d in the %d-key run, %d in the %d-key run)" % (
                            (draws_many - draws_few) / keys, draws_many, KEYS, draws_few, FEW_KEYS)))
    for fn in ("write", "poll"):
        diagnostics.append(("%s() calls per key (callgrind)" % fn, "%.2f" % (
            (many["calls"].get(fn, 0) - few["calls"].get(fn, 0)) / keys)))
    saves = many["calls"].get("draft_save", 0) - few["calls"].get("draft_save", 0)
    save_cost = many["costs"].get("draft_save", 0) - few["costs"].get("draft_save", 0)
    diagnostics.append(("of which timer-driven draft saves (every 3 s of wall time, so more of "
                        "them under valgrind than at a person's pace)",
                        "{:,.0f} instr a key ({} more saves in the long run)".format(
                            save_cost / keys, saves)))
    skip = {"main", "(below main)", "__libc_start_main@@GLIBC_2.34", "run_capture", "ui_capture",
            "0x000000000001ab70"}
    deltas = []
    for fn, cost in many["costs"].items():
        if fn in skip or fn.startswith("0x"):
            continue
        deltas.append(((cost - few["costs"].get(fn, 0)) / keys, fn))
    deltas.sort(reverse=True)
    top = ", ".join("%s %s" % (fn, "{:,.0f}".format(v)) for v, fn in deltas[:12])
    diagnostics.append(("instructions a key by function, inclusive (callgrind)", top))
    diagnostics.append(("wall time of the two callgrind runs", "%s and %s" % (
        fmt_time(few["seconds"]), fmt_time(many["seconds"]))))


# ---------------------------------------------------------------- consent

STORY = """send \\x0e
expect What was good?
send The nurses were kind.
send \\x0e
expect What could have been different?
send Shorter waits.
send \\x0e
expect A title for your story
send Kind nurses
send \\r
expect Who is telling this story?
send \\r
expect A name to post under
send BlueHeron
send \\r
expect Your postcode
send LE1 5WW
send \\r
expect Where was your care?
send ward 7
expect [ ]
send \\r
expect Chosen (1)
send \\x0e
expect Your email address
send jo.bloggs@example.org
send \\r
expect Read the address back
send \\x0e
expect Check your story
send \\x0e
expect Your consent
settle
"""


def bench_consent():
    say("consent to durable commit: %d stories, each followed by the floor program" % RUNS)
    db = os.path.join(WORK, "consent.db")
    floor_db = os.path.join(WORK, "floor-commit.db")
    for path in (db, floor_db):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)
    script = os.path.join(WORK, "consent.script")
    floor = "%s %s" % (os.path.join(BB, "floor_commit"), floor_db)
    with open(script, "w") as f:
        # One story first, untimed: both sides start with a warm connection. It
        # also counts the pages (WAL frames) each side's commit writes: the WAL
        # is emptied just before and read just after.
        f.write(SIGN_IN + STORY +
                "sh sqlite3 %s 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null\n"
                "send y\\r\nexpect Story reference:\n"
                "sh echo kiosk_wal_frames $(sqlite3 %s 'PRAGMA wal_checkpoint(PASSIVE)' | cut -d'|' -f2)\n"
                "sh %s --frames | grep frames\n"
                "send \\r\nexpect Introduce yourself\n" % (db, db, floor))
        # Each timed story: first N, which only redraws the screen (the pty round
        # trip and a draw, no queue), then Y and Enter, which commits.
        f.write("repeat %d\n%smark\nsend n\nexpect (*) No\nlap redraw_us\nsettle\n"
                "mark\nsend y\\r\nexpect Story reference:\nlap consent_us\n"
                "sh %s\nsend \\r\nexpect Introduce yourself\nend\nmemory wizard_\nkill\n"
                % (RUNS, STORY, floor))
    v = ptyrun(["-t", "60", "-s", script, "--", SK, "--db", db])
    c = summary([x / 1e6 for x in v["consent_us"]])
    fl = summary([x / 1e6 for x in v["commit_us"]])
    ratio = c[0] / fl[0]
    add_row("consent key to thank-you screen (story committed, WAL, synchronous=FULL)", *c,
            "bare BEGIN IMMEDIATE; INSERT; COMMIT: %s" % fmt_time(fl[0]), fmt_ratio(ratio),
            "≤ 1.5× the floor", ratio <= 1.5)
    n = subprocess.run(["sqlite3", db, "SELECT count(*) FROM stories"], stdout=subprocess.PIPE,
                       text=True, check=False).stdout.strip()
    diagnostics.append(("stories the consent runs queued (checked in the file)", n))
    r = summary([x / 1e6 for x in v["redraw_us"]])
    diagnostics.append(("on the consent screen, a key that only redraws it (N: pty round trip "
                        "and a draw, no queue)", "%s (min %s, max %s)" % (
                            fmt_time(r[0]), fmt_time(r[1]), fmt_time(r[2]))))
    # The row above compares key-to-screen with a commit timed in-process; this
    # takes each story's own redraw-only key off its consent time, leaving what
    # the commit itself cost, for a like-for-like look at the floor.
    own = summary([(c_us - r_us) / 1e6 for c_us, r_us in zip(v["consent_us"], v["redraw_us"])])
    diagnostics.append(("consent minus that story's redraw-only key (the commit's own share, "
                        "key to screen)", "%s (min %s, max %s): %s the floor" % (
                            fmt_time(own[0]), fmt_time(own[1]), fmt_time(own[2]),
                            fmt_ratio(own[0] / fl[0]))))
    if "kiosk_wal_frames" in v and "floor_wal_frames" in v:
        diagnostics.append(("pages (WAL frames, 4 KB each) one consent commit writes",
                            "kiosk %d, floor %d" % (v["kiosk_wal_frames"][0], v["floor_wal_frames"][0])))
    return {"vmhwm_kb": v["wizard_vmhwm_kb"][0], "rssanon_kb": v["wizard_rssanon_kb"][0],
            "rssfile_kb": v["wizard_rssfile_kb"][0]}


def wizard_memory(q):
    """Peak memory of one whole story, sign-in to thank-you, on queue q."""
    script = os.path.join(WORK, "wizard-memory.script")
    with open(script, "w") as f:
        f.write(SIGN_IN + STORY + "send y\\r\nexpect Story reference:\nsend \\r\n"
                "expect Introduce yourself\nmemory wizard_\nkill\n")
    v = ptyrun(["-t", "120", "-s", script, "--", SK, "--db", q])
    return {k[len("wizard_"):]: v[k][0] for k in v}


# ---------------------------------------------------------------- reports

def time_list_head(q):
    usage, _ = run_timed([SK, "--db", q, "list"], head_lines=20)
    return usage.wall, usage.first


def bench_reports(q_big):
    say("list and stats on %s stories: %d runs, alternating" % (format(BIG, ","), RUNS))
    head_t, first_t, stats_t, full_t = [], [], [], []
    for i in range(RUNS):
        wall, first = time_list_head(q_big)
        head_t.append(wall)
        first_t.append(first)
        stats_t.append(run_timed([SK, "--db", q_big, "stats"])[0].wall)
        if i < SLOW_RUNS:
            full_t.append(run_timed([SK, "--db", q_big, "list"])[0].wall)
    h = summary(head_t)
    add_row("`list | head -n 20` with %s stories" % format(BIG, ","), *h, "-", "-", "≤ 20 ms",
            h[0] <= 0.020, note="until storykiosk has exited; the 20th line arrived after %s" % (
                fmt_time(med(first_t))))
    s = summary(stats_t)
    add_row("`stats` with %s stories" % format(BIG, ","), *s, "-", "-", "≤ 20 ms", s[0] <= 0.020)
    fl = summary(full_t)
    add_row("`list` (every story, to /dev/null) with %s stories" % format(BIG, ","), *fl, "-", "-",
            "(no budget: shows what a first page saves)", None)
    # Each stats query on its own, with the same library, for the diagnosis.
    # These are the queries src/store.c runs (schema v6: the running counts).
    queries = [
        ("by status", "SELECT status, sum(stories) FROM story_counts GROUP BY status"
                      " HAVING sum(stories) > 0 ORDER BY status"),
        ("by service", "SELECT CASE WHEN coded THEN code ELSE '(not in the list)' END, name, services"
                       " FROM service_counts WHERE services > 0 ORDER BY services DESC, name, coded, code"),
        ("staff share", "SELECT coalesce(sum(stories), 0), coalesce(sum(stories * posted_by_staff), 0)"
                        " FROM story_counts WHERE status <> 'withdrawn'"),
    ]
    parts = []
    for label, sql in queries:
        times = []
        for _ in range(3):
            out = subprocess.run(["sqlite3", "-batch", q_big],
                                 input=".timer on\n%s;\n" % sql, stdout=subprocess.PIPE,
                                 text=True, check=False).stdout
            m = re.search(r"Run Time: real ([\d.]+)", out)
            if m:
                times.append(float(m.group(1)))
        plan = subprocess.run(["sqlite3", "-batch", q_big, "EXPLAIN QUERY PLAN " + sql],
                              stdout=subprocess.PIPE, text=True, check=False).stdout
        plan = "; ".join(l.strip("|-` ") for l in plan.splitlines()[1:])
        parts.append("%s %s [%s]" % (label, fmt_time(med(times)) if times else "?", plan))
    diagnostics.append(("the three `stats` queries one by one (sqlite3 CLI .timer, query plan)",
                        " · ".join(parts)))
    return full_t


# ---------------------------------------------------------------- export

def record_select_sql():
    """The export's SQL, json column only, from src/store.c (so the CLI runs
    exactly what the kiosk runs), with the export's own WHERE and ORDER BY."""
    with open(os.path.join(ROOT, "src", "store.c"), encoding="utf-8") as f:
        src = f.read()
    m = re.search(r'store_record_select\[\]\s*=\s*((?:\s*"(?:[^"\\]|\\.)*")+)\s*;', src)
    if not m:
        raise RuntimeError("store_record_select not found in src/store.c")
    sql = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))).replace('\\"', '"')
    json_only, n = re.subn(r"\)\s*,\s*s\.id\s*,\s*s\.status\s+FROM\s+stories\s+s\s*$",
                           ") FROM stories s", sql)
    if n != 1:
        raise RuntimeError("store_record_select no longer ends in ', s.id, s.status FROM stories s'")
    return json_only + " WHERE s.status <> 'withdrawn' ORDER BY s.consented_at, s.id;"


def bench_export(q_big, q_sync):
    say("export --format jsonl of %s stories vs the sqlite3 CLI: %d runs, alternating"
        % (format(BIG, ","), SLOW_RUNS))
    try:
        sql = record_select_sql()
    except RuntimeError as e:
        add_error("export jsonl vs sqlite3 CLI", "≥ 0.5× its throughput", str(e))
        return None
    sql_file = os.path.join(WORK, "export.sql")
    with open(sql_file, "w") as f:
        f.write(sql + "\n")
    # Same output? Both to files once, compared byte for byte.
    a, b = os.path.join(WORK, "export-sk.jsonl"), os.path.join(WORK, "export-cli.jsonl")
    with open(a, "wb") as out:
        run_timed([SK, "--db", q_big, "export", "--format", "jsonl"], stdout=out)
    with open(b, "wb") as out, open(sql_file, "rb") as sql_in:
        run_timed(["sqlite3", "-batch", "-noheader", q_big], stdin=sql_in, stdout=out)
    same = subprocess.run(["cmp", "-s", a, b], check=False).returncode == 0
    size = os.path.getsize(a)
    sk_t, cli_t, sk_rss, cli_rss = [], [], [], []
    for _ in range(SLOW_RUNS):
        usage, _ = run_timed([SK, "--db", q_big, "export", "--format", "jsonl"])
        sk_t.append(usage.wall)
        sk_rss.append(usage.maxrss_kb)
        with open(sql_file, "rb") as sql_in:
            usage, _ = run_timed(["sqlite3", "-batch", "-noheader", q_big], stdin=sql_in)
        cli_t.append(usage.wall)
        cli_rss.append(usage.maxrss_kb)
    s, c = summary(sk_t), summary(cli_t)
    ratio = c[0] / s[0]  # storykiosk's throughput as a share of the CLI's
    add_row("`export --format jsonl` of %s stories (%.0f MB, to /dev/null)" % (format(BIG, ","),
                                                                               size / 1e6), *s,
            "sqlite3 CLI, same SQL: %s" % fmt_time(c[0]), fmt_ratio(ratio) + " its throughput",
            "≥ 0.5× its throughput", ratio >= 0.5,
            note="%.0f stories/s vs %.0f; outputs %s" % (
                BIG / s[0], BIG / c[0], "byte-identical" if same else "DIFFER"))
    small = []
    for _ in range(3):
        small.append(run_timed([SK, "--db", q_sync, "export", "--format", "jsonl"])[0].maxrss_kb)
    return {"rss_big": sk_rss, "rss_small": small, "cli_rss": cli_rss}


# ---------------------------------------------------------------- PostgreSQL

def export_records(q):
    out = subprocess.run([SK, "--db", q, "export", "--format", "jsonl"], stdout=subprocess.PIPE,
                         env=SK_ENV, check=True).stdout.decode("utf-8")
    records = []
    for line in out.splitlines():
        records.append((json.loads(line)["id"], line))
    return records


def pg_sync(q_template, n, label):
    """Sync a fresh copy of q_template to the (truncated) central table."""
    psql("TRUNCATE storykiosk_stories")
    q = os.path.join(WORK, "sync-%s.db" % label)
    fresh_copy(q_template, q)
    cpu0 = server_cpu()
    usage, out = run_timed([SK, "--db", q, "sync", PG_URL], stdout=subprocess.PIPE, check=False)
    time.sleep(0.3)  # let the postmaster reap the backend
    cpu = server_cpu() - cpu0
    ok, said = sync_summary_ok(out, n)
    if not ok:
        raise RuntimeError("sync did not deliver %d stories: %s" % (n, said))
    count = int(psql("SELECT count(*) FROM storykiosk_stories").stdout)
    if count != n:
        raise RuntimeError("the server holds %d stories, not %d" % (count, n))
    return usage, cpu


def pg_sync_deadline(q_template, n, label, seconds):
    """Like pg_sync, but stop the sync after `seconds`: returns its Usage (the
    peak memory so far), the server's CPU, how many stories arrived, and
    whether it finished."""
    psql("TRUNCATE storykiosk_stories")
    q = os.path.join(WORK, "sync-%s.db" % label)
    fresh_copy(q_template, q)
    stat = os.path.join(WORK, "runstat-big.out")
    cpu0 = server_cpu()
    proc = subprocess.Popen([RUNSTAT, "-o", stat, "--", SK, "--db", q, "sync", PG_URL],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=SK_ENV)
    finished = True
    try:
        out, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        finished = False
        try:
            with open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)) as f:
                for pid in f.read().split():
                    os.kill(int(pid), signal.SIGKILL)
        except OSError:
            proc.kill()
        out, _ = proc.communicate()
    time.sleep(0.3)
    cpu = server_cpu() - cpu0
    with open(stat) as f:
        usage = Usage(dict((k, int(v)) for k, v in (line.split() for line in f)))
    count = int(psql("SELECT count(*) FROM storykiosk_stories").stdout)
    if finished:
        ok, said = sync_summary_ok(out, n)
        if not ok:
            raise RuntimeError("sync did not deliver %d stories: %s" % (n, said))
    return usage, cpu, count, finished


def bench_pg(q_sync, q_one, q_sync_ordered):
    if not PG_URL:
        for budget in ("≥ 20× (a)", "≥ 0.5× (b)"):
            add_error("sync of %s stories to PostgreSQL" % format(SYNC_N, ","), budget,
                      "no PostgreSQL server (see bench/README.md)")
        return None
    say("sync to PostgreSQL: %d rounds of sync %s / psql ×%d / COPY, alternating"
        % (SYNC_RUNS, format(SYNC_N, ","), PSQL_N))
    # The central tables, made by the program itself.
    q = os.path.join(WORK, "sync-schema.db")
    fresh_copy(q_one, q)
    run_timed([SK, "--db", q, "sync", PG_URL], stdout=subprocess.PIPE)
    records = export_records(q_sync)
    csv_path = os.path.join(WORK, "copy.csv")
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        for story_id, record in records:
            w.writerow([story_id, record, ""])
    sync_t, sync_cpu, sync_rss, psql_t, copy_t, client_share = [], [], [], [], [], []
    ordered_t = []
    for _ in range(SYNC_RUNS):
        usage, _ = pg_sync(q_sync_ordered, SYNC_N, "pg-ordered")
        ordered_t.append(usage.wall)
        usage, cpu = pg_sync(q_sync, SYNC_N, "pg")
        client_share.append(usage.cpu / usage.wall)
        sync_t.append(usage.wall)
        sync_cpu.append(cpu)
        sync_rss.append(usage.maxrss_kb)
        psql("TRUNCATE storykiosk_stories")
        t0 = time.perf_counter()
        for story_id, record in records[:PSQL_N]:
            sql = ("INSERT INTO storykiosk_stories (id, record, terminal) VALUES ('%s', '%s'::jsonb, NULL)"
                   " ON CONFLICT (id) DO NOTHING" % (story_id, record.replace("'", "''")))
            subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", PG_URL, "-c", sql],
                           stdout=subprocess.DEVNULL, check=True)
        psql_t.append((time.perf_counter() - t0) / PSQL_N * SYNC_N)
        psql("TRUNCATE storykiosk_stories")
        with open(csv_path, "rb") as data:
            t0 = time.perf_counter()
            psql("COPY storykiosk_stories (id, record, terminal) FROM STDIN WITH (FORMAT csv)",
                 stdin=data)
            copy_t.append(time.perf_counter() - t0)
        count = int(psql("SELECT count(*) FROM storykiosk_stories").stdout)
        if count != SYNC_N:
            raise RuntimeError("COPY left %d rows, not %d" % (count, SYNC_N))
    s, p, c = summary(sync_t), summary(psql_t), summary(copy_t)
    ra, rb = p[0] / s[0], c[0] / s[0]
    add_row("`sync` of %s stories to a local PostgreSQL" % format(SYNC_N, ","), *s,
            "(a) one psql -c INSERT per story: %s (%d sent, scaled to %s)" % (
                fmt_time(p[0]), PSQL_N, format(SYNC_N, ",")),
            fmt_ratio(ra), "≥ 20× (a)", ra >= 20,
            note="%.0f stories/s; storykiosk busy %.0f%% of its time, the server %.0f%%" % (
                SYNC_N / s[0], 100 * med(client_share), 100 * med(sync_cpu) / s[0]))
    add_row("`sync` of %s stories to a local PostgreSQL" % format(SYNC_N, ","), *s,
            "(b) one COPY of the same rows: %s" % fmt_time(c[0]), fmt_ratio(rb) + " its speed",
            "≥ 0.5× (b)", rb >= 0.5)
    o = summary(ordered_t)
    diagnostics.append(("`sync` of %s stories whose consent order is their order in the file, as a "
                        "kiosk writes them (make_queue.py --in-order; the row above cycles consent "
                        "times over 20 days, scattering them), alternating with the row above"
                        % format(SYNC_N, ","), "%s (min %s, max %s): %s the speed of one COPY" % (
                            fmt_time(o[0]), fmt_time(o[1]), fmt_time(o[2]), fmt_ratio(c[0] / o[0]))))
    diagnostics.append(("server CPU for one sync of %s stories (all postgres processes)"
                        % format(SYNC_N, ","), "%.2f s (%.0f µs a story)" % (
                            med(sync_cpu), med(sync_cpu) / SYNC_N * 1e6)))
    return {"rss": sync_rss, "rate": SYNC_N / s[0]}


# ---------------------------------------------------------------- HTTP

def start_intake(kind, label):
    d = os.path.join(WORK, "intake-%s" % label)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    port_file = os.path.join(d, "port")
    if kind == "py":
        argv = [sys.executable, os.path.join(ROOT, "tests", "tools", "intake.py"), "--port-file",
                port_file, "--store", d, "--lifetime", "1200"]
    else:
        argv = [os.path.join(BB, "intake_min"), port_file]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(port_file) and open(port_file).read().strip():
            break
        time.sleep(0.025)
    else:
        proc.kill()
        raise RuntimeError("the %s intake did not start" % kind)
    port = int(open(port_file).read().strip())
    return proc, "http://127.0.0.1:%d/stories" % port


def stop_intake(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bench_http(q_sync):
    records = export_records(q_sync)
    results = {}
    for kind, label in (("py", "tests/tools/intake.py"), ("min", "bench/intake_min (only counts)")):
        say("sync to the HTTP intake (%s): %d rounds of sync %s / curl ×%d, alternating"
            % (label, SYNC_RUNS, format(SYNC_N, ","), CURL_N))
        sync_t, curl_t, intake_share, client_share = [], [], [], []
        for r in range(SYNC_RUNS):
            proc, url = start_intake(kind, "%s-%d" % (kind, r))
            q = os.path.join(WORK, "sync-http.db")
            fresh_copy(q_sync, q)
            cpu0 = proc_cpu(proc.pid)[0]
            usage, out = run_timed([SK, "--db", q, "sync", url], stdout=subprocess.PIPE, check=False)
            wall = usage.wall
            intake_cpu = proc_cpu(proc.pid)[0] - cpu0
            stop_intake(proc)
            ok, said = sync_summary_ok(out, SYNC_N)
            if not ok:
                raise RuntimeError("HTTP sync did not deliver %d stories: %s" % (SYNC_N, said))
            sync_t.append(wall)
            intake_share.append(intake_cpu / wall)
            client_share.append(usage.cpu / wall)
            proc, url = start_intake(kind, "%s-curl-%d" % (kind, r))
            t0 = time.perf_counter()
            for story_id, record in records[:CURL_N]:
                code = subprocess.run(
                    ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                     "-H", "Content-Type: application/json", "-H", "Idempotency-Key: " + story_id,
                     "--data-binary", "@-", url],
                    input=record.encode("utf-8"), stdout=subprocess.PIPE, check=True).stdout
                if code != b"201":
                    raise RuntimeError("curl got HTTP %s" % code.decode())
            curl_t.append((time.perf_counter() - t0) / CURL_N * SYNC_N)
            stop_intake(proc)
        s, c = summary(sync_t), summary(curl_t)
        ratio = c[0] / s[0]
        add_row("`sync` of %s stories to the HTTP intake: %s" % (format(SYNC_N, ","), label), *s,
                "curl once per story: %s (%d sent, scaled)" % (fmt_time(c[0]), CURL_N),
                fmt_ratio(ratio), "≥ 5×", ratio >= 5,
                note="%.0f stories/s; intake busy %.0f%% of the sync's time, storykiosk %.0f%%" % (
                    SYNC_N / s[0], 100 * med(intake_share), 100 * med(client_share)))
        results[kind] = {"sync": s, "intake_share": med(intake_share),
                         "client_share": med(client_share)}
    return results


# ---------------------------------------------------------------- memory

def bench_memory(q_big, export_mem, pg_mem, wizard_small):
    say("peak memory: the wizard with %s queued, export and sync of %s (the sync stops "
        "after %d s at most)" % (format(BIG, ","), format(BIG, ","), BIG_SYNC_SECONDS))
    q = os.path.join(WORK, "wizard-big.db")
    fresh_copy(q_big, q)
    big = wizard_memory(q)
    add_row("peak resident memory: the wizard, one whole story, %s queued" % format(BIG, ","),
            big["vmhwm_kb"], None, None,
            "empty queue: %s" % (fmt_kb(wizard_small["vmhwm_kb"]) if wizard_small else "-"), "-",
            "≤ 10 MB", big["vmhwm_kb"] <= 10240, fmt=fmt_kb,
            note="of which file-backed (program + libraries) %s, anonymous %s" % (
                fmt_kb(big["rssfile_kb"]), fmt_kb(big["rssanon_kb"])))
    if export_mem:
        b, s = summary(export_mem["rss_big"]), med(export_mem["rss_small"])
        flat = b[0] <= s * 1.10 + 512
        add_row("peak resident memory: `export` of %s" % format(BIG, ","), *b,
                "%s stories: %s; sqlite3 CLI: %s" % (format(SYNC_N, ","), fmt_kb(s),
                                                     fmt_kb(med(export_mem["cli_rss"]))),
                "-", "≤ 10 MB, flat", b[0] <= 10240 and flat, fmt=fmt_kb,
                note="flat" if flat else "grows with the queue")
    if PG_URL:
        usage, cpu, count, finished = pg_sync_deadline(q_big, BIG, "pg-big", BIG_SYNC_SECONDS)
        small = med(pg_mem["rss"]) if pg_mem else None
        flat = small is not None and usage.maxrss_kb <= small * 1.10 + 512
        how = ("finished in %s, %.0f stories/s" % (fmt_time(usage.wall), BIG / usage.wall)
               if finished else
               "STOPPED after %d s with %s of %s delivered (%.0f stories/s; at %s stories it "
               "managed %s/s)" % (BIG_SYNC_SECONDS, format(count, ","), format(BIG, ","),
                                  count / usage.wall, format(SYNC_N, ","),
                                  "%.0f" % pg_mem["rate"] if pg_mem else "?"))
        add_row("peak resident memory: `sync` of %s to PostgreSQL" % format(BIG, ","),
                usage.maxrss_kb, None, None,
                "%s stories: %s" % (format(SYNC_N, ","), fmt_kb(small)), "-", "≤ 10 MB, flat",
                usage.maxrss_kb <= 10240 and flat, fmt=fmt_kb,
                note="one run %s; server CPU %.1f s; %s" % (
                    how, cpu, "flat" if flat else "grows with the queue"))
        floor = [run_timed([os.path.join(BB, "floor_pq"), PG_URL], stdout=subprocess.PIPE,
                           check=False)[0].maxrss_kb for _ in range(3)]
        diagnostics.append(("peak memory of bench/floor_pq (libpq and libcurl linked as in "
                            "storykiosk-sync; connect, one INSERT, disconnect)",
                            "%s: the libraries' share of sync's %s" % (
                                fmt_kb(med(floor)), fmt_kb(usage.maxrss_kb))))
    else:
        add_error("peak resident memory: sync of %s" % format(BIG, ","), "≤ 10 MB",
                  "no PostgreSQL server")


# ---------------------------------------------------------------- scaling

def clone_queue(template, path, k):
    """A copy of template whose story ids are its own (the first 8 hex digits
    replaced by k), so concurrent queues deliver distinct stories."""
    fresh_copy(template, path)
    prefix = "%08x" % k
    sql = ("UPDATE stories SET id = '{p}' || substr(id, 9);"
           "UPDATE answers SET story_id = '{p}' || substr(story_id, 9);"
           "UPDATE story_services SET story_id = '{p}' || substr(story_id, 9);"
           "UPDATE audit SET story_id = '{p}' || substr(story_id, 9);").format(p=prefix)
    subprocess.run(["sqlite3", "-batch", path, sql], check=True)


def concurrent_syncs(queues, expected):
    psql("TRUNCATE storykiosk_stories")
    cpu0 = server_cpu()
    t0 = time.perf_counter()
    procs = []
    for i, q in enumerate(queues):
        stat = os.path.join(WORK, "runstat-%d.out" % i)
        procs.append((subprocess.Popen([RUNSTAT, "-o", stat, "--", SK, "--db", q, "sync", PG_URL],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=SK_ENV),
                      stat))
    client_cpu, bad = 0.0, []
    for p, stat in procs:
        out, err = p.communicate()
        ok, said = sync_summary_ok(out, expected)
        if not ok:
            bad.append(said + " " + err.decode("utf-8", "replace")[-200:])
    wall = time.perf_counter() - t0
    for p, stat in procs:
        with open(stat) as f:
            values = dict((k, int(v)) for k, v in (line.split() for line in f))
        client_cpu += (values["user_us"] + values["sys_us"]) / 1e6
    time.sleep(0.3)
    cpu = server_cpu() - cpu0
    count = int(psql("SELECT count(*) FROM storykiosk_stories").stdout)
    return wall, cpu, client_cpu, count, bad


def bench_scaling(q_scale):
    if not PG_URL:
        notes.append("Scaling: not measured (no PostgreSQL server).")
        return
    say("scaling: %s concurrent syncs of %s stories each" % (", ".join(map(str, SCALE)),
                                                             format(SCALE_N, ",")))
    most = max(SCALE)
    templates = []
    for k in range(most):
        path = os.path.join(WORK, "scale-template-%d.db" % k)
        clone_queue(q_scale, path, k + 1)
        templates.append(path)
    for k in SCALE:
        queues = []
        for i in range(k):
            q = os.path.join(WORK, "scale-run-%d.db" % i)
            fresh_copy(templates[i], q)
            queues.append(q)
        wall, cpu, client, count, bad = concurrent_syncs(queues, SCALE_N)
        stories = k * SCALE_N
        scaling.append({"queues": k, "stories": stories, "delivered": count, "wall": wall,
                        "rate": count / wall, "server_cpu": cpu, "client_cpu": client,
                        "cpu_per_story_us": cpu / max(count, 1) * 1e6, "failed": bad})
    # Connection cost: each queue holds one story, as after a quiet 5 minutes.
    k = most
    queues = []
    for i in range(k):
        q = os.path.join(WORK, "scale-run-%d.db" % i)
        fresh_copy(templates[i], q)
        subprocess.run(["sqlite3", "-batch", q, "PRAGMA foreign_keys = ON; DELETE FROM stories WHERE id <>"
                        " (SELECT id FROM stories ORDER BY consented_at, id LIMIT 1);"], check=True)
        queues.append(q)
    wall, cpu, client, count, bad = concurrent_syncs(queues, 1)
    scaling.append({"queues": k, "stories": k, "delivered": count, "wall": wall,
                    "rate": count / wall, "server_cpu": cpu, "client_cpu": client,
                    "cpu_per_story_us": cpu / max(count, 1) * 1e6, "failed": bad,
                    "one_story": True})


# ---------------------------------------------------------------- output

COLUMNS = [("figure", "figure"), ("median", "median"), ("min", "min"), ("max", "max"),
           ("compared", "compared with"), ("ratio", "ratio"), ("budget", "budget"),
           ("verdict", "verdict")]


def print_table():
    widths = {k: max(len(title), *(len(str(r[k])) for r in rows)) for k, title in COLUMNS}
    widths["figure"] = min(widths["figure"], 60)
    widths["compared"] = min(widths["compared"], 48)
    line = "  ".join(title.ljust(widths[k]) for k, title in COLUMNS)
    print()
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(r[k])[:widths[k]].ljust(widths[k]) for k, _ in COLUMNS))
    print()


def md_escape(text):
    return str(text).replace("|", "\\|")


def projection_text(info):
    bulk = [s for s in scaling if not s.get("one_story") and not s["failed"]]
    one = [s for s in scaling if s.get("one_story")]
    if not bulk:
        return ["No concurrency point completed, so there is no projection."]
    best = min(bulk, key=lambda s: s["cpu_per_story_us"])
    per_story = best["cpu_per_story_us"] / 1e6
    cores = info["cores"]
    lines = []
    lines.append("Measured on this machine (%d cores shared by the clients and the server, "
                 "fsync=%s on the server):" % (cores, os.environ.get("BENCH_PG_FSYNC", "off")))
    lines.append("")
    lines.append("| concurrent queues | stories | delivered | wall | stories/s | server CPU | "
                 "server CPU a story | clients' CPU | failures |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for s in scaling:
        lines.append("| %d%s | %s | %s | %s | %.0f | %.2f s | %.0f µs | %.2f s | %s |" % (
            s["queues"], " (1 story each)" if s.get("one_story") else "",
            format(s["stories"], ","), format(s["delivered"], ","), fmt_time(s["wall"]),
            s["rate"], s["server_cpu"], s["cpu_per_story_us"], s["client_cpu"],
            len(s["failed"]) or "none"))
    lines.append("")
    lines.append("Projection (arithmetic on the figures above, not a measurement):")
    lines.append("")
    lines.append("- Bulk delivery costs the server about **%.0f µs of CPU a story** (best point: "
                 "%d concurrent queues). One core of this machine could take about **%s stories a "
                 "second** of backlog if nothing else ran on it." % (
                     per_story * 1e6, best["queues"], format(int(1 / per_story), ",")))
    if one:
        c = one[0]
        conn = c["server_cpu"] / max(c["delivered"], 1)
        lines.append("- A sync that finds one story costs the server about **%.1f ms of CPU** "
                     "(connection, backend start, the schema check, one INSERT), measured with %d "
                     "queues at once. That fixed cost, not the stories, dominates a quiet ward. "
                     "A sync with nothing due never connects, so it costs the server nothing." % (
                         conn * 1e3, c["queues"]))
        budget = 0.5 * cores
        worst = budget * 300 / conn
        lines.append("- Worst case, every terminal has a new story every five minutes, so every "
                     "timer run connects: with half of this machine's %d cores for PostgreSQL, one "
                     "server takes about **%s terminals** (%.1f ms × N / 300 s ≤ %.1f cores)." % (
                         cores, format(int(worst), ","), conn * 1e3, budget))
        typical = 30  # stories a terminal takes in a day, a busy ward
        day_cpu = typical * (conn + per_story)
        lines.append("- A busy ward terminal taking %d stories a day connects at most %d times a "
                     "day: %.2f s of server CPU a day each, so one such server would take about "
                     "**%s terminals** on CPU alone." % (
                         typical, typical, day_cpu, format(int(budget * 86400 / day_cpu), ",")))
        fastest = max(bulk, key=lambda s: s["rate"])
        lines.append("- After an outage, N terminals each holding B stories reconnect within one "
                     "timer period (the timer's jitter spreads them): the backlog drains at the "
                     "measured %.0f stories/s (%d queues at once, clients and server on the same "
                     "%d cores), i.e. 1,000 terminals × 100 stories in about %.0f s." % (
                         fastest["rate"], fastest["queues"], cores, 100000 / fastest["rate"]))
    lines.append("")
    lines.append("What an organisation with thousands of terminals would deploy: CPU is not the "
                 "limit; connections are. Each sync is one short session, so put PgBouncer (or "
                 "the HTTPS intake) in front of one primary and keep max_connections small; note "
                 "that sync_pg sets statement_timeout with set_config(..., false) (session level) "
                 "and takes a transaction-level advisory lock, so PgBouncer must run in session "
                 "mode or the timeout must become SET LOCAL before transaction pooling is safe. "
                 "Reporting and moderation read from a streaming replica, never from the primary "
                 "the terminals write to. Spread the timers (RandomizedDelaySec in the systemd "
                 "timer) so terminals do not connect in the same second.")
    return lines


def write_results(info):
    elapsed = time.time() - started
    with open("/proc/loadavg") as f:
        info["load at end"] = " ".join(f.read().split()[:3])
    out = []
    out.append("# StoryKiosk benchmark results")
    out.append("")
    out.append("Written by `make bench` (bench/bench.py) on %s in %.0f s. Every figure is the "
               "median of the runs shown, with min and max; every comparison was measured in the "
               "same run, alternating the two commands. The machine is shared and noisy, so "
               "compare ratios rather than absolute times." % (
                   time.strftime("%Y-%m-%d %H:%M %Z"), elapsed))
    out.append("")
    out.append("## Machine")
    out.append("")
    for k in ("cores", "cpu", "memory", "kernel", "disk", "load at start", "load at end", "tools"):
        out.append("- %s: %s" % (k, info.get(k)))
    out.append("- storykiosk: %s (%s)" % (SK, subprocess.run(
        ["git", "-C", ROOT, "describe", "--always", "--dirty"], stdout=subprocess.PIPE, text=True,
        check=False).stdout.strip() or "not a git tree"))
    out.append("- settings: BENCH_RUNS=%d BENCH_SLOW_RUNS=%d BENCH_SYNC_RUNS=%d BENCH_BIG=%d "
               "BENCH_SYNC_N=%d BENCH_KEYS=%d BENCH_FEW_KEYS=%d BENCH_PSQL_N=%d BENCH_CURL_N=%d "
               "BENCH_SCALE=\"%s\" BENCH_SCALE_N=%d BENCH_PG_FSYNC=%s" % (
                   RUNS, SLOW_RUNS, SYNC_RUNS, BIG, SYNC_N, KEYS, FEW_KEYS, PSQL_N, CURL_N,
                   " ".join(map(str, SCALE)), SCALE_N, os.environ.get("BENCH_PG_FSYNC", "off")))
    out.append("")
    out.append("## The table")
    out.append("")
    out.append("| " + " | ".join(t for _, t in COLUMNS) + " | note |")
    out.append("|" + " --- |" * (len(COLUMNS) + 1))
    for r in rows:
        out.append("| " + " | ".join(md_escape(r[k]) for k, _ in COLUMNS) + " | " +
                   md_escape(r["note"]) + " |")
    out.append("")
    fails = [r for r in rows if r["verdict"] in ("FAIL", "ERROR")]
    out.append("%d figures, %d within budget, %d over budget, %d not measured." % (
        len(rows), sum(r["verdict"] == "PASS" for r in rows),
        sum(r["verdict"] == "FAIL" for r in rows), sum(r["verdict"] == "ERROR" for r in rows)))
    out.append("")
    out.append("## Diagnostics (measured in the same run)")
    out.append("")
    for what, value in diagnostics:
        out.append("- %s: %s" % (what, value))
    out.append("")
    out.append("## Scaling past one machine")
    out.append("")
    out.extend(projection_text(info) if scaling else ["Not measured in this run."])
    out.append("")
    if notes:
        out.append("## Notes")
        out.append("")
        for n in notes:
            out.append("- " + n)
        out.append("")
    out.append("## How each figure is measured")
    out.append("")
    out.append("See bench/README.md.")
    with open(RESULTS, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    return fails


missing_tools = set()


def main():
    for tool in ("dialog", "valgrind", "callgrind_annotate", "sqlite3", "psql", "curl"):
        if shutil.which(tool) is None:
            missing_tools.add(tool)
    for path in (SK, PTYRUN, RUNSTAT):
        if not os.access(path, os.X_OK):
            sys.exit("bench: %s is missing; run make bench" % path)
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(HOME, mode=0o700)
    info = machine()
    say("machine: %d cores, %s; %s" % (info["cores"], info["cpu"], info["disk"]))

    q_empty = os.path.join(WORK, "empty.db")
    subprocess.run([SK, "--db", q_empty, "list"], env=SK_ENV, stdout=subprocess.DEVNULL, check=True)
    say("filling a queue with %s stories (tests/tools/make_queue.py)" % format(BIG, ","))
    q_big = os.path.join(WORK, "big.db")
    t = make_queue(q_big, BIG, 1)
    diagnostics.append(("make_queue.py: %s stories" % format(BIG, ","), "%s (%.0f MB file)" % (
        fmt_time(t), os.path.getsize(q_big) / 1e6)))
    q_sync = os.path.join(WORK, "sync.db")
    t = make_queue(q_sync, SYNC_N, 2)
    diagnostics.append(("make_queue.py: %s stories" % format(SYNC_N, ","), fmt_time(t)))
    q_sync_ordered = os.path.join(WORK, "sync-ordered.db")
    make_queue(q_sync_ordered, SYNC_N, 2, in_order=True)
    q_one = os.path.join(WORK, "one.db")
    make_queue(q_one, 1, 3)
    q_scale = os.path.join(WORK, "scale.db")
    make_queue(q_scale, SCALE_N, 4)

    def attempt(name, figure, budget, fn, *args):
        if not section(name):
            notes.append("%s: skipped (BENCH_SKIP)." % figure)
            return None
        try:
            return fn(*args)
        except Exception as e:  # a failed figure is reported, never left blank
            add_error(figure, budget, str(e).strip().splitlines()[-1][:300] if str(e).strip() else repr(e))
            sys.stderr.write(str(e) + "\n")
            return None

    attempt("startup", "start-up", "≤ 1.3× (a); ≤ 0.25× (b); ≤ 1.1× with 100k", bench_startup,
            q_empty, q_big)
    attempt("startup", "quick_check diagnostic", "-", bench_quick_check, q_big)
    if "valgrind" in missing_tools or "callgrind_annotate" in missing_tools:
        add_error("keystroke cost", "≤ 200,000 instructions a key", "valgrind is not installed")
    else:
        attempt("keys", "keystroke cost", "≤ 200,000 instructions a key", bench_keys)
    wizard_small = attempt("consent", "consent to durable commit", "≤ 1.5× the floor", bench_consent)
    attempt("reports", "list and stats", "≤ 20 ms each", bench_reports, q_big)
    export_mem = attempt("export", "export jsonl", "≥ 0.5× its throughput", bench_export, q_big, q_sync)
    pg_mem = attempt("pg", "sync to PostgreSQL", "≥ 20× (a); ≥ 0.5× (b)", bench_pg, q_sync, q_one, q_sync_ordered)
    attempt("http", "sync to the HTTP intake", "≥ 5×", bench_http, q_sync)
    attempt("memory", "peak memory", "≤ 10 MB", bench_memory, q_big, export_mem, pg_mem, wizard_small)
    attempt("scale", "scaling", "-", bench_scaling, q_scale)

    print_table()
    fails = write_results(info)
    say("wrote %s in %.0f s" % (os.path.relpath(RESULTS, ROOT), time.time() - started))
    for r in fails:
        say("%s: %s %s (%s)" % (r["verdict"], r["figure"], r["median"], r["budget"]))
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
