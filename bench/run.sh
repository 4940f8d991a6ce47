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
    # openssl dies of SIGPIPE when head has enough: expected, not a failure.
    { openssl enc -aes-128-ctr -pass "pass:labenv-bench-$i" -nosalt -pbkdf2 -in /dev/zero 2>/dev/null || true; } \
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

# "+ sha256 ×2" lines: the peer doing the same work as labenv (an OCI layer needs the digest of the
# compressed blob and the diff ID of the tar), with openssl's SHA-256 (the fastest here) in tees.
tee_sha='tee >(openssl dgst -sha256 >/dev/null)'
hf gzip --shell bash \
  --prepare "rm -rf '$home' '$out'/*" \
  -n "labenv import --compression gzip" "'$labenv' --home '$home' import --compression gzip '$data' bench:gzip" \
  -n "tar | pigz -6" "tar -cf - -C '$data' . | pigz -6 > '$out/layer.tar.gz'" \
  -n "tar | gzip -6" "tar -cf - -C '$data' . | gzip -6 > '$out/layer.tar.gz'" \
  -n "tar | pigz -6, + sha256 ×2" "tar -cf - -C '$data' . | $tee_sha | pigz -6 | $tee_sha > '$out/layer.tar.gz'"

hf zstd --shell bash \
  --prepare "rm -rf '$home' '$out'/*" \
  -n "labenv import --compression zstd" "'$labenv' --home '$home' import --compression zstd '$data' bench:zstd" \
  -n "tar | zstd -3 -T0" "tar -cf - -C '$data' . | zstd -q -3 -T0 > '$out/layer.tar.zst'" \
  -n "tar | zstd -3 -T0, + sha256 ×2" "tar -cf - -C '$data' . | $tee_sha | zstd -q -3 -T0 | $tee_sha > '$out/layer.tar.zst'"

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
# With the default heap the JVM grows into garbage it need not collect; with -Xmx64m it has to keep
# to the live set, which shows what packing really holds: the same for 1/4 of the data and all of it.
rss() { rm -rf "$home"; LABENV_JAVA_OPTS="${3:-}" /usr/bin/time -f %M "$labenv" --home "$home" import \
  --compression "$1" "$2" bench:mem 2>&1 >/dev/null | tail -1; }
rss_gzip_full=$(rss gzip "$data"); rss_gzip_small=$(rss gzip "$small")
rss_zstd_full=$(rss zstd "$data"); rss_zstd_small=$(rss zstd "$small")
rss_gzip_full64=$(rss gzip "$data" -Xmx64m); rss_gzip_small64=$(rss gzip "$small" -Xmx64m)
rss_zstd_full64=$(rss zstd "$data" -Xmx64m); rss_zstd_small64=$(rss zstd "$small" -Xmx64m)

/usr/bin/python3 "$top/bench/report.py" "$json" "$bytes" "$blob_bytes" "$size_mib" "$small_bytes" \
  "$rss_gzip_full" "$rss_gzip_small" "$rss_zstd_full" "$rss_zstd_small" \
  "$rss_gzip_full64" "$rss_gzip_small64" "$rss_zstd_full64" "$rss_zstd_small64" > "$top/bench/RESULTS.md"
echo "bench: wrote $top/bench/RESULTS.md" >&2
