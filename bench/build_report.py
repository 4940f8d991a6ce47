#!/usr/bin/env python3
"""Writes the "## Builder (issue 4)" section of bench/RESULTS.md from bench/build.sh's measurements.

The other sections are left as they are; a "### Reading these figures" subsection written by hand under
this section is kept across runs (re-read it against the new figures).
"""
import datetime, json, os, platform, re, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results_section import write_section  # noqa: E402

jd, runs_cold, runs, data_bytes, versions, sde_note, results = sys.argv[1:8]
data_bytes = int(data_bytes)
HEADING = "## Builder (issue 4)"
work = os.path.dirname(jd)


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()


def load(name):
    return {r["command"]: r for r in json.load(open(os.path.join(jd, name + ".json")))["results"]}


groups = {g: load(g) for g in ["cold", "noop", "edit"]}
commands = dict(line.rstrip("\n").split("\t", 1) for line in open(os.path.join(jd, "commands.tsv")))
machine_load = {}
for line in open(os.path.join(jd, "load.tsv")):
    g, when, idle, avg = line.rstrip("\n").split("\t")
    machine_load[(g, when)] = (idle, avg)

out = []
p = out.append
cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
mem = sh("free -g | awk '/Mem/{print $2}'")
measured = datetime.datetime.fromtimestamp(os.path.getmtime(os.path.join(jd, "cold.json")), datetime.timezone.utc)
p(HEADING)
p("")
p(f"Written by `bench/build.sh` on {measured:%Y-%m-%d %H:%M} UTC. Machine: {os.cpu_count()} cores ({cpu}), "
  f"{mem} GiB RAM, kernel {platform.release()}, podman's overlay storage and labenv's store on the same disk. "
  f"{versions}.")
p("")
p(f"One context for both tools: `data/measurements.csv`, {data_bytes / 2**20:.0f} MiB of CSV text (made once, "
  f"older than a second before the first build), and `src/` (a 0.5 KiB `analysis.py` and a `run.sh`). One "
  f"Envfile, read by both (`podman build -f context/Envfile`); its base is labenv's `bootstrap busybox` image, "
  f"saved with `labenv save` and loaded into podman (the same layer and config):")
p("")
p("```dockerfile")
p(open(os.path.join(work, "context", "Envfile")).read().rstrip("\n"))
p("```")
p("")
p("Every figure is a whole command, timed by hyperfine (`-N`, no shell) in one invocation per scenario, labenv "
  "then podman, both at nice -15; a prepare script runs before every run (warm-ups included) and ends with "
  "`sync`, so that no run pays for the previous one's writeback:")
p("")
p(f"- **cold**: no build cache, the base image present in both. labenv: `rmi` the built image, then `prune` "
  f"(build cache, stat cache, every blob and unpacked layer no image keeps); podman: `rmi -f` the built image "
  f"(its intermediate images go with it), then `image prune -f`. {runs_cold} runs after 1 warm-up.")
p(f"- **no-op**: the same build again, nothing changed. {runs} runs after 2 warm-ups.")
p(f"- **one edit**: `src/analysis.py` (copied in the second-last file step) gets a line no earlier run wrote, "
  f"so neither cache has it; both rerun `COPY src/`, the RUN after it, and the metadata steps. {runs} runs "
  f"after 1 warm-up.")
p("")
p("podman builds with `--network host` because labenv's RUN steps share the host's network by default (neither "
  "sets up a network stack per step), and `--pull=never`; both keep their step caches (podman's default "
  "`--layers`). podman keeps its own storage under `bench/work/build/podman` (`--root`/`--runroot`), with a "
  "containers.conf for this machine (the hard open-files limit, cgroupfs).")
p("")
p("| scenario | labenv median s | labenv mean ± σ s | podman median s | podman mean ± σ s | labenv ÷ podman "
  "(medians) | faster | CPU s labenv / podman (user + sys) |")
p("|---|---|---|---|---|---|---|---|")
NAMES = {"cold": "cold build", "noop": "no-op rebuild", "edit": "rebuild after one source edit"}
ratios = {}
for g, label in NAMES.items():
    lab, pod = groups[g]["labenv"], groups[g]["podman"]
    ratio = lab["median"] / pod["median"]
    ratios[g] = ratio
    faster = f"labenv, {1 / ratio:.2f}×" if ratio < 1 else f"podman, {ratio:.2f}×"
    p(f"| {label} | {lab['median']:.2f} | {lab['mean']:.2f} ± {lab['stddev'] or 0:.2f} | {pod['median']:.2f} | "
      f"{pod['mean']:.2f} ± {pod['stddev'] or 0:.2f} | {ratio:.2f}× | {faster} | "
      f"{lab['user'] + lab['system']:.2f} / {pod['user'] + pod['system']:.2f} |")
