#!/usr/bin/env bash
# Builder benchmarks (issue 4): `labenv build` against `podman build` on the same Envfile, the same context and
# the same machine, in the same run. Run by hand as root; writes the "## Builder (issue 4)" section of
# bench/RESULTS.md and leaves the other sections alone. Usage: bench/build.sh
#
# The context: a 200 MiB CSV file (data/, COPY'd in a step of its own) and two small source files (src/, COPY'd
# after it). The Envfile (Dockerfile syntax, read by both tools from the same file): FROM a static busybox image
# that both stores hold (made with `labenv bootstrap busybox`, saved with `labenv save`, loaded with
# `podman load`), a RUN that makes a few files, COPY data, COPY src, a RUN over the code, ENV, LABEL, CMD.
#
# What is compared (hyperfine, whole commands, median and mean ± σ after warm-ups; labenv through bin/labenv):
#   cold build:    no build cache, the base image present. labenv: `rmi` the built image, `prune` (removes the
#                  build cache, its stat cache and every blob and unpacked layer no image keeps). podman: `rmi` the
#                  built image (its intermediate images go with it) and `image prune -f`.
#   no-op rebuild: the same build again, nothing changed.
#   one edit:      src/analysis.py rewritten with a line no earlier run had (so the cache never has it), then built.
# podman builds with `--network host`: labenv's RUN steps use the host's network by default, so neither pays
# for a network namespace with its own stack. Both keep their step cache (podman's default --layers).
# Then: peak memory of one cold build each (GNU time's maximum RSS), and reproducibility: two
# `podman build --no-cache --timestamp 0` against two `labenv build --no-cache`, digests compared.
set -euo pipefail
top="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
work="$top/bench/work/build"
labenv="$top/bin/labenv"
runs_cold="${BENCH_COLD_RUNS:-5}"
runs="${BENCH_RUNS:-10}"
data_mib="${BENCH_DATA_MIB:-200}"
base=bench-busybox:1

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (labenv's RUN steps and podman's storage need it)" >&2; exit 2; }
. "$top/bench/lib.sh"
bench_renice "$@"
bench_require podman hyperfine busybox-static time

bench_fresh_work
trap unmount_work EXIT

bench_podman
home="$work/home"

# The base image: labenv's busybox bootstrap, the same layer and config loaded into podman.
"$labenv" --home "$home" bootstrap busybox -t "$base" >/dev/null
"$labenv" --home "$home" save -o "$work/busybox.tar" "$base"
loaded="$("${podman[@]}" load -q -i "$work/busybox.tar" | sed -n 's/^Loaded image: //p' | head -1)"
[ -n "$loaded" ] || { echo "bench: podman load named no image" >&2; exit 1; }
"${podman[@]}" tag "$loaded" "localhost/$base"   # what FROM bench-busybox:1 resolves to first

# The context.
ctx="$work/context"
mkdir -p "$ctx/data" "$ctx/src"
echo "bench: generating ${data_mib} MiB of CSV in $ctx/data" >&2
/usr/bin/python3 - "$ctx/data/measurements.csv" "$data_mib" <<'PY'
import random, sys
out, mib = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
target = mib * 1024 * 1024
species = ["setosa", "versicolor", "virginica", "unknown"]
with open(out, "w") as fh:
    fh.write("id,timestamp,sensor,value,quality,label\n")
    written, i, buf = 0, 0, []
    while written < target:
        line = "%d,2024-%02d-%02dT%02d:%02d:%02dZ,s%03d,%.6f,%d,%s\n" % (
            i, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59),
            rng.randint(0, 59), rng.randint(0, 199), rng.gauss(20.0, 5.0), rng.randint(0, 3),
            rng.choice(species))
        buf.append(line)
        written += len(line)
        i += 1
        if len(buf) >= 10000:
            fh.write("".join(buf))
            buf = []
    fh.write("".join(buf))
PY
cat > "$work/analysis.py" <<'EOF'
"""Summarises the measurements: the mean value per label."""
import collections
import csv
import sys


