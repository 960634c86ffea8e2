# Paraphe. "make run" and "make test" are all a newcomer needs; each first
# installs the Debian packages that are missing (scripts/deps.sh).

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
export GOTOOLCHAIN ?= local
# One set of build flags for every go command (build, test, vet): the
# desktop app's cgo dependency (go-gl) takes minutes to compile, and any
# change of flags compiles it again.
export GOFLAGS ?= -trimpath
# fyne reads the locale at start; "C" is not a language tag.
export LANG := en_US.UTF-8

.PHONY: all deps check-go build run demo test bench vet fmt clean screenshots

all: build

deps:
	@scripts/deps.sh

# Debian 12's own golang is too old; say so instead of failing obscurely.
check-go:
	@command -v $(GO) >/dev/null || { echo "Go 1.26 or later is needed: https://go.dev/doc/install (or set GO=/path/to/go)"; exit 1; }
	@$(GO) version | awk '{split($$3,v,"."); sub("go","",v[1]); if (v[1] < 1 || (v[1] == 1 && v[2] < 26)) { print "Go 1.26 or later is needed; found " $$3; exit 1 }}'

build: check-go
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ ./cmd/...

# The desktop app. Without a display it says how to get one (xvfb-run, a
# desktop session) and what works without: the command line and make demo.
run: deps build
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then bin/paraphe; else bin/paraphe || echo "Or try the whole journey headless against a demo CA: make demo"; fi

demo: deps build
	@scripts/demo.sh

# Screenshots of every screen, taken from the real binary under Xvfb while
# xdotool types and clicks through activation and signing (docs/screenshots).
screenshots: deps build
	@scripts/screenshots.sh

vet: check-go
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }

test: deps vet
	@scripts/corpus.sh
	$(GO) test -count=1 ./...
	@# the Windows and macOS files (proxy settings, keychain, paths) at least build and vet
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) vet ./config ./netcheck ./pkcs ./activation ./pdf ./internal/...
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./config ./netcheck ./pkcs ./activation ./pdf ./internal/...
	@# the build without cgo (no PKCS#11) must still say why tokens are missing
	CGO_ENABLED=0 $(GO) test -count=1 -run NoCgo ./pkcs
	@# a short fuzzing run of the PDF reader and signer: no panic, no hang
	$(GO) test -run '^$$' -fuzz FuzzSign -fuzztime 15s -fuzzminimizetime 1s ./pdf

# Benchmarks, never timed tests: token signatures per second next to
# pkcs11-tool's own loop, PDF signing (1 MB, 100 MB, 1,000 small files) next
# to a read+write+hash floor, and wall time and peak RSS for a 1 GiB PDF.
bench: deps check-go
	@scripts/bench.sh

fmt:
	gofmt -w .

clean:
	rm -rf bin dist
