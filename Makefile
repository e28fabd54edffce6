# Barefoot: `make run` serves the demo, `make test` runs every test.
GO      ?= go
# Go 1.27.3 carries the standard-library fixes that 1.26.8 lacks (govulncheck
# finds eleven reachable advisories in 1.26.8, none in 1.27.3). The go
# command fetches this toolchain from the module proxy on first use.
export GOTOOLCHAIN := go1.27.3
VULNDB  := golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018
BIN     := bin/barefoot
PKGS    := ./...
PHONE   ?= +8613800138002

.PHONY: all build services run simulate test test-faults vet fmt-check bench vuln lint clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/barefoot

# Install or start PostgreSQL and Redis where they are missing.
services:
	@bash .ci/services

# Migrate, load the demo and serve on BAREFOOT_ADDR (default 127.0.0.1:8080).
run: services build
	./$(BIN) migrate
	./$(BIN) seed
	./$(BIN) serve

# A terminal phone against the running gateway: make simulate PHONE=+8613800138001
simulate: build
	./$(BIN) simulate --phone $(PHONE)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Every test, against the real PostgreSQL and Redis, with the race detector
# (and headless Chromium for the console, and Kannel): the unit and
# integration tests, then the fault scenarios.
test: vet fmt-check
	@bash .ci/services --with-browser --with-kannel
	$(GO) test -race -count=1 -skip '^TestFault' $(PKGS)
	@$(MAKE) --no-print-directory test-faults

# The fault scenarios (tests named TestFault...): Redis, Postgres, the
# spool's disk, Kannel and the gateway's own processes killed, paused,
# locked, flushed and restarted mid-walk, each on servers of its own.
test-faults:
	@bash .ci/services --with-kannel
	$(GO) test -race -count=1 -run '^TestFault' $(PKGS)

bench: services
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# Known-vulnerability scan against an offline copy of the Go vulnerability
# database, taken from the module proxy.
vuln:
	$(GO) mod download $(VULNDB)
	$(GO) run golang.org/x/vulndb/cmd/indexdb@$(word 2,$(subst @, ,$(VULNDB))) \
		-vulns $$($(GO) list -m -f '{{.Dir}}' $(VULNDB) 2>/dev/null || $(GO) mod download -json $(VULNDB) | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/data/osv -out bin/vulndb
	$(GO) run golang.org/x/vuln/cmd/govulncheck@v1.9.0 -db file://$(CURDIR)/bin/vulndb ./...

clean:
	rm -rf bin

# Static analysis beyond vet.
lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
