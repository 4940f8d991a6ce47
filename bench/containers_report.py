#!/usr/bin/env python3
"""Writes the "## Containers (issue 3)" section of bench/RESULTS.md from bench/containers.sh's measurements.

The other sections are left as they are; a "### Reading these figures" subsection written by hand under
this section is kept across runs (re-read it against the new figures).
"""
import datetime, json, os, platform, re, statistics, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results_section import write_section  # noqa: E402

jd, runs, vol_kind, hugetlb_note, versions, results = sys.argv[1:7]
HEADING = "## Containers (issue 3)"


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()


def load(name):
    return {r["command"]: r for r in json.load(open(os.path.join(jd, name + ".json")))["results"]}


startup = load("startup")
volumes = load("volumes")
ms = lambda s: s * 1000
med = lambda name, res=startup: ms(res[name]["median"])
LABELS = {
    "labenv": "`labenv run --rm IMAGE true`",
    "podman": "`podman run --rm IMAGE true`",
    "podman-none-crun": "`podman run --rm --network none --runtime crun IMAGE true`",
    "crun": "`crun run --bundle BUNDLE ID` (the floor)",
    "volume-10m": "`labenv run --rm -v DIR:/data IMAGE true`, DIR 10 MiB",
    "volume-10g": "`labenv run --rm -v DIR:/data IMAGE true`, DIR 10 GiB",
}

out = []
p = out.append
cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
mem = sh("free -g | awk '/Mem/{print $2}'")
p(HEADING)
p("")
measured = datetime.datetime.fromtimestamp(os.path.getmtime(os.path.join(jd, "startup.json")), datetime.timezone.utc)
p(f"Written by `bench/containers.sh` on {measured:%Y-%m-%d %H:%M} UTC. "
  f"Machine: {os.cpu_count()} cores ({cpu}), {mem} GiB RAM, kernel {platform.release()}, cgroups hybrid "
  f"(v1 controllers and a v2 mount; the hugetlb v1 hierarchy crun needs: {hugetlb_note}). {versions}.")
p("")
p(f"The same static busybox image everywhere: imported into labenv's store, saved with `labenv save` and "
  f"loaded into podman (its own storage root, cgroupfs, the machine's open-files limit), unpacked as crun's "
  f"bundle from `crun spec`. hyperfine runs the commands directly (no shell), {runs} runs each after 5 "
  f"warm-ups, all in one invocation, at the same raised priority (nice -15) once the machine was 90% idle "
  f"(it is shared: other builds may still have started during a run); labenv through `bin/labenv`, as a "
  f"user runs it.")
p("")
p("| command | median ms | mean ± σ ms | min ms | CPU ms (user + system) | labenv ÷ this (medians) |")
p("|---|---|---|---|---|---|")
for name in ["labenv", "podman", "podman-none-crun", "crun"]:
    r = startup[name]
    ratio = "—" if name == "labenv" else f"{med('labenv') / med(name):.2f}×"
    p(f"| {LABELS[name]} | {med(name):.1f} | {ms(r['mean']):.1f} ± {ms(r['stddev'] or 0):.1f} | "
      f"{ms(r['min']):.1f} | {ms(r['user']):.0f} + {ms(r['system']):.0f} | {ratio} |")
p("")
p("| target (issue 3) | labenv ÷ peer | met |")
p("|---|---|---|")
for name, limit in [("podman", 0.5), ("podman-none-crun", 1.0)]:
    ratio = med("labenv") / med(name)
    p(f"| at most {limit:.1f}× {LABELS[name]} | {ratio:.2f}× | {'yes' if ratio <= limit else 'no'} |")
p("")

rows = {}
for line in open(os.path.join(jd, "memory.tsv")):
    name, rss, cg = line.rstrip("\n").split("\t")
    rows.setdefault(name, []).append((int(rss), int(cg) if cg else None))
p("Peak memory, the median of 3 runs each. *Max RSS*: GNU time's figure, the largest single process among "
  "the command and the descendants it waited for. *cgroup peak*: `memory.max_usage_in_bytes` of a fresh v1 "
  "memory cgroup the command starts in (processes, page cache they bring in, kernel memory): for labenv the "
  "whole tree at once, both JVMs included, since everything it starts stays there; podman and crun move the "
  "container (and podman its conmon) into cgroups of their own, so theirs covers what stays behind.")
p("")
p("| command | max RSS MiB | cgroup peak MiB |")
p("|---|---|---|")
for name in ["labenv", "podman", "podman-none-crun", "crun"]:
    rss = statistics.median(r for r, _ in rows[name]) / 1024
    cgs = [c for _, c in rows[name] if c is not None]
    cg = f"{statistics.median(cgs) / 2**20:.1f}" if cgs else "—"
    p(f"| {LABELS[name]} | {rss:.1f} | {cg} |")
p("")
small, big = med("volume-10m", volumes), med("volume-10g", volumes)
p(f"Volumes: ten files of 1 MiB against ten of 1 GiB ({vol_kind}), bind-mounted at /data.")
p("")
p("| command | median ms | mean ± σ ms |")
p("|---|---|---|")
for name in ["volume-10m", "volume-10g"]:
    r = volumes[name]
    p(f"| {LABELS[name]} | {ms(r['median']):.1f} | {ms(r['mean']):.1f} ± {ms(r['stddev'] or 0):.1f} |")
p("")
p(f"10 GiB ÷ 10 MiB: {big / small:.2f}× (a bind mount does not depend on what the directory holds).")
p("")
section = "\n".join(out)

write_section(results, HEADING, section)
