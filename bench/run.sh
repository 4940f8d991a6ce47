#!/usr/bin/env bash
# Packing, hashing and memory benchmarks for labenv against the peers on the same machine, same run.
# Writes bench/RESULTS.md. Usage: bench/run.sh [SIZE_MIB]   (default 1024: half random, half CSV text)
#
# What is compared (hyperfine, whole commands, the same input directory and the same output disk):
#   gzip layer:  labenv import --compression gzip DIR     vs  tar -cf - DIR | pigz -6   and   | gzip -6
#   zstd layer:  labenv import --compression zstd DIR     vs  tar -cf - DIR | zstd -3 -T0
#   hashing:     labenv fsck (re-hashes every blob)       vs  sha256sum BLOB  and  openssl dgst -sha256 BLOB
#   memory:      peak RSS of labenv import for SIZE and for SIZE/4 (GNU time %M)
set -euo pipefail
top="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
size_mib="${1:-1024}"
work="$top/bench/work"
data="$work/data"
labenv="$top/bin/labenv"
runs="${BENCH_RUNS:-3}"

for tool in hyperfine pigz zstd openssl; do
  command -v "$tool" >/dev/null || { apt-get install -y -qq hyperfine pigz zstd openssl >/dev/null; break; }
done
"$labenv" --version >/dev/null   # builds the jar outside the timings

make_data() { # DIR MIB: half random binary files, half CSV text, deterministic
  local dir="$1" mib="$2"
  rm -rf "$dir"; mkdir -p "$dir/random" "$dir/csv"
  local half=$((mib / 2)) files=$((mib / 2 / 16))
  [ "$files" -ge 1 ] || files=1
  for i in $(seq 1 "$files"); do
    openssl enc -aes-128-ctr -pass "pass:labenv-bench-$i" -nosalt -pbkdf2 -in /dev/zero 2>/dev/null \
      | head -c $((16 * 1024 * 1024)) > "$dir/random/part-$i.bin"
  done
  /usr/bin/python3 - "$dir/csv" "$half" <<'PY'
import random, sys, os
out, mib = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
target = mib * 1024 * 1024
files = max(1, mib // 64)
per = target // files
species = ["setosa", "versicolor", "virginica", "unknown"]
for f in range(files):
    with open(os.path.join(out, f"measurements-{f:03d}.csv"), "w") as fh:
        fh.write("id,timestamp,sensor,value,quality,label\n")
        written, i = 0, 0
        while written < per:
            line = "%d,2024-%02d-%02dT%02d:%02d:%02dZ,s%03d,%.6f,%d,%s\n" % (
                i, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59),
                rng.randint(0, 59), rng.randint(0, 199), rng.gauss(20.0, 5.0), rng.randint(0, 3),
                rng.choice(species))
            fh.write(line)
            written += len(line)
            i += 1
PY
}

echo "bench: generating ${size_mib} MiB of data in $data" >&2
make_data "$data" "$size_mib"
bytes=$(du -sb "$data" | cut -f1)
small="$work/data-small"
make_data "$small" $((size_mib / 4))
small_bytes=$(du -sb "$small" | cut -f1)

home="$work/home"
out="$work/out"
mkdir -p "$out"
json="$work/json"; rm -rf "$json"; mkdir -p "$json"

