# Shared by the bench scripts (sourced): run at a raised priority, install missing Debian packages, and unmount
# whatever a run left under $work. Needs $work, $labenv and the script's arguments.

# Every compared command runs at the same raised priority (nice -15), so that other work on a shared machine
# disturbs the figures less. (Not a real-time class: podman's cleanup spins forever under SCHED_FIFO.)
bench_renice() {
  if [ -z "${BENCH_NICED:-}" ]; then
    BENCH_NICED=1 exec nice -n -15 "$0" "$@"
  fi
}

# apt-get installs the named packages that are missing.
bench_require() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  "$labenv" --version >/dev/null   # builds the jar (and its class-data archives) outside the timings
}

# podman's storage bind-mounts its overlay directory on itself: nothing of an earlier run may stay mounted.
unmount_work() { awk -v w="$work/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l; }

# A fresh, empty $work (and $json in it).
bench_fresh_work() {
  unmount_work
  rm -rf "$work"
  mkdir -p "$work"
  json="$work/json"
  mkdir -p "$json"
}

# podman as this machine needs it: the hard open-files limit (podman's default asks for more than the machine
# allows), and cgroupfs (no systemd here). Its own storage under $work: the system's is left alone. Sets $podman.
bench_podman() {
  local hard_nofile
  hard_nofile="$(ulimit -Hn)"
  cat > "$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$hard_nofile:$hard_nofile", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
CONF
  export CONTAINERS_CONF="$work/containers.conf"
  podman=(podman --root "$work/podman/root" --runroot "$work/podman/run")
}

# Waits (up to BENCH_QUIET_WAIT seconds, default 120) for a machine at least 90% idle over 3 s, and appends
# "GROUP before IDLE% LOADAVG" to $json/load.tsv; bench_after appends the load averages after the group.
bench_quiet() { # GROUP
  local start i1 t1 i2 t2 idle u n s w q sq st
  start=$(date +%s)
  while :; do
    read -r _ u n s i1 w q sq st _ < /proc/stat; t1=$((u + n + s + i1 + w + q + sq + st))
    sleep 3
    read -r _ u n s i2 w q sq st _ < /proc/stat; t2=$((u + n + s + i2 + w + q + sq + st))
    idle=$((100 * (i2 - i1) / (t2 - t1)))
    [ "$idle" -ge 90 ] && break
    if [ $(($(date +%s) - start)) -ge "${BENCH_QUIET_WAIT:-120}" ]; then
      echo "bench: the machine is busy ($idle% idle): the figures will show it" >&2
      break
    fi
  done
  printf '%s\tbefore\t%s\t%s\n' "$1" "$idle" "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$json/load.tsv"
}

bench_after() { # GROUP
  printf '%s\tafter\t-\t%s\n' "$1" "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$json/load.tsv"
}
