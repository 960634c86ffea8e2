# Paraphe. "make run" and "make test" are all a newcomer needs; each first
# installs the Debian packages that are missing (scripts/deps.sh).

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
export GOTOOLCHAIN ?= local
# One set of build flags for every go command (build, test, vet, and the
# binaries tests build): the desktop app's cgo dependency (go-gl) takes
# minutes to compile, and any change of these flags compiles it again.
# go.env holds the same for go commands run by hand (README, "Build flags").
export GOFLAGS ?= -trimpath -buildmode=pie
# fyne reads the locale at start; "C" is not a language tag.
export LANG := en_US.UTF-8

# One Linux build for "make build" and "make package", with the same flags:
# cgo (PKCS#11 modules, and the desktop application's OpenGL through fyne)
# and a position-independent executable (ASLR; lintian wants it).
# Changing cgo or build-mode flags rebuilds github.com/go-gl/gl (3-4 min
# on 2 cores), so there is no second set. -s -w (strip) and -z now
# (immediate binding, with relro; through the system linker, also for
# paraphe-ca, which has no C code) act at link time only.
GOBUILD  := CGO_ENABLED=1 $(GO) build -trimpath -buildmode=pie \
	-ldflags "$(LDFLAGS) -linkmode=external -extldflags '-Wl,-z,relro,-z,now'"

# Windows: cross-built with cgo through Debian's mingw-w64. paraphe.exe is
# a GUI program (no console window opens beside the app); paraphe.com, the
# same code linked as a console program, is what cmd.exe and PowerShell
# run when one types "paraphe" (they try .com before .exe), so the admin
# commands and scripts keep their console and exit codes. Both come from
# one compilation: -H is a link flag.
GOBUILD_WINDOWS := GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc \
	$(GO) build -trimpath -ldflags "$(LDFLAGS)"
GOBUILD_WINDOWS_GUI := GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc \
	$(GO) build -trimpath -ldflags "$(LDFLAGS) -H=windowsgui"

# Packages go to dist/, their ingredients to dist/build/.
DIST     := dist
BUILD    := $(DIST)/build
WINDOWS  := $(DIST)/windows
# nfpm is a Go tool of its own module, so that its dependencies stay out of
# the suite's go.mod and go.sum.
NFPM     := $(GO) tool -modfile=installer/tools/go.mod nfpm
PKG_VERSION = $(shell installer/version.sh deb)
MSI_VERSION = $(shell installer/version.sh msi)
# File times inside the packages: the last commit's, for reproducible builds.
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
# Authenticode: a real certificate by configuration (installer/windows/sign.sh).
export SIGN_CERT SIGN_KEY SIGN_PASS_FILE SIGN_TIMESTAMP

.PHONY: all deps check-go build run demo check test bench vet fmt clean \
	package package-linux package-windows package-assets package-test screenshots

all: build

deps:
	@scripts/deps.sh

# Debian 12's own golang is too old; say so instead of failing obscurely.
check-go:
	@command -v $(GO) >/dev/null || { echo "Go 1.26 or later is needed: https://go.dev/doc/install (or set GO=/path/to/go)"; exit 1; }
	@$(GO) version | awk '{split($$3,v,"."); sub("go","",v[1]); if (v[1] < 1 || (v[1] == 1 && v[2] < 26)) { print "Go 1.26 or later is needed; found " $$3; exit 1 }}'

build: check-go
	$(GOBUILD) -o bin/ ./cmd/...

# The .deb, .rpm and MSI, in dist/ (installer/README.md tells the details).
package: package-linux package-windows

# What the Linux packages carry besides the binaries: the icon at the sizes
# the hicolor theme uses, the manual pages (from the commands' own usage
# texts) and the Debian changelog.
package-assets: check-go
	rm -rf $(BUILD)/icons $(BUILD)/man
	mkdir -p $(BUILD)/man $(BUILD)/icons/scalable/apps
	for s in 16 22 24 32 48 64 128 256 512; do \
		mkdir -p $(BUILD)/icons/$${s}x$${s}/apps && \
		convert assets/icons/paraphe.png -resize $${s}x$${s} -strip $(BUILD)/icons/$${s}x$${s}/apps/paraphe.png || exit 1; \
	done
	cp assets/icons/paraphe.svg $(BUILD)/icons/scalable/apps/paraphe.svg
	$(GO) run ./installer/mangen -version $(PKG_VERSION) -o $(BUILD)/man
	installer/linux/changelog.sh $(PKG_VERSION) | gzip -9n > $(BUILD)/changelog.Debian.gz
	mkdir -p $(BUILD)/portal
	installer/linux/changelog.sh $(PKG_VERSION) paraphe-portal | gzip -9n > $(BUILD)/portal/changelog.Debian.gz