hf() { # GROUP hyperfine-args... (each command as -n NAME CMD); records the exact command lines too
  local group="$1"; shift
  local args=("$@") i
  for ((i = 0; i < ${#args[@]}; i++)); do
    if [ "${args[$i]}" = "-n" ]; then
      printf '%s\t%s\t%s\n' "$group" "${args[$((i + 1))]}" "${args[$((i + 2))]}" >> "$json/commands.tsv"
    fi
  done
  hyperfine --style basic --runs "$runs" --warmup 1 --export-json "$json/$group.json" "$@" >&2
}

hf gzip \
  --prepare "rm -rf '$home' '$out'/*" \
  -n "labenv import --compression gzip" "'$labenv' --home '$home' import --compression gzip '$data' bench:gzip" \
  -n "tar | pigz -6" "tar -cf - -C '$data' . | pigz -6 > '$out/layer.tar.gz'" \
  -n "tar | gzip -6" "tar -cf - -C '$data' . | gzip -6 > '$out/layer.tar.gz'"

hf zstd \
  --prepare "rm -rf '$home' '$out'/*" \
  -n "labenv import --compression zstd" "'$labenv' --home '$home' import --compression zstd '$data' bench:zstd" \
  -n "tar | zstd -3 -T0" "tar -cf - -C '$data' . | zstd -q -3 -T0 > '$out/layer.tar.zst'"

# Hashing: one store holding the uncompressed layer (a blob the size of the data); fsck re-hashes it.
rm -rf "$home"
"$labenv" --home "$home" import --compression none "$data" bench:plain >/dev/null
blob=$(ls -S "$home"/blobs/sha256/* | head -1)
blob_bytes=$(stat -c %s "$blob")
hf hash \
  -n "labenv fsck" "'$labenv' --home '$home' fsck" \
  -n "sha256sum" "sha256sum '$blob'" \
  -n "openssl dgst -sha256" "openssl dgst -sha256 '$blob'"

# Peak memory (KiB) for the full data and a quarter of it.
rss() { rm -rf "$home"; /usr/bin/time -f %M "$labenv" --home "$home" import --compression "$1" "$2" bench:mem 2>&1 >/dev/null | tail -1; }
rss_gzip_full=$(rss gzip "$data"); rss_gzip_small=$(rss gzip "$small")
rss_zstd_full=$(rss zstd "$data"); rss_zstd_small=$(rss zstd "$small")

/usr/bin/python3 - "$json" "$bytes" "$blob_bytes" "$size_mib" "$small_bytes" \
  "$rss_gzip_full" "$rss_gzip_small" "$rss_zstd_full" "$rss_zstd_small" > "$top/bench/RESULTS.md" <<'PY'
import json, sys, os, platform, subprocess, datetime
jd, data_bytes, blob_bytes, mib, small_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
rss = [int(x) for x in sys.argv[6:10]]
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
print(f"Machine: {os.cpu_count()} cores ({cpu}), {sh('free -g | awk \"/Mem/{print \\$2}\"')} GiB RAM, kernel {platform.release()}, "
      f"{sh('java -version 2>&1 | head -1')}.")
print(f"Data: {data_bytes/2**20:.0f} MiB in `bench/work/data` (half AES-CTR random files of 16 MiB, half CSV text). "
      f"Each figure is hyperfine's mean of the runs shown, with one warm-up; peers run in the same invocation.\n")
def table(name, nbytes, title, ref_names):
    res = load(name)
    print(f"## {title}\n")
    print("| command | mean s | ± s | MiB/s | ratio to " + " / ".join(ref_names) + " |")
    print("|---|---|---|---|---|")
    means = {r["command"]: r["mean"] for r in res}
    for r in res:
        thr = nbytes / r["mean"] / 2**20
        ratios = " / ".join(f"{means[n]/r['mean']:.2f}×" for n in ref_names if n in means)
        print(f"| `{r['command']}` | {r['mean']:.2f} | {r['stddev'] or 0:.2f} | {thr:.0f} | {ratios} |")
    print("\nExact command lines:\n")
    for r in res:
        print(f"- {r['command']}: `{cmds.get((name, r['command']), '?')}`")
    print()
table("gzip", data_bytes, "Packing a directory into a gzip layer", ["tar | pigz -6", "tar | gzip -6"])
table("zstd", data_bytes, "Packing a directory into a zstd layer", ["tar | zstd -3 -T0"])
table("hash", blob_bytes, "Hashing (SHA-256)", ["sha256sum", "openssl dgst -sha256"])
print("A ratio above 1× means labenv is faster than that peer. `labenv fsck` re-hashes every blob in the store "
      "(the layer blob plus a few small JSON blobs) and includes JVM start-up.\n")
print("## Peak memory (RSS) of `labenv import`\n")
print("| compression | data | peak RSS |\n|---|---|---|")
print(f"| gzip | {data_bytes/2**20:.0f} MiB | {rss[0]/1024:.0f} MiB |")
print(f"| gzip | {small_bytes/2**20:.0f} MiB | {rss[1]/1024:.0f} MiB |")
print(f"| zstd | {data_bytes/2**20:.0f} MiB | {rss[2]/1024:.0f} MiB |")
print(f"| zstd | {small_bytes/2**20:.0f} MiB | {rss[3]/1024:.0f} MiB |")
PY
echo "bench: wrote $top/bench/RESULTS.md" >&2
