#!/usr/bin/env bash
# Dataset benchmarks (issue 5): `labenv dataset add` against sha256sum over the same data, re-adds through the
# stat cache, what one edited row of a large CSV costs in the store, and `run --dataset` mounts of a small and a
# large dataset. Run by hand as root; writes the "## Datasets (issue 5)" section of bench/RESULTS.md and leaves
# the other sections alone. Usage: bench/datasets.sh
#
# The data (made deterministically, older than a second before any add, so labenv's stat cache may trust it):
#   csv:   a 1 GiB CSV (BENCH_CSV_MIB), rows from a seeded generator, no two alike.
#   small: a directory of 20,000 files (BENCH_FILES) of 1-8 KiB of seeded hex text, in 100 subdirectories.
#   10 MiB and 10 GiB (BENCH_BIG_MIB) datasets of five AES-CTR random files each, for the mounts; the 10 GiB
#   source is deleted once added, and everything under bench/work/datasets at the end.
#
# What is compared (hyperfine, whole commands, median and mean ± σ after warm-ups; labenv through bin/labenv).
# The page cache is warm for both sides: every group starts with warm-ups that read the inputs, and nothing
# drops caches (root could write /proc/sys/vm/drop_caches, but the machine is shared, and cold reads would add
# the same disk time to both sides).
#   first add:  `labenv dataset add` into a fresh store (removed and synced before each run) against
#               `sha256sum FILE` / `find DIR -type f -print0 | xargs -0 sha256sum`.
#   re-add:     the same add again into a store that has it (stat cache), as a share of the first add.
#   one edit:   copies of the CSV with one row changed in the middle (same length) and with one row appended,
#               added to the store that has the original: bytesStored (`--format json`) and the growth of
#               `du -sb blobs/`, as shares of the file's size.
#   mounts:     `labenv run --rm --dataset D:/data IMAGE true` for the 10 MiB and the 10 GiB dataset: first
#               mounts (the assembled tree removed and synced before each run) and later mounts, with
#               `labenv run --rm IMAGE true` as the baseline. IMAGE: `labenv bootstrap busybox`.
set -euo pipefail
top="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
work="$top/bench/work/datasets"
labenv="$top/bin/labenv"
runs_add="${BENCH_ADD_RUNS:-5}"
runs="${BENCH_RUNS:-10}"
runs_first="${BENCH_FIRST_RUNS:-3}"
csv_mib="${BENCH_CSV_MIB:-1024}"
small_files="${BENCH_FILES:-20000}"
big_mib="${BENCH_BIG_MIB:-10240}"
big_label="$(awk -v m="$big_mib" 'BEGIN {print (m >= 1024 ? m / 1024 " GiB" : m " MiB")}')"

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (run --dataset mounts need it)" >&2; exit 2; }
. "$top/bench/lib.sh"
bench_renice "$@"
bench_require hyperfine busybox-static openssl time

bench_fresh_work
cleanup() { unmount_work; rm -rf "$work/data" "$work/home" "$work/home-"*; }
trap cleanup EXIT

data="$work/data"
mkdir -p "$data"
csv="$data/measurements.csv"
small="$data/small"
echo "bench: generating ${csv_mib} MiB of CSV and ${small_files} small files in $data" >&2
/usr/bin/python3 - "$csv" "$csv_mib" "$small" "$small_files" <<'PY'
import os, random, sys
out, mib, small, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rng = random.Random(42)
species = ["setosa", "versicolor", "virginica", "unknown"]
target = mib * 1024 * 1024
with open(out, "w") as fh:
    fh.write("id,timestamp,sensor,value,quality,label\n")
    written, i = 0, 0
    while written < target:
        rows = []
        for _ in range(10000):
            r = rng.getrandbits(64)
            rows.append("%d,2024-%02d-%02dT%02d:%02d:%02dZ,s%03d,%d.%06d,%d,%s\n" % (
                i, 1 + r % 12, 1 + (r >> 4) % 28, (r >> 9) % 24, (r >> 14) % 60, (r >> 20) % 60,
                (r >> 26) % 200, 10 + (r >> 34) % 20, (r >> 40) % 1000000, (r >> 60) % 4, species[(r >> 62) & 3]))
            i += 1
        s = "".join(rows)
        if written + len(s) > target:  # stop at the row that crosses the size
            cut = s.find("\n", target - written) + 1
            s = s[:cut] if cut > 0 else s
        fh.write(s)
        written += len(s)
