#!/usr/bin/env bash
# Makes, beside JAR, what lets the two JVMs on `labenv run`'s path start fast (run by Maven at package):
#   NAME.jsa       class-data archive of the CLI (bin/labenv uses it)
#   NAME-init.jsa  class-data archive of the container's init JVM (Launcher uses it)
#   NAME-jna-V/    JNA's native library (JNA version V), unpacked once rather than by every JVM that starts
# Static archives from the class lists of one training `run`: picocli's classes are Java 5 class files,
# which only a static archive holds. Each archive is made by the `java` on PATH, the one that runs
# labenv; a JVM ignores an archive made for another JVM or jar. Never fails the build: without these
# files each JVM starts the slow way.
set -uo pipefail
jar="$(readlink -f "$1")"
jna_version="$2"
base="${jar%.jar}"
java="${LABENV_CDS_JAVA:-java}"
rm -rf "$base.jsa" "$base-init.jsa" "$base"-jna-*
jna="$base-jna-$jna_version"

arch="$(uname -m)"
case "$arch" in x86_64) arch=x86-64 ;; esac
native="com/sun/jna/linux-$arch/libjnidispatch.so"
mkdir -p "$jna"
if ! (cd "$jna" && jar xf "$jar" "$native" && mv "$native" . && rm -rf com && touch libjnidispatch.so) || [ ! -f "$jna/libjnidispatch.so" ]; then
  echo "cds.sh: no $native in $jar: JNA unpacks it on each start" >&2
  rm -rf "$jna"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs"
# An empty image whose command is missing: the run goes through everything up to execve, which fails,
# so the init JVM exits normally and writes its class list. (-Dlabenv.init.javaOptions: see Launcher.)
"$java" -jar "$jar" --home "$work/store" import "$work/rootfs" cds:training >/dev/null 2>&1
"$java" -XX:DumpLoadedClassList="$work/cli.classlist" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
  -Dlabenv.init.javaOptions="-XX:DumpLoadedClassList=$work/init.classlist" \
  -jar "$jar" --home "$work/store" run --rm cds:training /labenv-cds-training >/dev/null 2>&1
dump() { # classlist archive
  if [ -s "$1" ] && "$java" -Xshare:dump -XX:SharedClassListFile="$1" -XX:SharedArchiveFile="$2" -cp "$jar" \
      >"$work/dump.log" 2>&1; then
    return 0
  fi
  echo "cds.sh: no $(basename "$2") (the JVM it is for starts without): $(tail -n 1 "$work/dump.log" 2>/dev/null)" >&2
  rm -f "$2"
}
dump "$work/cli.classlist" "$base.jsa"
dump "$work/init.classlist" "$base-init.jsa"
exit 0
