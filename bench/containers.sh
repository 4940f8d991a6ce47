#!/usr/bin/env bash
# Container start-up benchmarks (issue 3): labenv against podman and crun on the same machine, in the same
# run, with the same static busybox image. Run by hand as root; writes the "## Containers (issue 3)"
# section of bench/RESULTS.md and leaves the other sections alone. Usage: bench/containers.sh
#
# What is compared (hyperfine, whole commands, median and mean ± σ of BENCH_RUNS runs after warm-ups):
#   labenv run --rm IMAGE true                                 (bin/labenv, as a user runs it)
#   podman run --rm IMAGE true                                 (podman's default: crun here, with networking)
#   podman run --rm --network none --runtime crun IMAGE true   (the isolation labenv gives by default)
#   crun run --bundle BUNDLE ID                                (the floor: an OCI runtime on a ready bundle)
#   labenv run --rm -v DIR:/data IMAGE true, DIR 10 GiB against 10 MiB (a bind mount costs the same)
# and the peak memory of each: GNU time's maximum RSS, and the peak of a cgroup v1 memory group the
# command runs in (every process labenv starts stays in it; podman and crun move the container out).
#
# crun refuses this machine's hybrid cgroups (v1 controllers plus a v2 mount) until the hugetlb v1
# hierarchy is mounted: when it is not, this script mounts it and says so. That is for the peers only.
set -euo pipefail
top="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
work="$top/bench/work/containers"
labenv="$top/bin/labenv"
runs="${BENCH_RUNS:-40}"
image=bench/busybox:1

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (podman, crun and the cgroup measurements need it)" >&2; exit 2; }
. "$top/bench/lib.sh"
bench_renice "$@"
bench_require podman crun hyperfine busybox-static

bench_fresh_work

bench_podman
hugetlb_note="already mounted"
if grep -q ' cgroup2 ' /proc/mounts && grep -q '^hugetlb' /proc/cgroups \
    && ! grep -q ' cgroup .*hugetlb' /proc/mounts; then
  echo "bench: mounting the hugetlb cgroup v1 hierarchy at /sys/fs/cgroup/hugetlb (crun refuses hybrid" \
    "cgroups without it; for podman and crun only, labenv does not use it)" >&2
  mkdir -p /sys/fs/cgroup/hugetlb
  mount -t cgroup -o hugetlb none /sys/fs/cgroup/hugetlb
  hugetlb_note="mounted by this script"
fi

# The image: static busybox with the applets the runs use, imported into labenv's store, saved as an
# OCI archive and loaded into podman (the same layer and config), and unpacked as crun's bundle.
rootfs="$work/rootfs"
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/data"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in sh true echo cat ls; do ln -s busybox "$rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\n' > "$rootfs/etc/group"
home="$work/home"
"$labenv" --home "$home" import "$rootfs" "$image" >/dev/null
"$labenv" --home "$home" save -o "$work/busybox.tar" "$image"
podman_image="$("${podman[@]}" load -q -i "$work/busybox.tar" | sed -n 's/^Loaded image: //p' | head -1)"
[ -n "$podman_image" ] || { echo "bench: podman load named no image" >&2; exit 1; }
bundle="$work/bundle"
mkdir -p "$bundle"
(cd "$bundle" && crun spec)
cp -a "$rootfs" "$bundle/rootfs"
/usr/bin/python3 - "$bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["true"]
json.dump(c, open(path, "w"), indent=2)
PY

# Volumes: ten files of 1 GiB against ten of 1 MiB, fallocate'd (real blocks, instantly) where the
# filesystem can, else sparse. Nothing reads them: a bind mount does not look inside.
big="$work/vol-10g" small="$work/vol-10m" vol_kind=fallocate
mkdir -p "$big" "$small"
for i in $(seq 0 9); do
  if ! fallocate -l 1G "$big/part-$i" 2>/dev/null; then truncate -s 1G "$big/part-$i"; vol_kind=sparse; fi
  fallocate -l 1M "$small/part-$i" 2>/dev/null || truncate -s 1M "$small/part-$i"
done
trap 'rm -rf "$big" "$small"; unmount_work' EXIT

# Sanity: each command runs and exits 0 before it is timed.
"$labenv" --home "$home" run --rm "$image" true
"${podman[@]}" run --rm "$podman_image" true
"${podman[@]}" run --rm --network none --runtime crun "$podman_image" true
crun run --bundle "$bundle" "labenv-bench-$$"

declare -A cmd
names=(labenv podman podman-none-crun crun)
cmd[labenv]="$labenv --home $home run --rm $image true"
cmd[podman]="${podman[*]} run --rm $podman_image true"
cmd[podman-none-crun]="${podman[*]} run --rm --network none --runtime crun $podman_image true"
# A container ID of its own per run (sh's pid): one dash start, about 1 ms, is part of this figure.
cmd[crun]="sh -c 'exec crun run --bundle $bundle labenv-bench-\$\$'"
cmd[volume-10m]="$labenv --home $home run --rm -v $small:/data $image true"
cmd[volume-10g]="$labenv --home $home run --rm -v $big:/data $image true"

: "${BENCH_QUIET_WAIT:=600}"   # bench_quiet (lib.sh) waits this long at most for an idle machine

hf() { # FILE NAME...
  local out="$1" args=() n
  shift
  for n in "$@"; do args+=(-n "$n" "${cmd[$n]}"); done
  bench_quiet "$out"
  hyperfine -N --style basic --warmup 5 --runs "$runs" --export-json "$json/$out.json" "${args[@]}" >&2
}
hf startup "${names[@]}"
hf volumes volume-10m volume-10g

# Peak memory. GNU time: the largest maximum RSS among the command and the descendants it waited for.
# cgroup: the peak usage (memory.max_usage_in_bytes) of a fresh v1 memory group the command starts in:
# the whole tree at once for labenv, whose two JVMs stay in it; podman and crun move the container
# into a group of their own, and podman its conmon too, so there it covers what stays behind.
memcg=/sys/fs/cgroup/memory/labenv-bench-$$
peaks="$json/memory.tsv"
: > "$peaks"
for n in "${names[@]}"; do
  for i in 1 2 3; do
    rss=$( { /usr/bin/time -f %M sh -c "exec ${cmd[$n]}" >/dev/null; } 2>&1 | tail -1)
    cg=""
    if [ -d /sys/fs/cgroup/memory ]; then
      mkdir "$memcg"
      sh -c "echo \$\$ > $memcg/cgroup.procs; exec ${cmd[$n]}" >/dev/null
      cg=$(cat "$memcg/memory.max_usage_in_bytes")
      rmdir "$memcg"
    fi
    printf '%s\t%s\t%s\n' "$n" "$rss" "$cg" >> "$peaks"
  done
done

versions="$(printf '%s; %s; %s; %s' "$(java -version 2>&1 | head -1)" "$("${podman[@]}" --version)" \
  "$(crun --version | head -1)" "$(hyperfine --version)")"
/usr/bin/python3 "$top/bench/containers_report.py" "$json" "$runs" "$vol_kind" "$hugetlb_note" "$versions" \
  "$top/bench/RESULTS.md"
echo "bench: wrote the containers section of $top/bench/RESULTS.md" >&2
