#!/usr/bin/env bash
# The quick start's first command: a throwaway registry on 127.0.0.1, a
# sample tree pushed to it, listed, one file read, and the whole pulled back.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
registry_pid=
serve_pid=
cleanup() {
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null
	[ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# compile OUT PKG builds PKG, naming each package as Go compiles it: on a
# terminal on one line that keeps changing, in a log every 25th, so that a
# first build (every dependency compiled) is seen to make progress.
compile() {
	local out=$1 pkg=$2 n=0 line
	if ! go build -v -o "$out" "$pkg" 2>&1 | tee "$work/build.log" | while IFS= read -r line; do
		n=$((n + 1))
		if [ -t 1 ]; then
			printf '\r\033[K   compiling %s (%d packages so far)' "${line:0:50}" "$n"
		elif [ $((n % 25)) -eq 0 ]; then
			echo "   compiling $line ($n packages so far)"
		fi
	done; then
		[ -t 1 ] && echo
		cat "$work/build.log" >&2
		return 1
	fi
	[ -t 1 ] && printf '\r\033[K'
	n=$(wc -l <"$work/build.log" | tr -d ' ')
	case $n in
	0) echo "   $(basename "$out"): up to date in Go's build cache" ;;
	1) echo "   built $(basename "$out") (1 package compiled, the rest from Go's build cache)" ;;
	*) echo "   built $(basename "$out") ($n packages compiled, the rest from Go's build cache)" ;;
	esac
}

echo "== fetching the Go modules blobber needs (only on the first run)"
go list -deps ./cmd/blobber ./internal/cmd/testregistry >/dev/null
echo "== compiling blobber and a throwaway registry"
echo "   the first run compiles every dependency, which takes a few minutes; later runs take seconds"
compile "$work/blobber" ./cmd/blobber
compile "$work/registry" ./internal/cmd/testregistry
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

echo "== blobber serve $ref, and curl of one file   (over HTTP, only its chunks are fetched)"
if ! command -v curl >/dev/null 2>&1; then
	echo "   curl is not installed: skipping this step"
else
	# --no-cache: the bytes counted are the registry's, not the cache's.
	"$work/blobber" --verbose --no-cache serve -q --addr 127.0.0.1:0 "$ref" >"$work/serve.url" 2>"$work/serve.log" &
	serve_pid=$!
	for _ in $(seq 100); do [ -s "$work/serve.url" ] && break; sleep 0.1; done
	if [ ! -s "$work/serve.url" ]; then
		cat "$work/serve.log" >&2
		exit 1
	fi
	url=$(head -n1 "$work/serve.url")
	echo "   serving on $url"
	echo "   curl -s ${url}docs/hello.txt"
	curl -fsS "${url}docs/hello.txt" | sed 's/^/   /'
	kill -TERM "$serve_pid"
	wait "$serve_pid"
	serve_pid=
	# What the server fetched, from its start to its stop (-v prints it).
	grep -v 'level=' "$work/serve.log" | sed 's/^/   server: /'
fi

echo "== blobber pull $ref $work/out"
blobber pull "$ref" "$work/out"
diff -r "$site" "$work/out" && echo "   pulled tree is identical to the pushed one"

echo "== blobber tags $registry/demo/site"
blobber tags "$registry/demo/site"
echo "demo OK"
