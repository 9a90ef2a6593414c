#!/usr/bin/env bash
# The quick start's first command: a throwaway registry on 127.0.0.1, a
# sample tree pushed to it, listed, one file read, and the whole pulled back.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
registry_pid=
cleanup() {
	[ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

echo "== building blobber and a throwaway registry"
go build -o "$work/blobber" ./cmd/blobber
go build -o "$work/registry" ./internal/cmd/testregistry
"$work/registry" >"$work/address" &
registry_pid=$!
for _ in $(seq 100); do [ -s "$work/address" ] && break; sleep 0.1; done
registry=$(head -n1 "$work/address")
echo "   registry (CNCF Distribution, in memory) at $registry"

echo "== making a sample tree: docs, a script, and a 32 MiB data file"
site="$work/site"
mkdir -p "$site/docs" "$site/bin" "$site/data"
for i in $(seq 1 50); do echo "page $i: blobber moves files through OCI registries" >"$site/docs/page$i.txt"; done
printf 'hello from inside an eStargz layer\n' >"$site/docs/hello.txt"
printf '#!/bin/sh\necho hi\n' >"$site/bin/run" && chmod 755 "$site/bin/run"
head -c $((32 << 20)) /dev/urandom >"$site/data/big.bin"
ln -s docs/hello.txt "$site/hello"

# A throwaway cache too, so the demo leaves nothing behind.
export BLOBBER_CACHE_DIR="$work/cache"
blobber() { "$work/blobber" "$@"; }
ref="$registry/demo/site:v1"

echo "== blobber push $site $ref"
blobber push "$site" "$ref"

echo "== blobber ls $ref (first lines)"
blobber ls "$ref" >"$work/listing"
head -n 8 "$work/listing"

echo "== blobber --verbose --no-cache cat $ref docs/hello.txt   (what one file costs)"
blobber --verbose --no-cache cat "$ref" docs/hello.txt 2>&1 | grep -v level=DEBUG

echo "== blobber --verbose cat $ref data/big.bin | wc -c   (a 32 MiB file: only its chunks)"
blobber --verbose cat "$ref" data/big.bin 2> >(grep -v level=DEBUG >&2) | wc -c
sleep 0.1

echo "== the same again: served by the local cache"
blobber --verbose cat "$ref" data/big.bin 2> >(grep -v level=DEBUG >&2) | wc -c
sleep 0.1

echo "== blobber pull $ref $work/out"
blobber pull "$ref" "$work/out"
diff -r "$site" "$work/out" && echo "   pulled tree is identical to the pushed one"

echo "== blobber tags $registry/demo/site"
blobber tags "$registry/demo/site"
echo "demo OK"
