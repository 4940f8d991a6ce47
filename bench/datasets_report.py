#!/usr/bin/env python3
"""Writes the "## Datasets (issue 5)" section of bench/RESULTS.md from bench/datasets.sh's measurements.

The other sections are left as they are; a "### Reading these figures" subsection written by hand under
this section is kept across runs (re-read it against the new figures).
"""
import datetime, json, os, platform, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results_section import write_section  # noqa: E402

jd, runs_add, runs, runs_first, big_label, versions, results = sys.argv[1:8]
HEADING = "## Datasets (issue 5)"
MiB = 2 ** 20


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()


def load(name):
    return {r["command"]: r for r in json.load(open(os.path.join(jd, name + ".json")))["results"]}


def tsv(name):
    return [line.rstrip("\n").split("\t") for line in open(os.path.join(jd, name))]


def ms(s):
    return f"{s * 1000:.0f}"


def met(ok):
    return "yes" if ok else "no"


sizes = {k: int(v) for k, v in tsv("sizes.tsv")}
commands = dict(tsv("commands.tsv"))
machine_load = {(g, when): (idle, avg) for g, when, idle, avg in tsv("load.tsv")}
add = {"csv": load("add-csv"), "small": load("add-small")}
readd = load("readd")
first, later = load("first-mount"), load("later-mount")
edits = tsv("edits.tsv")

out = []
p = out.append
cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
mem = sh("free -g | awk '/Mem/{print $2}'")
fs = sh(f"findmnt -n -o FSTYPE -T {jd}")
measured = datetime.datetime.fromtimestamp(os.path.getmtime(os.path.join(jd, "add-csv.json")), datetime.timezone.utc)
csv_b, small_b, n_small = sizes["csv_bytes"], sizes["small_bytes"], sizes["small_files"]
p(HEADING)
p("")
p(f"Written by `bench/datasets.sh` on {measured:%Y-%m-%d %H:%M} UTC. Machine: {os.cpu_count()} cores ({cpu}), "
  f"{mem} GiB RAM, kernel {platform.release()}, the store and the data on one {fs} disk. {versions}.")
p("")
p(f"Data, made by the script from fixed seeds and older than a second before any add: `measurements.csv`, "
  f"{csv_b / MiB:.0f} MiB of CSV ({csv_b} bytes, rows of id, timestamp, sensor, value, quality, label, no two "
  f"alike); `small/`, {n_small} files of 1–8 KiB of hex text ({small_b / MiB:.1f} MiB) in 100 directories; "
  f"for the mounts, two datasets of five AES-CTR random files each, {sizes['ten_mib_bytes'] / MiB:.0f} MiB and "
  f"{sizes['big_bytes'] / 2**30:.1f} GiB.")
p("")
p("Every timed figure is a whole command, timed by hyperfine (`-N`, no shell) in one invocation per group, at "
  "nice -15, with a prepare step before every run (warm-ups included) that ends with `sync`. **The page cache "
  "is warm for both sides**: the warm-ups read the inputs and nothing drops caches, so neither side waits for "
  "the disk to read and the comparison is of the work each does per byte. (Root here may write "
  "`/proc/sys/vm/drop_caches`, but on a shared machine that throws away everyone's cache, and cold reads would "
  "add the same disk time to both sides, which flatters the slower one.) labenv still writes everything it "
  "stores, and its blobs reach the disk (syncfs) before it names a version; sha256sum writes nothing.")
p("")

p(f"### First add against sha256sum ({runs_add} runs after 1 warm-up; labenv into a fresh store each run)")
p("")
p("| input | labenv median s | labenv mean ± σ s | MiB/s | sha256sum median s | sha256sum mean ± σ s | MiB/s | "
  "labenv ÷ sha256sum (time) | throughput ratio | target ≥ 0.8× | CPU s labenv / sha256sum |")
p("|---|---|---|---|---|---|---|---|---|---|---|")
ratios = {}
for key, label, nbytes in [("csv", f"{csv_b / MiB:.0f} MiB CSV", csv_b),
                           ("small", f"{n_small} small files", small_b)]:
    lab, sha = add[key]["labenv"], add[key]["sha256sum"]
    r = lab["median"] / sha["median"]
    ratios[key] = r
    p(f"| {label} | {lab['median']:.2f} | {lab['mean']:.2f} ± {lab['stddev'] or 0:.2f} | "
      f"{nbytes / MiB / lab['median']:.0f} | {sha['median']:.2f} | {sha['mean']:.2f} ± {sha['stddev'] or 0:.2f} | "
      f"{nbytes / MiB / sha['median']:.0f} | {r:.2f}× | {1 / r:.2f}× | {met(1 / r >= 0.8)} | "
      f"{lab['user'] + lab['system']:.2f} / {sha['user'] + sha['system']:.2f} |")
p("")

p(f"### Re-add unchanged ({runs} runs after 2 warm-ups, into the store that has the version)")
p("")
floor = readd["dataset ls"]["median"]
p("| input | re-add median ms | re-add mean ± σ ms | first add median ms | re-add ÷ first add | target ≤ 5 % | "
  "re-add less the floor, ÷ first add |")
p("|---|---|---|---|---|---|---|")
for key, label in [("csv", f"{csv_b / MiB:.0f} MiB CSV"), ("small", f"{n_small} small files")]:
    r = readd[key]
    first_add = add[key]["labenv"]["median"]
    share = r["median"] / first_add
    p(f"| {label} | {ms(r['median'])} | {ms(r['mean'])} ± {ms(r['stddev'] or 0)} | "
      f"{ms(first_add)} | {share * 100:.1f} % | {met(share <= 0.05)} | {(r['median'] - floor) / first_add * 100:.1f} % |")