package-linux: build package-assets
	rm -f $(DIST)/*.deb $(DIST)/*.rpm
	PARAPHE_VERSION=$(PKG_VERSION) $(NFPM) package -f installer/linux/nfpm.yaml -p deb -t $(DIST)/
	PARAPHE_VERSION=$(PKG_VERSION) $(NFPM) package -f installer/linux/nfpm.yaml -p rpm -t $(DIST)/
	PARAPHE_VERSION=$(PKG_VERSION) $(NFPM) package -f installer/linux/nfpm-portal.yaml -p deb -t $(DIST)/
	PARAPHE_VERSION=$(PKG_VERSION) $(NFPM) package -f installer/linux/nfpm-portal.yaml -p rpm -t $(DIST)/

# The MSI: wixl reads the sources beside the .wxs, so all meet in dist/windows.
package-windows: check-go
	rm -rf $(WINDOWS) $(DIST)/*.msi
	mkdir -p $(WINDOWS)
	$(GOBUILD_WINDOWS_GUI) -o $(WINDOWS)/unsigned/paraphe.exe ./cmd/paraphe
	$(GOBUILD_WINDOWS) -o $(WINDOWS)/unsigned/paraphe.com ./cmd/paraphe
	$(GOBUILD_WINDOWS) -o $(WINDOWS)/unsigned/ ./cmd/paraphe-ca
	installer/windows/sign.sh $(WINDOWS)/unsigned/paraphe.exe $(WINDOWS)/paraphe.exe
	installer/windows/sign.sh $(WINDOWS)/unsigned/paraphe.com $(WINDOWS)/paraphe.com
	installer/windows/sign.sh $(WINDOWS)/unsigned/paraphe-ca.exe $(WINDOWS)/paraphe-ca.exe
	convert assets/icons/paraphe.png -define icon:auto-resize=256,64,48,32,16 $(WINDOWS)/paraphe.ico
	cp installer/windows/paraphe.wxs $(WINDOWS)/
	cd $(WINDOWS) && wixl -a x64 -D Version=$(MSI_VERSION) -o unsigned/paraphe.msi paraphe.wxs
	@# wixl writes SecureCustomProperties itself for MajorUpgrade: add the
	@# policy properties, so they reach the elevated part of the install.
	msibuild $(WINDOWS)/unsigned/paraphe.msi -q "UPDATE \`Property\` SET \`Value\` = \
		'WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED;CA_URL;CA_FINGERPRINT;PROXY;PKCS11_MODULE;KEY_STORES;PIN_POLICY;BRIDGE_PORT;WEB_ORIGINS;BRIDGE_AT_LOGIN' \
		WHERE \`Property\` = 'SecureCustomProperties'"
	@# nor component conditions: the Run key only with BRIDGE_AT_LOGIN=1.
	msibuild $(WINDOWS)/unsigned/paraphe.msi -q "UPDATE \`Component\` SET \`Condition\` = \
		'BRIDGE_AT_LOGIN = \"1\"' WHERE \`Component\` = 'BridgeAtLogin'"
	installer/windows/sign.sh $(WINDOWS)/unsigned/paraphe.msi $(DIST)/paraphe-$(PKG_VERSION)-x64.msi

# The desktop app. Without a display it says how to get one (xvfb-run, a
# desktop session) and what works without: the command line and make demo.
# Without a desktop session bus it gets a private keychain (scripts/run.sh).
run: deps build
	@scripts/run.sh || echo "Or try the whole journey headless against a demo CA: make demo"

demo: deps build
	@scripts/demo.sh

# Screenshots of every screen at 800×600 in English, French and Italian
# (docs/screenshots/LANG), and the real binary's window checked under Xvfb.
screenshots: deps build
	@scripts/screenshots.sh

vet: check-go
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }

# The edit-test loop, in under two minutes: vet, gofmt and the tests in
# short mode, where the slow cross-checks skip (iText and PDFBox in a JVM,
# node-signpdf, every other producer's signatures, the corpus, crash
# tests), and so do the slowest journeys (the desktop app under Xvfb,
# Chromium's longest, every screen in three languages, those that start
# a second server: testenv.Slow, "[short] skip") and the PostgreSQL
# passes; new keychain keys and the CA's stored answers there are quick to
# check (testenv.QuickKDFInShort), at the product's costs in make test.
# The race pass, the fuzzing, the other systems' vet and the packages are
# make test's. A package
# whose code did not change answers from the test cache;
# TESTFLAGS=-count=1 runs everything again. The tests wait on processes
# and the network more than they compute: four packages at once. Test
# binaries are linked without DWARF (-w), which only a debugger reads.
# The longest packages are named first, so that they start at once and
# the short ones fill the gaps (in path order pdf started after 100 s).
CHECK_FIRST := ./app ./pdf ./cmd/paraphe ./netcheck ./cmd/paraphe-ca ./ca ./exchange
check: vet
	GOFLAGS="$(GOFLAGS) -ldflags=-w" $(GO) test -short -p 4 $(TESTFLAGS) $(CHECK_FIRST) ./...

test: deps vet
	@scripts/corpus.sh
	$(GO) test -count=1 -timeout 30m ./...
	@# the desktop app's screens under the race detector: their background
	@# work answers on the window's goroutine, the test's under fyne's test
	@# driver (app.taskGroup); the 500-page memory measure is the plain
	@# pass's (it draws 500 pages, and measures no concurrency)
	GOFLAGS=-trimpath $(GO) test -race -count=1 -timeout 30m -skip TestDocViewMemory500Pages ./app
	@# batch signing shares one signer between goroutines
	GOFLAGS=-trimpath $(GO) test -race -count=1 -run Batch ./pdf ./cades
	@# the Windows and macOS files (proxy settings, keychain, paths) at least build and vet
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) vet ./config ./netclient ./netcheck ./pkcs ./activation ./pdf ./cms ./cades ./internal/...
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./config ./netclient ./netcheck ./pkcs ./activation ./pdf ./cms ./cades ./internal/...
	@# the build without cgo (no PKCS#11) must still say why tokens are missing
	CGO_ENABLED=0 $(GO) test -count=1 -run NoCgo ./pkcs
	@# short fuzzing runs of the PDF reader, the signer and the verifier
	@# (seeded with the DSS corpus): no panic, no hang. The budgets are
	@# counts of runs, not durations: Go 1.26's fuzzing coordinator can
	@# report its own -fuzztime deadline as a failure ("context deadline
	@# exceeded", no input written) on a busy machine (go.dev/issue/75804,
	@# fixed in Go 1.27); a count has no deadline to race.
	$(GO) test -run '^$$' -fuzz FuzzSign -fuzztime 20000x -fuzzminimizetime 200x ./pdf
	$(GO) test -run '^$$' -fuzz FuzzVerify -fuzztime 400x -fuzzminimizetime 20x ./pdf
	@# and of the streaming CMS reader (.p7m, .p7s)
	$(GO) test -run '^$$' -fuzz FuzzReader -fuzztime 25000x -fuzzminimizetime 200x ./cms
	@# the encrypted reader (only what was encrypted ever completes) and
	@# the streamed AES-GCM against crypto/cipher's
	$(GO) test -run '^$$' -fuzz FuzzEnveloped -fuzztime 20000x -fuzzminimizetime 200x ./cms
	$(GO) test -run '^$$' -fuzz FuzzGCMStream -fuzztime 20000x -fuzzminimizetime 200x ./cms
	$(MAKE) package-test

# The packages' acceptance: build them, signed with a throw-away code-signing
# certificate, and check them with the real tools (lintian, dpkg, rpm,
# msiinfo, osslsigncode, file); as root, install, upgrade, remove and purge
# the .deb on this machine.
package-test: deps
	installer/windows/testcert.sh $(BUILD)/testsign
	$(MAKE) package SIGN_CERT=$(BUILD)/testsign/cs.pem SIGN_KEY=$(BUILD)/testsign/cs.key
	PARAPHE_DIST=$(abspath $(DIST)) SIGN_CA=$(abspath $(BUILD)/testsign/cs.pem) \
		$(GO) test -count=1 -v ./installer

# Benchmarks, never timed tests: token signatures per second next to
# pkcs11-tool's own loop, PDF signing (1 MB, 100 MB, 1,000 small files) next
# to a read+write+hash floor, and wall time and peak RSS for a 1 GiB PDF.
bench: deps check-go
	@scripts/bench.sh

fmt:
	gofmt -w .

clean:
	rm -rf bin dist