p("")
p("CPU time is what hyperfine counts for the command and the children it waited for: podman's conmon and the "
  "container processes of its RUN steps are not among them (they are double-forked), labenv's are.")
p("")
p("| target (issue 4) | labenv ÷ podman | met |")
p("|---|---|---|")
for g, limit in [("noop", 0.5), ("cold", 1.0)]:
    p(f"| {NAMES[g]}: at most {limit:.1f}× podman's wall time | {ratios[g]:.2f}× | "
      f"{'yes' if ratios[g] <= limit else 'no'} |")
p("")
p("Machine load (2 cores, shared with other work): the idle share of both cores in the 3 s before each scenario "
  "(the script waits up to 5 minutes for 90 %), and the load averages (1, 5, 15 min) before and after it (after: "
  "both tools' own work included).")
p("")
p("| scenario | idle before | load before | load after |")
p("|---|---|---|---|")
for g, label in NAMES.items():
    ib, lb = machine_load.get((g, "before"), ("?", "?"))
    _, la = machine_load.get((g, "after"), ("?", "?"))
    p(f"| {label} | {ib} % | {lb} | {la} |")
p("")

peaks = {}
for line in open(os.path.join(jd, "memory.tsv")):
    name, rest = line.rstrip("\n").split("\t")
    rss, elapsed = rest.split()
    peaks[name] = (int(rss), float(elapsed))
p("Peak memory of one more cold build each (GNU time's maximum RSS: the largest single process among the "
  "command and the descendants it waited for; podman's RUN containers are not among them):")
p("")
p("| command | max RSS MiB | wall s |")
p("|---|---|---|")
for name in ["labenv", "podman"]:
    rss, elapsed = peaks[name]
    p(f"| {name} build (cold) | {rss / 1024:.0f} | {elapsed:.2f} |")
p("")
steps = open(os.path.join(jd, "steps-labenv.txt")).read().splitlines()
p("labenv's own step times in that cold build (`--progress plain`; steps under 0.1 s print no time):")
p("")
p("| step | time |")
p("|---|---|")
current = None
for line in steps:
    m = re.match(r"^\[(\d+)/(\d+)\] (.*)$", line)
    if m:
        if current:
            p(f"| {current} | — |")
        text = m.group(3)
        current = f"{m.group(1)}. `{text if len(text) <= 60 else text[:57] + '...'}`".replace("|", "\\|")
        continue
    m = re.match(r"^\s+done in ([0-9.]+)s$", line)
    if m and current:
        p(f"| {current} | {m.group(1)} s |")
        current = None
if current:
    p(f"| {current} | — |")
p("")

p("Reproducibility: two builds from nothing (`--no-cache`) of the same context, one after the other. For "
  "podman, the image ID (its config's digest) and the manifest digest it stores; for labenv, the config's "
  "digest and the manifest digest `build` prints. `--source-date-epoch 0 --rewrite-timestamp`: "
  f"{sde_note}.")
p("")
p("| builds | # | config digest | manifest digest |")
p("|---|---|---|---|")
repro = {}
for line in open(os.path.join(jd, "repro.tsv")):
    what, i, config, digest = line.rstrip("\n").split("\t")
    repro.setdefault(what, []).append((config, digest))
    p(f"| `{what}` | {i} | `{config}` | `{digest}` |")
p("")
p("| builds | equal config digests | equal manifest digests |")
p("|---|---|---|")
for what, pair in repro.items():
    same_config = "yes" if len(pair) == 2 and pair[0][0] == pair[1][0] else "no"
    same_digest = "yes" if len(pair) == 2 and pair[0][1] == pair[1][1] else "no"
    p(f"| `{what}` | {same_config} | {same_digest} |")
p("")
p("Exact commands (the store and the context under `bench/work/build`):")
p("")
for name in ["labenv", "podman"]:
    p(f"- {name}: `{commands[name]}`")
p("- podman reproducibility: the podman command with `-q --no-cache --timestamp 0` (and without `--timestamp`, "
  "as a control); labenv: the labenv command with `-q --no-cache`.")
p("")
section = "\n".join(out)

write_section(results, HEADING, section)
