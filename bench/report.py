#!/usr/bin/env python3
"""Turns bench/run.sh's hyperfine JSON into bench/RESULTS.md (stdout)."""
import json, sys, os, platform, subprocess, datetime
jd, data_bytes, blob_bytes, mib, small_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
rss = [int(x) for x in sys.argv[6:14]]
cmds = {}
for line in open(os.path.join(jd, "commands.tsv")):
    g, n, c = line.rstrip("\n").split("\t", 2)
    cmds[(g, n)] = c
def load(name):
    return json.load(open(os.path.join(jd, name + ".json")))["results"]
def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
print("# labenv benchmark results\n")
print(f"Written by `bench/run.sh {mib}` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC.")
mem = sh("free -g | awk '/Mem/{print $2}'")
java = sh("java -version 2>&1 | head -1")
print(f"Machine: {os.cpu_count()} cores ({cpu}), {mem} GiB RAM, kernel {platform.release()}, {java}.")
print(f"Data: {data_bytes/2**20:.0f} MiB in `bench/work/data` (half AES-CTR random files of 16 MiB, half CSV text). "
      f"Each figure is hyperfine's mean of the runs shown, with one warm-up; peers run in the same invocation.\n")
def table(name, nbytes, title, ref_names):
    res = load(name)
    print(f"## {title}\n")
    esc = lambda t: t.replace("|", "\\|")
    print("| command | mean s | ± s | MiB/s | ratio to " + " / ".join(f"`{esc(n)}`" for n in ref_names) + " |")
    print("|---|---|---|---|---|")
    means = {r["command"]: r["mean"] for r in res}
    for r in res:
        thr = nbytes / r["mean"] / 2**20
        ratios = " / ".join(f"{means[n]/r['mean']:.2f}×" for n in ref_names if n in means)
        print(f"| `{esc(r['command'])}` | {r['mean']:.2f} | {r['stddev'] or 0:.2f} | {thr:.0f} | {ratios} |")
    print("\nExact command lines:\n")
    for r in res:
        print(f"- {r['command']}: `{cmds.get((name, r['command']), '?')}`")
    print()
table("gzip", data_bytes, "Packing a directory into a gzip layer", ["tar | pigz -6", "tar | gzip -6", "tar | pigz -6, + sha256 ×2"])
table("zstd", data_bytes, "Packing a directory into a zstd layer", ["tar | zstd -3 -T0", "tar | zstd -3 -T0, + sha256 ×2"])
table("hash", blob_bytes, "Hashing (SHA-256)", ["sha256sum", "openssl dgst -sha256"])
print("A ratio above 1× means labenv is faster than that peer. `labenv fsck` re-hashes every blob in the store "
      "(the layer blob plus a few small JSON blobs) and includes JVM start-up.\n")
print("## Peak memory (RSS) of `labenv import`\n")
print("| compression | data | peak RSS, default heap | peak RSS, `LABENV_JAVA_OPTS=-Xmx64m` |\n|---|---|---|---|")
print(f"| gzip | {data_bytes/2**20:.0f} MiB | {rss[0]/1024:.0f} MiB | {rss[4]/1024:.0f} MiB |")
print(f"| gzip | {small_bytes/2**20:.0f} MiB | {rss[1]/1024:.0f} MiB | {rss[5]/1024:.0f} MiB |")
print(f"| zstd | {data_bytes/2**20:.0f} MiB | {rss[2]/1024:.0f} MiB | {rss[6]/1024:.0f} MiB |")
print(f"| zstd | {small_bytes/2**20:.0f} MiB | {rss[3]/1024:.0f} MiB | {rss[7]/1024:.0f} MiB |")
print("\nWith the default heap the JVM lets garbage pile up before collecting (it may use a quarter of RAM); "
      "capped at 64 MiB it packs the same data, which shows the live memory does not grow with the data.")
