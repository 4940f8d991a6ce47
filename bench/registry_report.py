#!/usr/bin/env python3
"""Writes the "## Registries (issue 7)" section of bench/RESULTS.md from bench/registry.sh's measurements.

The other sections are left as they are; a "### Reading these figures" subsection written by hand under
this section is kept across runs.
"""
import datetime, json, os, platform, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results_section import write_section  # noqa: E402

jd, runs, versions, results = sys.argv[1:5]
HEADING = "## Registries (issue 7)"
MB = 1e6


def load(name):
    return {r["command"]: r for r in json.load(open(os.path.join(jd, name + ".json")))["results"]}


def tsv(name):
    return [line.rstrip("\n").split("\t") for line in open(os.path.join(jd, name))]


sizes = {k: int(v) for k, v in tsv("sizes.tsv")}
commands = dict(tsv("commands.tsv"))
machine_load = {(g, when): (idle, avg) for g, when, idle, avg in tsv("load.tsv")}
size = sizes["image_bytes"]
out = [HEADING, ""]
out.append(f"Run {datetime.date.today().isoformat()} on {platform.node()} ({os.cpu_count()} cores); {versions}. "
           f"The image: Debian bookworm + python3, {sizes['layers']} blobs, {size / MB:.1f} MB compressed (gzip). "
           f"hyperfine, {runs} runs after a warm-up; the registry is Debian's docker-registry on 127.0.0.1.")
out.append("")
out.append("| operation | labenv median | skopeo median | labenv throughput | skopeo throughput | ratio (≥ 1: labenv "
           "at least as fast) | target met |")
out.append("|---|---|---|---|---|---|---|")
for group, mine, peer in (("push", "labenv push", "skopeo copy (push)"), ("pull", "labenv pull", "skopeo copy (pull)")):
    r = load(group)
    a, b = r[mine], r[peer]
    ta, tb = a["median"], b["median"]
    out.append(f"| {group} | {ta:.2f} s (mean {a['mean']:.2f} ± {a['stddev']:.2f}) | {tb:.2f} s (mean {b['mean']:.2f} ± "
               f"{b['stddev']:.2f}) | {size / MB / ta:.0f} MB/s | {size / MB / tb:.0f} MB/s | {tb / ta:.2f}× | "
               f"{'yes' if tb / ta >= 1 else 'no'} |")
floor = load("floor")["labenv images (floor)"]["median"]
out.append("")
out.append(f"labenv's floor (`labenv images -q`: JVM start, CLI, one read of the store) in the same run: "
           f"{floor:.2f} s. Above it, push moves the image at "
           f"{size / MB / max(load('push')['labenv push']['median'] - floor, 1e-3):.0f} MB/s and pull at "
           f"{size / MB / max(load('pull')['labenv pull']['median'] - floor, 1e-3):.0f} MB/s, against skopeo's whole "
           f"commands above.")
out.append("")
out.append("Machine load (idle % in the 3 s before each group; load averages before/after): " + "; ".join(
    f"{g} {machine_load[(g, 'before')][0]}% idle, {machine_load[(g, 'before')][1]} → {machine_load[(g, 'after')][1]}"
    for g in ("push", "pull", "floor")) + ".")
out.append("")
out.append("Commands:")
out.append("")
for k, v in commands.items():
    out.append(f"- {k}: `{v}`")
out.append("")
write_section(results, HEADING, "\n".join(out) + "\n")