rng = random.Random(7)
for i in range(count):
    d = os.path.join(small, "part-%03d" % (i % 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "record-%05d.txt" % i), "w") as fh:
        fh.write(rng.randbytes(rng.randint(512, 4096)).hex())
PY
csv_bytes=$(stat -c %s "$csv")
small_bytes=$(find "$small" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
sleep 2   # labenv's stat cache trusts only files whose ctime is over a second old

home_add="$work/home-add"      # fresh for every first add
home="$work/home"              # the store that keeps the adds (re-add, edits)
printf '%s\t%s\n' csv_bytes "$csv_bytes" small_bytes "$small_bytes" small_files "$small_files" > "$json/sizes.tsv"

cat > "$work/fresh.sh" <<EOF
rm -rf '$home_add'
sync
EOF
echo "sync" > "$work/sync.sh"
cat > "$work/hash-dir.sh" <<EOF
find '$small' -type f -print0 | xargs -0 sha256sum >/dev/null
EOF

add_csv=("$labenv" --home "$home_add" dataset add csv "$csv")
add_small=("$labenv" --home "$home_add" dataset add small "$small")
sha_csv=(sha256sum "$csv")
sha_small=(sh "$work/hash-dir.sh")
readd_csv=("$labenv" --home "$home" dataset add csv "$csv")
readd_small=("$labenv" --home "$home" dataset add small "$small")
floor=("$labenv" --home "$home" dataset ls)   # a JVM start, the CLI and one read of index.json: the floor of any verb
{
  printf '%s\t%s\n' add-csv "${add_csv[*]}" sha-csv "${sha_csv[*]}" add-small "${add_small[*]}"
  printf '%s\t%s\n' sha-small "find $small -type f -print0 | xargs -0 sha256sum" readd-csv "${readd_csv[*]}"
  printf '%s\t%s\n' readd-small "${readd_small[*]}" floor "${floor[*]}"
} > "$json/commands.tsv"

# Sanity: the adds work (and the store that keeps them gets its first versions).
"${readd_csv[@]}" >/dev/null
"${readd_small[@]}" >/dev/null

hf() { # GROUP RUNS WARMUPS then (PREPARE NAME COMMAND)...
  local group=$1 n=$2 w=$3 args=()
  shift 3
  while [ $# -gt 0 ]; do args+=(--prepare "$1" -n "$2" "$3"); shift 3; done
  bench_quiet "$group"
  hyperfine -N --style basic --runs "$n" --warmup "$w" --export-json "$json/$group.json" "${args[@]}" >&2
  bench_after "$group"
}
hf add-csv "$runs_add" 1 "sh $work/fresh.sh" labenv "${add_csv[*]}" "sh $work/sync.sh" sha256sum "${sha_csv[*]}"
hf add-small "$runs_add" 1 "sh $work/fresh.sh" labenv "${add_small[*]}" "sh $work/sync.sh" sha256sum "${sha_small[*]}"
hf readd "$runs" 2 "sh $work/sync.sh" csv "${readd_csv[*]}" "sh $work/sync.sh" small "${readd_small[*]}" \
  "sh $work/sync.sh" "dataset ls" "${floor[*]}"
rm -rf "$home_add"

# One edited row: a digit of the value field of the first row after the middle, changed (same length); and
# one row appended. Both are copies: new inodes, so the stat cache does not know them and they are read whole.
mid="$data/measurements-edited.csv"
app="$data/measurements-appended.csv"
cp "$csv" "$mid"
cp "$csv" "$app"
/usr/bin/python3 - "$mid" <<'PY'
import os, sys
path = sys.argv[1]
with open(path, "r+b") as fh:
    fh.seek(os.path.getsize(path) // 2)
    fh.readline()
    start = fh.tell()
    row = fh.readline()
    fields = row.split(b",")
    value = bytearray(fields[3])
    value[-1] = ord("0") + (value[-1] - ord("0") + 1) % 10
    fields[3] = bytes(value)
    new = b",".join(fields)
    assert len(new) == len(row) and new != row
    fh.seek(start)
    fh.write(new)
    print(start, row.decode().strip(), "->", new.decode().strip(), file=sys.stderr)
PY
echo "99999999,2025-01-01T00:00:00Z,s000,20.000000,0,appended" >> "$app"
sleep 2
edits="$json/edits.tsv"
: > "$edits"
for variant in edited appended; do
  f="$data/measurements-$variant.csv"
  before=$(du -sb "$home/blobs" | cut -f1)
  /usr/bin/time -f '%e' -o "$json/time-$variant" "$labenv" --home "$home" dataset add "csv:$variant" "$f" \
    --format json > "$json/add-$variant.json"
  after=$(du -sb "$home/blobs" | cut -f1)
  printf '%s\t%s\t%s\t%s\t%s\n' "$variant" "$(stat -c %s "$f")" "$before" "$after" "$(cat "$json/time-$variant")" \
    >> "$edits"
done
rm -f "$mid" "$app"

# Mounts: a 10 MiB and a 10 GiB dataset in a store with the busybox image.
mhome="$work/home-mount"
"$labenv" --home "$mhome" bootstrap busybox -t bench-busybox:1 >/dev/null
mkdir -p "$data/ten-mib" "$data/big"
# openssl dies of SIGPIPE when head has enough: not a failure.
rand() { (set +o pipefail; openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$1" -in /dev/zero 2>/dev/null | head -c "$2"); }
for i in 1 2 3 4 5; do rand "small-$i" $((2 << 20)) > "$data/ten-mib/part-$i.bin"; done
echo "bench: generating $big_label in $data/big" >&2
for i in 1 2 3 4 5; do rand "big-$i" $((big_mib * (1 << 20) / 5)) > "$data/big/part-$i.bin"; done
sleep 2
"$labenv" --home "$mhome" dataset add ten-mib "$data/ten-mib" >/dev/null
echo "bench: adding the $big_label dataset" >&2
/usr/bin/time -f '%e' -o "$json/time-add-big" "$labenv" --home "$mhome" dataset add big "$data/big" >/dev/null
big_bytes=$(du -sb "$data/big" | cut -f1)
printf '%s\t%s\n' big_bytes "$big_bytes" ten_mib_bytes "$(du -sb "$data/ten-mib" | cut -f1)" >> "$json/sizes.tsv"
rm -rf "$data/big"
tree_of() { # NAME -> the version's tree directory
  local digest
  digest=$("$labenv" --home "$mhome" dataset ls --format json |
    /usr/bin/python3 -c 'import json, sys; print([d["digest"] for d in json.load(sys.stdin) if d["name"] == sys.argv[1]][0])' "$1")
  echo "$mhome/datasets/trees/${digest#sha256:}"
}
run_none=("$labenv" --home "$mhome" run --rm bench-busybox:1 true)
run_small=("$labenv" --home "$mhome" run --rm --dataset ten-mib:/data bench-busybox:1 true)
run_big=("$labenv" --home "$mhome" run --rm --dataset big:/data bench-busybox:1 true)
"${run_small[@]}"
"${run_big[@]}"
printf '%s\t%s\n' run-none "${run_none[*]}" run-small "${run_small[*]}" run-big "${run_big[*]}" >> "$json/commands.tsv"
for n in ten-mib big; do
  printf 'rm -rf %s\nsync\n' "'$(tree_of "$n")'" > "$work/untree-$n.sh"
done
hf first-mount "$runs_first" 0 "sh $work/untree-ten-mib.sh" "10 MiB" "${run_small[*]}" \
  "sh $work/untree-big.sh" "$big_label" "${run_big[*]}"
hf later-mount "$runs" 2 "sh $work/sync.sh" "no dataset" "${run_none[*]}" "sh $work/sync.sh" "10 MiB" "${run_small[*]}" \
  "sh $work/sync.sh" "$big_label" "${run_big[*]}"

versions="$(printf '%s; %s; %s' "$(java -version 2>&1 | head -1)" "$(sha256sum --version | head -1)" \
  "$(hyperfine --version)")"
/usr/bin/python3 "$top/bench/datasets_report.py" "$json" "$runs_add" "$runs" "$runs_first" "$big_label" "$versions" \
  "$top/bench/RESULTS.md"
echo "bench: wrote the datasets section of $top/bench/RESULTS.md" >&2
