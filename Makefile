# gocker's build, demo, tests and benchmarks. "make help" lists the targets.

GO       ?= go
BIN      := bin/gocker
# urfave/cli's markdown generator is left out: it costs every gocker
# process (the CLI and each container init) its package initialization.
TAGS     := urfave_cli_no_docs
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
export CGO_ENABLED := 0
# actionlint checks the GitHub Actions workflow in "make lint".
ACTIONLINT := v1.7.12
export PATH := /usr/local/go/bin:$(PATH)

.PHONY: help build install demo test test-unit test-e2e test-vm test-setup bench bench-limits lint clean

help:
	@echo "make build      build $(BIN)"
	@echo "make demo       build, make the busybox image and run it as an unprivileged user (sudo installs what is missing)"
	@echo "make test       the whole test suite, as root: installs packages and test users, then unit and end-to-end tests"
	@echo "make bench      start latency side by side with podman, runc and the unshare floor (as root)"
	@echo "make bench-limits  start latency with and without resource limits, rootless in the systemd guest (as root)"
	@echo "make install    install bin/gocker to /usr/local/bin, with an AppArmor profile where Ubuntu needs one (as root)"
	@echo "make test-vm    resource limit tests on cgroup v2 in a Debian guest with systemd (as root; qemu)"
	@echo "make lint       gofmt, go vet and actionlint"

build:
	$(GO) build -trimpath -tags $(TAGS) -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/gocker

demo: build
	./scripts/demo.sh

test-setup:
	./scripts/test-setup.sh

test-unit:
	$(GO) test -count=1 ./...

test-e2e:
	$(GO) test -count=1 -timeout 30m -tags integration ./test/

test-vm: build
	./test/vm/guest.sh ci $(BIN)

test: test-setup lint test-unit test-e2e test-vm

install: build
	./scripts/install.sh

bench: build
	./scripts/bench/start.sh

bench-limits:
	./scripts/bench/limits.sh

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./test/
	$(GO) run github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT) .github/workflows/ci.yml

clean:
	rm -rf bin