def main(path):
    sums, counts = collections.defaultdict(float), collections.Counter()
    with open(path) as fh:
        for row in csv.DictReader(fh):
            sums[row["label"]] += float(row["value"])
            counts[row["label"]] += 1
    for label in sorted(counts):
        print(label, sums[label] / counts[label])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/data/measurements.csv")
EOF
cp "$work/analysis.py" "$ctx/src/analysis.py"
cat > "$ctx/src/run.sh" <<'EOF'
#!/bin/sh
# Entry point: counts the rows of the data set and lists the code.
set -e
wc -l /data/measurements.csv
ls -l /opt/app/src
EOF
cat > "$ctx/Envfile" <<'EOF'
FROM bench-busybox:1
RUN mkdir -p /opt/app/etc /opt/out && for i in 1 2 3 4 5; do echo "setting $i" > /opt/app/etc/setting-$i.conf; done
COPY data/ /data/
COPY src/ /opt/app/src/
RUN sha256sum /opt/app/src/* > /opt/app/src.sha256 && wc -l /opt/app/src/analysis.py > /opt/out/lines && chmod +x /opt/app/src/run.sh
ENV APP_HOME=/opt/app DATA=/data
LABEL org.opencontainers.image.title="labenv build benchmark"
CMD ["/opt/app/src/run.sh"]
EOF
# labenv's stat cache trusts only files whose ctime is at least a second old (a file changed within the same
# second could change again unseen): the data must be older than that before the first build.
sleep 2

labenv_build=("$labenv" --home "$home" build -t bench-build:labenv "$ctx")
podman_build=("${podman[@]}" build --pull=never --network host -f "$ctx/Envfile" -t bench-build:podman "$ctx")

# State resets, as scripts (hyperfine runs them before every run, warm-ups included; -N runs no shell).
cat > "$work/cold-labenv.sh" <<EOF
'$labenv' --home '$home' rmi bench-build:labenv >/dev/null 2>&1 || true
'$labenv' --home '$home' prune >/dev/null
sync
EOF
cat > "$work/cold-podman.sh" <<EOF
export CONTAINERS_CONF='$CONTAINERS_CONF'
${podman[*]} rmi -f bench-build:podman >/dev/null 2>&1 || true
${podman[*]} image prune -f >/dev/null
sync
EOF
# A new line each time (nanoseconds and a counter): no run finds its edit in either tool's cache.
cat > "$work/edit.sh" <<EOF
n=\$(cat '$work/edits' 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n > '$work/edits'
cp '$work/analysis.py' '$ctx/src/analysis.py'
echo "# edit \$n at \$(date +%s%N)" >> '$ctx/src/analysis.py'
sync
EOF
echo "sync" > "$work/sync.sh"

# Sanity: both build the context and the images run.
"${labenv_build[@]}" >/dev/null 2>&1 || { "${labenv_build[@]}"; exit 1; }
"${podman_build[@]}" >/dev/null 2>&1 || { "${podman_build[@]}"; exit 1; }
"$labenv" --home "$home" run --rm bench-build:labenv >/dev/null
"${podman[@]}" run --rm --network host bench-build:podman >/dev/null

: "${BENCH_QUIET_WAIT:=300}"   # bench_quiet (lib.sh) waits this long at most for an idle machine

printf '%s\t%s\n' labenv "${labenv_build[*]}" podman "${podman_build[*]}" > "$json/commands.tsv"
hf() { # GROUP RUNS WARMUPS PREPARE_LABENV PREPARE_PODMAN
  bench_quiet "$1"
  hyperfine -N --style basic --runs "$2" --warmup "$3" --export-json "$json/$1.json" \
    --prepare "sh $4" -n labenv "${labenv_build[*]}" \
    --prepare "sh $5" -n podman "${podman_build[*]}" >&2
  bench_after "$1"
}
hf cold "$runs_cold" 1 "$work/cold-labenv.sh" "$work/cold-podman.sh"
hf noop "$runs" 2 "$work/sync.sh" "$work/sync.sh"
hf edit "$runs" 1 "$work/edit.sh" "$work/edit.sh"

# Peak memory of one cold build each, and labenv's own step times (its progress lines) for that build.
cp "$work/analysis.py" "$ctx/src/analysis.py"
sleep 2
peaks="$json/memory.tsv"
: > "$peaks"
sh "$work/cold-labenv.sh"
/usr/bin/time -f '%M %e' -o "$json/time-labenv" "${labenv_build[@]}" --progress plain >/dev/null \
  2> "$json/steps-labenv.txt"
printf 'labenv\t%s\n' "$(cat "$json/time-labenv")" >> "$peaks"
sh "$work/cold-podman.sh"
/usr/bin/time -f '%M %e' -o "$json/time-podman" "${podman_build[@]}" >/dev/null 2>&1
printf 'podman\t%s\n' "$(cat "$json/time-podman")" >> "$peaks"

# Reproducibility: two builds from nothing each. podman: image ID (the config's digest) and the manifest's digest,
# with --timestamp 0 and, as a control, without. labenv: the manifest's digest (what it prints) and the config's.
repro="$json/repro.tsv"
: > "$repro"
podman_ids() { "${podman[@]}" image inspect --format '{{.Id}} {{.Digest}}' "$1"; }
for i in 1 2; do
  "${podman[@]}" build -q --pull=never --network host --no-cache --timestamp 0 -f "$ctx/Envfile" \
    -t "bench-repro:ts0-$i" "$ctx" >/dev/null
  read -r id digest < <(podman_ids "bench-repro:ts0-$i")
  printf 'podman --timestamp 0\t%s\tsha256:%s\t%s\n' "$i" "$id" "$digest" >> "$repro"
done
for i in 1 2; do
  "${podman[@]}" build -q --pull=never --network host --no-cache -f "$ctx/Envfile" -t "bench-repro:now-$i" \
    "$ctx" >/dev/null
  read -r id digest < <(podman_ids "bench-repro:now-$i")
  printf 'podman (no --timestamp)\t%s\tsha256:%s\t%s\n' "$i" "$id" "$digest" >> "$repro"
  sleep 1   # a different second: podman's created times differ
done
for i in 1 2; do
  digest=$("$labenv" --home "$home" build -q --no-cache -t "bench-repro:labenv-$i" "$ctx")
  config=$("$labenv" --home "$home" inspect "bench-repro:labenv-$i" \
    | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["configDigest"])')
  printf 'labenv --no-cache\t%s\t%s\t%s\n' "$i" "$config" "$digest" >> "$repro"
done
if "${podman[@]}" build --help 2>/dev/null | grep -q -- '--rewrite-timestamp'; then
  for i in 1 2; do
    "${podman[@]}" build -q --pull=never --network host --no-cache --source-date-epoch 0 --rewrite-timestamp \
      -f "$ctx/Envfile" -t "bench-repro:sde-$i" "$ctx" >/dev/null
    read -r id digest < <(podman_ids "bench-repro:sde-$i")
    printf 'podman --source-date-epoch 0 --rewrite-timestamp\t%s\tsha256:%s\t%s\n' "$i" "$id" "$digest" >> "$repro"
  done
  sde_note="supported"
else
  sde_note="not offered by this podman (absent from \`podman build --help\`)"
fi

versions="$(printf '%s; %s (buildah %s, %s); %s' "$(java -version 2>&1 | head -1)" "$("${podman[@]}" --version)" \
  "$("${podman[@]}" info --format '{{.Host.BuildahVersion}}')" "$(crun --version | head -1)" "$(hyperfine --version)")"
/usr/bin/python3 "$top/bench/build_report.py" "$json" "$runs_cold" "$runs" "$(stat -c %s "$ctx/data/measurements.csv")" \
  "$versions" "$sde_note" "$top/bench/RESULTS.md"
echo "bench: wrote the builder section of $top/bench/RESULTS.md" >&2
