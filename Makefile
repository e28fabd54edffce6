# Barefoot: `make run` serves the demo, `make test` runs every test.
GO      ?= go
BIN     := bin/barefoot
PKGS    := ./...
PHONE   ?= +8613800138002

.PHONY: all build services run simulate test vet fmt-check bench lint clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/barefoot

# Install or start PostgreSQL and Redis where they are missing.
services:
	@bash .ci/services

# Migrate, load the demo and serve on BAREFOOT_ADDR (default :8080).
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

# Every test, against the real PostgreSQL and Redis, with the race detector.
test: services vet fmt-check
	$(GO) test -race -count=1 $(PKGS)

bench: services
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean:
	rm -rf bin
