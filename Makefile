# Blobber's everyday commands. `make demo` and `make test` are the README's
# quick start; .ci/run calls `make test` too.

GO ?= go
STATICCHECK_VERSION := v0.8.2

.PHONY: build demo test lint fuzz bench clean

build:
	$(GO) build -o bin/blobber ./cmd/blobber

# Start a throwaway registry on 127.0.0.1, push a sample tree, list it, read
# one file (reporting how little was fetched) and pull it back.
demo:
	bash scripts/demo.sh

# Every test: vet, staticcheck, and the whole suite (the core packages under
# the race detector).
test: lint
	$(GO) test -race -count=1 ./...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

clean:
	rm -rf bin