p("")
p(f"The floor: `labenv dataset ls` on the same store, timed in the same group (a JVM start, the CLI, one read of "
  f"index.json): median {ms(floor)} ms, mean {ms(readd['dataset ls']['mean'])} ± "
  f"{ms(readd['dataset ls']['stddev'] or 0)} ms. No verb finishes faster than that.")
p("")

p("### One edited row of the CSV (one add each, into the store that has the original)")
p("")
p("| copy of the CSV | file bytes | bytesStored (add --format json) | share | `du -sb blobs/` growth | share | "
  "chunks stored | add s | target < 1 % |")
p("|---|---|---|---|---|---|---|---|---|")
EDIT = {"edited": "one row changed in the middle (same length)", "appended": "one row appended"}
for variant, size, before, after, secs in edits:
    size, before, after = int(size), int(before), int(after)
    r = json.load(open(os.path.join(jd, f"add-{variant}.json")))
    stored = r["bytesStored"]
    grown = after - before
    p(f"| {EDIT[variant]} | {size} | {stored} ({stored / MiB:.2f} MiB) | {stored / size * 100:.2f} % | "
      f"{grown} | {grown / size * 100:.2f} % | {r['chunksStored']} | {float(secs):.2f} | "
      f"{met(max(stored, grown) < 0.01 * size)} |")
p("")
p("The `du` growth also counts the new version's config (the file list with every chunk digest) and manifest.")
p("")

p(f"### `run --dataset` mounts (first: {runs_first} runs, the assembled tree removed before each; later: {runs} "
  f"runs after 2 warm-ups)")
p("")
p("| mount | median ms | mean ± σ ms | min ms | over no dataset (medians) |")
p("|---|---|---|---|---|")
base = later["no dataset"]["median"]
p(f"| no dataset (baseline) | {ms(base)} | {ms(later['no dataset']['mean'])} ± "
  f"{ms(later['no dataset']['stddev'] or 0)} | {ms(later['no dataset']['min'])} | — |")
for kind, group in [("first", first), ("later", later)]:
    for size in ["10 MiB", big_label]:
        r = group[size]
        p(f"| {kind}, {size} | {ms(r['median'])} | {ms(r['mean'])} ± {ms(r['stddev'] or 0)} | {ms(r['min'])} | "
          f"{'+' if r['median'] >= base else ''}{ms(r['median'] - base)} ms |")
flat = later[big_label]["median"] / later["10 MiB"]["median"]
p("")
add_big = float(open(os.path.join(jd, "time-add-big")).read().strip())
p(f"Later mounts, {big_label} ÷ 10 MiB (medians): {flat:.2f}×. First mounts, {big_label} ÷ 10 MiB: "
  f"{first[big_label]['median'] / first['10 MiB']['median']:.1f}×. (Adding the {big_label} dataset took "
  f"{add_big:.1f} s, once.)")
p("")

p("### Targets (issue 5)")
p("")
p("| target | measured | met |")
p("|---|---|---|")
for key, label in [("csv", "first add, CSV"), ("small", "first add, small files")]:
    p(f"| {label}: at least 0.8× sha256sum's throughput | {1 / ratios[key]:.2f}× | {met(1 / ratios[key] >= 0.8)} |")
for key, label in [("csv", "re-add unchanged, CSV"), ("small", "re-add unchanged, small files")]:
    share = readd[key]["median"] / add[key]["labenv"]["median"]
    p(f"| {label}: at most 5 % of the first add | {share * 100:.1f} % | {met(share <= 0.05)} |")
for variant, size, before, after, _ in edits:
    r = json.load(open(os.path.join(jd, f"add-{variant}.json")))
    worst = max(r["bytesStored"], int(after) - int(before)) / int(size)
    p(f"| {EDIT[variant]}: under 1 % of the file stored | {worst * 100:.2f} % | {met(worst < 0.01)} |")
p(f"| later mounts flat: {big_label} ≈ 10 MiB | {flat:.2f}× | {met(flat <= 1.1)} (within 10 %) |")
p("")

p("Machine load (2 cores, shared): the idle share of both cores in the 3 s before each group (the script waits "
  "up to 2 minutes for 90 %), and the load averages (1, 5, 15 min) before and after it.")
p("")
p("| group | idle before | load before | load after |")
p("|---|---|---|---|")
for g in ["add-csv", "add-small", "readd", "first-mount", "later-mount"]:
    ib, lb = machine_load.get((g, "before"), ("?", "?"))
    _, la = machine_load.get((g, "after"), ("?", "?"))
    p(f"| {g} | {ib} % | {lb} | {la} |")
p("")
p("Exact commands (the stores and the data under `bench/work/datasets`, removed at the end):")
p("")
for name, cmd in commands.items():
    p(f"- {name}: `{cmd}`")
p("- prepare before each first add: `rm -rf` the store, `sync`; before each first mount: `rm -rf` the version's "
  "assembled tree, `sync`; otherwise `sync`.")
p("- edits: `labenv --home H dataset add csv:edited|csv:appended COPY --format json`, `du -sb H/blobs` before "
  "and after.")
p("")
write_section(results, HEADING, "\n".join(out))
