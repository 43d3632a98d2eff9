#!/bin/sh
# Lays out a built service as the image runs it: <dest>/classes (the module's own classes) and
# <dest>/lib (every jar of its target/linkbase.classpath, written by the root pom during
# package). Used by deploy/docker/Dockerfile, and by deploy-tests to start a service from
# exactly this layout with the image's entry point and health check.
#   usage: runtime-layout.sh <service folder> <dest>     (run from the repository root)
set -eu
service=$1
dest=$2
classpath="$service/target/linkbase.classpath"
if [ ! -d "$service/target/classes" ] || [ ! -f "$classpath" ]; then
  echo "$service is not built: run ./mvnw -pl $service -am -DskipTests package" >&2
  exit 1
fi
mkdir -p "$dest/lib"
rm -rf "$dest/classes"
cp -r "$service/target/classes" "$dest/classes"
# The classpath file has no final newline: "|| [ -n ... ]" keeps its last entry.
tr ':' '\n' < "$classpath" | while read -r entry || [ -n "$entry" ]; do
  [ -z "$entry" ] && continue
  if [ -d "$entry" ]; then
    # A sibling module's classes folder (when it was not packaged): jar it.
    jar cf "$dest/lib/$(echo "$entry" | sed 's#^/##; s#/#_#g').jar" -C "$entry" .
  else
    cp "$entry" "$dest/lib/"
  fi
done
expected=$(tr ':' '\n' < "$classpath" | grep -c .)
actual=$(ls "$dest/lib" | grep -c .)
if [ "$actual" -ne "$expected" ]; then
  echo "expected $expected jars in $dest/lib, found $actual (two jars with one file name?)" >&2
  exit 1
fi
