#!/usr/bin/env bash
# Registry benchmarks (issue 7): `labenv push` and `labenv pull` of a Python base image to and from a local
# registry (Debian's docker-registry on 127.0.0.1), against `skopeo copy` of the same image in the same run.
# Run by hand as root; writes the "## Registries (issue 7)" section of bench/RESULTS.md and leaves the other
# sections alone. Usage: bench/registry.sh
#
# The image: `labenv bootstrap debian:bookworm`, then python3 installed from the host's Debian mirror, with gzip
# layers (what a registry shared with Docker users holds). skopeo reads the very same blobs from an OCI layout
# (`labenv save`, unpacked by skopeo into oci:), so both sides move identical bytes.
#
# What is compared (hyperfine, whole commands, median and mean ± σ after a warm-up):
#   push: into an empty registry (its storage removed before every run, so nothing is skipped or mounted;
#         labenv's memory of blob sources removed too): `labenv push py:bench REG/bench/py:1` against
#         `skopeo copy oci:LAYOUT:py docker://REG/bench/py:1`.
#   pull: from the registry holding the image into an empty store: `labenv pull REG/bench/py:1` into a fresh
#         store against `skopeo copy docker://REG/bench/py:1 oci:DIR:py` into a fresh layout.
#   floor: `labenv images -q`, the start-up every labenv command pays, so the report can show the transfer apart.
# The registry runs without a blob-descriptor cache, so removing its storage between runs is safe.
set -euo pipefail
top="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
work="$top/bench/work/registry"
labenv="$top/bin/labenv"
runs="${BENCH_RUNS:-5}"

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (the Debian bootstrap needs it)" >&2; exit 2; }
. "$top/bench/lib.sh"
bench_renice "$@"
bench_require hyperfine skopeo docker-registry mmdebstrap

bench_fresh_work
registry_pid=""
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null || true
  unmount_work
  rm -rf "$work/home" "$work/pull-home" "$work/layout" "$work/pulled" "$work/storage"
}
trap cleanup EXIT

home="$work/home"
echo "bench: building the Python base image (bootstrap debian:bookworm, apt-get install python3)" >&2
"$labenv" --home "$home" bootstrap --progress quiet debian:bookworm >/dev/null
mkdir -p "$work/ctx"
cat > "$work/ctx/Envfile" <<'ENV'
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*
ENV
"$labenv" --home "$home" build --progress quiet --compression gzip -t py:bench "$work/ctx" >/dev/null
"$labenv" --home "$home" save -o "$work/py.tar" py:bench
skopeo copy -q "oci-archive:$work/py.tar" "oci:$work/layout:py"
image_bytes=$(find "$work/layout/blobs" -type f -printf '%s\n' | awk '{s += $1} END {print s}')   # blobs moved

port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
reg="127.0.0.1:$port"
cat > "$work/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/storage
  delete:
    enabled: true
http:
  addr: $reg
  secret: labenv-bench
YML
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://$reg/v2/" >/dev/null 2>&1 && break
  sleep 0.1
done

printf "rm -rf '%s'/* '%s'\nsync\n" "$work/storage" "$home/distribution" > "$work/empty-registry.sh"
printf "rm -rf '%s' '%s'\nsync\n" "$work/pull-home" "$work/pulled" > "$work/fresh-pull.sh"

push_labenv=("$labenv" --home "$home" push -q py:bench "$reg/bench/py:1")
push_skopeo=(skopeo copy -q --dest-tls-verify=false "oci:$work/layout:py" "docker://$reg/bench/py:1")
pull_labenv=("$labenv" --home "$work/pull-home" pull -q "$reg/bench/py:1")
pull_skopeo=(skopeo copy -q --src-tls-verify=false "docker://$reg/bench/py:1" "oci:$work/pulled:py")
{
  printf '%s\t%s\n' push-labenv "${push_labenv[*]}" push-skopeo "${push_skopeo[*]}"
  printf '%s\t%s\n' pull-labenv "${pull_labenv[*]}" pull-skopeo "${pull_skopeo[*]}"
} > "$json/commands.tsv"
printf '%s\t%s\n' image_bytes "$image_bytes" layers "$(ls "$work/layout/blobs/sha256" | wc -l)" > "$json/sizes.tsv"

# Sanity: both tools push and pull this image, and labenv pulls the manifest it pushed.
"${push_labenv[@]}" > "$json/digest-pushed"
sh "$work/empty-registry.sh"
"${push_skopeo[@]}"
"${pull_labenv[@]}" > "$json/digest-pulled"
cmp "$json/digest-pushed" "$json/digest-pulled"

hf() { # GROUP then (PREPARE NAME COMMAND)...
  local group=$1 args=()
  shift
  while [ $# -gt 0 ]; do args+=(--prepare "$1" -n "$2" "$3"); shift 3; done
  bench_quiet "$group"
  hyperfine -N --style basic --runs "$runs" --warmup 1 --export-json "$json/$group.json" "${args[@]}" >&2
  bench_after "$group"
}
hf push "sh $work/empty-registry.sh" "labenv push" "${push_labenv[*]}" \
  "sh $work/empty-registry.sh" "skopeo copy (push)" "${push_skopeo[*]}"
"${push_labenv[@]}" >/dev/null
hf pull "sh $work/fresh-pull.sh" "labenv pull" "${pull_labenv[*]}" \
  "sh $work/fresh-pull.sh" "skopeo copy (pull)" "${pull_skopeo[*]}"
# The floor of any labenv command (a JVM start, the CLI, one read of the store's index), to tell the transfer
# from the start-up in the figures above.
floor=("$labenv" --home "$home" images -q)
printf '%s\t%s\n' floor "${floor[*]}" >> "$json/commands.tsv"
hf floor "true" "labenv images (floor)" "${floor[*]}"

versions="$(printf '%s; %s; %s; %s' "$(java -version 2>&1 | head -1)" "$(skopeo --version)" \
  "$(dpkg-query -W -f='docker-registry ${Version}' docker-registry)" "$(hyperfine --version)")"
/usr/bin/python3 "$top/bench/registry_report.py" "$json" "$runs" "$versions" "$top/bench/RESULTS.md"
echo "bench: wrote the registries section of $top/bench/RESULTS.md" >&2
