# Blobber's everyday commands. `make demo` and `make test` are the README's
# quick start; .ci/run calls `make test` too.

GO ?= go
STATICCHECK_VERSION := v0.8.2

.PHONY: build demo test lint cross fuzz bench clean release docs

build:
	$(GO) build -buildvcs=auto -o bin/blobber ./cmd/blobber

# Start a throwaway registry on 127.0.0.1, push a sample tree, list it, read
# one file (reporting how little was fetched) and pull it back.
demo:
	bash scripts/demo.sh

# Every test: vet, staticcheck, the other platforms' builds, and the whole
# suite under the race detector.
test: lint cross
	$(GO) test -race -count=1 -timeout 30m ./...

STATICCHECK := bin/staticcheck-$(STATICCHECK_VERSION)

$(STATICCHECK):
	GOBIN=$(CURDIR)/bin/tmp $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv bin/tmp/staticcheck $@ && rmdir bin/tmp

lint: $(STATICCHECK)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Every package and its tests type-checked and vetted for each platform
# blobber ships for (go vet compiles what it checks), and staticcheck with
# each GOOS: OS-specific code cannot break another system's build unseen.
CROSS_PLATFORMS := linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64 freebsd/amd64
cross: $(STATICCHECK)
	@for p in $(CROSS_PLATFORMS); do \
		echo "go vet ./... for $$p"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet ./... || exit 1; \
	done
	@for os in darwin windows freebsd; do \
		echo "staticcheck ./... for $$os"; \
		GOOS=$$os $(STATICCHECK) ./... || exit 1; \
	done

clean:
	rm -rf bin dist

# The CLI reference, generated from the commands: markdown in docs/cli, man
# pages in docs/man. `make test` fails while they are stale
# (cmd/blobber/docs_test.go).
docs:
	GO=$(GO) $(GO) run ./internal/cmd/gendocs --out docs

# Archives of blobber for every platform it ships for, in dist/, with
# SHA256SUMS: reproducible (the same commit gives the same bytes).
# VERSION defaults to `git describe --tags --always --dirty`.
release:
	$(GO) run ./internal/cmd/release --out dist $(if $(VERSION),--version $(VERSION))

# Benchmark blobber against the ORAS CLI and crane (installed into the user
# cache with `go install`) through an in-process registry. Not part of
# `make test`. bench takes 10+ minutes; bench-quick about 2.
.PHONY: bench-quick bench-scale
bench:
	$(GO) run ./internal/cmd/bench --out BENCHMARKS-results.md

bench-quick:
	$(GO) run ./internal/cmd/bench --quick --out BENCHMARKS-results-quick.md

# The memory bound at scale: 200,000 files and a 10 GiB artifact, blobber
# alone, one run. About 15 minutes (20 the first time, which generates 11 GiB
# of data into the user cache) and up to 42 GiB of free disk, checked first.
bench-scale:
	$(GO) run ./internal/cmd/bench --datasets many,huge --tools blobber --runs 1 --out BENCHMARKS-results-scale.md

# Signatures against cosign v3 (built from source into the user cache on
# first run, a few minutes): cosign verifies Blobber's, Blobber verifies
# cosign's; containerd mounts a push and skopeo copies one (both from Debian,
# which .ci/run installs; skipped, saying why, where they cannot run). Its own
# module (interop/), so cosign stays out of go.mod.
.PHONY: interop
interop:
	cd interop && $(GO) test -count=1 -timeout 20m ./...
