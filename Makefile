# gocker's build, demo, tests and benchmarks. "make help" lists the targets.

GO       ?= go
BIN      := bin/gocker
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
export CGO_ENABLED := 0
ACTIONLINT := v1.7.12
export PATH := /usr/local/go/bin:$(PATH)

PREFIX   ?= /usr/local
# DESTDIR is prepended to every installed path, for packaging. APPARMOR
# chooses whether install writes the AppArmor profile: auto (where this
# host restricts unprivileged user namespaces), 1 (always) or 0 (never).
DESTDIR  ?=
APPARMOR ?= auto

.PHONY: help build install demo test test-unit test-e2e test-vm test-setup bench bench-limits lint clean

help:
	@echo "make build      build $(BIN) and its container init, $(BIN)-init"
	@echo "make install    install $(BIN) and $(BIN)-init in $(PREFIX)/bin, with an AppArmor profile where Ubuntu needs one (as root; DESTDIR, PREFIX, APPARMOR=auto|1|0)"
	@echo "make demo       build, make the busybox image and run it as an unprivileged user (sudo installs what is missing)"
	@echo "make test       the whole test suite, as root: installs packages and test users, then unit and end-to-end tests"
	@echo "make bench      start and exec latency, monitor memory, pull and published-port throughput, side by side with podman, runc and the floors (as root)"
	@echo "make bench-limits  start latency with and without resource limits, rootless in the systemd guest (as root)"
	@echo "make test-vm    resource limit tests on cgroup v2 in a Debian guest with systemd (as root; qemu)"
	@echo "make lint       gofmt, go vet, staticcheck and actionlint"

# build.sh builds bin/gocker and bin/gocker-init, the container init, with
# one build id.
build:
	GO=$(GO) LDFLAGS="-s -w -X main.version=$(VERSION)" ./scripts/build.sh $(dir $(BIN)) -trimpath -buildvcs=false

install: build
	PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) APPARMOR=$(APPARMOR) BIN=$(BIN) ./scripts/install.sh

demo: build
	./scripts/demo.sh

test-setup:
	./scripts/test-setup.sh

test-unit:
	$(GO) test -count=1 ./...

# -v shows every test, so that a skipped one (a missing prerequisite) is
# visible in the CI log rather than hidden in an "ok".
test-e2e:
	$(GO) test -count=1 -timeout 30m -tags integration -v ./test/

test-vm: build
	./test/vm/guest.sh ci $(BIN)

test: test-setup lint test-unit test-e2e test-vm

bench: build
	./scripts/bench/start.sh
	./scripts/bench/exec.sh
	./scripts/bench/pull.sh
	./scripts/bench/network.sh

bench-limits:
	./scripts/bench/limits.sh

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./test/
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(STATICCHECK) -tags integration ./test/
	$(GO) run github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT) .github/workflows/ci.yml

clean:
	rm -rf bin
