# router-service build, test and helper-VM targets.
SHELL := /bin/bash
GO ?= go
BIN := bin
CACHE := .cache
TOOLS := $(CACHE)/tools
VM_CACHE ?= $(CURDIR)/$(CACHE)/vm
export VM_CACHE
# protoc comes from Debian 12; the generated code records its version, so a
# different protoc would make the committed code look stale.
PROTOC_VERSION := 3.21.12
LDFLAGS := -s -w
GOBUILD := CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)'

.PHONY: all build build-arm64 proto proto-check test unit-test vm-test demo vm-image clean

all: build

build:
	$(GOBUILD) -o $(BIN)/router-service ./cmd/router-service
	$(GOBUILD) -o $(BIN)/routerctl ./cmd/routerctl

build-arm64:
	GOARCH=arm64 $(GOBUILD) -o $(BIN)/linux-arm64/router-service ./cmd/router-service
	GOARCH=arm64 $(GOBUILD) -o $(BIN)/linux-arm64/routerctl ./cmd/routerctl

$(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc: go.mod
	$(GO) build -o $(TOOLS)/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go
	$(GO) build -o $(TOOLS)/protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc

proto: $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc
	@v=$$(protoc --version); [ "$$v" = "libprotoc $(PROTOC_VERSION)" ] || \
		{ echo "protoc $(PROTOC_VERSION) required (apt-get install protobuf-compiler on Debian 12), found: $$v" >&2; exit 1; }
	protoc --plugin=protoc-gen-go=$(TOOLS)/protoc-gen-go --plugin=protoc-gen-go-grpc=$(TOOLS)/protoc-gen-go-grpc \
		--go_out=. --go_opt=paths=source_relative \
		--go-grpc_out=. --go-grpc_opt=paths=source_relative \
		api/router/router.proto

# proto-check fails when the committed generated code differs from what
# `make proto` produces.
proto-check: proto
	@git diff --exit-code -- api/router || { echo "generated code in api/router is stale: run 'make proto' and commit" >&2; exit 1; }

VM_INITRAMFS := $(VM_CACHE)/initramfs.cpio.gz
VM_BINS := $(BIN)/router-service $(BIN)/routerctl $(BIN)/vm-driver

$(BIN)/vm-driver: build
	$(GOBUILD) -o $(BIN)/vm-driver ./test/vm/driver

# vm-image boots nothing: it fetches the kernel and packs our binaries with
# busybox and the kernel modules into the helper VM's initramfs.
vm-image: build $(BIN)/vm-driver
	test/vm/fetch-kernel.sh
	VM_INITRAMFS=$(VM_INITRAMFS) test/vm/mkinitramfs.sh $(VM_INITRAMFS) $(VM_BINS)

# vm-test boots the helper VM and runs the end-to-end scenario inside it.
vm-test: vm-image
	VM_INITRAMFS=$(VM_INITRAMFS) test/vm/run.sh --mode test

# demo boots the helper VM and narrates creating networks and pinging them.
demo: vm-image
	@VM_INITRAMFS=$(VM_INITRAMFS) test/vm/run.sh --mode demo

# unit-test runs every Go test. Tests that create network namespaces need
# root and fail (never skip) without it.
unit-test:
	$(GO) test -race -count=1 ./...

test: proto-check build build-arm64 unit-test vm-test

clean:
	rm -rf $(BIN) $(CACHE)
