# libcontrastive — build, test and benchmark entry points.
#
#   make            build libcontrastive.so (+ SONAME links) into build/lib, tools, examples
#   make test       install missing system packages, build, run every test
#   make bench-ops  kernel benchmark (conv/BN/ReLU vs sgemm/memcpy measured in the same run)
#   make bench-augment  SimCLR augmentation vs torchvision v2 measured in the same run
#
SHELL        := /bin/bash
SWIFT        ?= swift
PYTHON       ?= python3
CC           ?= gcc
CXX          ?= g++
BUILD        := build
LIBDIR       := $(BUILD)/lib
SOVERSION    := 0
VERSION      := 0.1.0
SWIFTFLAGS   := -c release
LIB          := $(LIBDIR)/libcontrastive.so
CFLAGS_TEST  := -std=c99 -Wall -Wextra -Werror -pedantic -O2 -Iinclude
CXXFLAGS_TEST:= -std=c++17 -Wall -Wextra -Werror -O2 -Iinclude
LDFLAGS_LIB  := -L$(LIBDIR) -lcontrastive -Wl,-rpath,'$$ORIGIN/../lib'

# Debian packages the build and tests need (checked by `make deps`).
DEB_PACKAGES := libopenblas-dev python3-dev pkg-config binutils gcc g++ make

.PHONY: all deps lib swift-build examples c-tests test test-swift test-c test-python bench-ops bench-augment clean

all: lib examples c-tests

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO=sudo; \
	  else echo "deps: missing$$missing and not root; install them with apt-get" >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	else echo "deps: all system packages present"; fi
	@$(PYTHON) -c "import numpy, pytest" 2>/dev/null || { echo "deps: installing numpy and pytest for $(PYTHON)"; \
	  $(PYTHON) -m pip install -q numpy pytest; }

swift-build:
	$(SWIFT) build $(SWIFTFLAGS)

# The shipped library: the SwiftPM product, installed under its SONAME with the usual links.
lib: swift-build
	@mkdir -p $(LIBDIR)
	cp -f .build/release/libcontrastive.so $(LIBDIR)/libcontrastive.so.$(VERSION)
	ln -sf libcontrastive.so.$(VERSION) $(LIBDIR)/libcontrastive.so.$(SOVERSION)
	ln -sf libcontrastive.so.$(SOVERSION) $(LIBDIR)/libcontrastive.so

EXAMPLES_C := $(patsubst examples/c/%.c,$(BUILD)/bin/%,$(wildcard examples/c/*.c))
CTESTS     := $(patsubst Tests/c/%.c,$(BUILD)/tests/%,$(wildcard Tests/c/*.c))

$(BUILD)/bin/%: examples/c/%.c include/contrastive.h lib
	@mkdir -p $(BUILD)/bin
	$(CC) $(CFLAGS_TEST) $< -o $@ $(LDFLAGS_LIB) -lm

$(BUILD)/tests/%: Tests/c/%.c include/contrastive.h lib
	@mkdir -p $(BUILD)/tests
	$(CC) $(CFLAGS_TEST) -D_POSIX_C_SOURCE=200809L $< -o $@ $(LDFLAGS_LIB) -lm -lpthread

$(BUILD)/tests/header_cxx: Tests/c/header_cxx.cpp include/contrastive.h lib
	@mkdir -p $(BUILD)/tests
	$(CXX) $(CXXFLAGS_TEST) $< -o $@ $(LDFLAGS_LIB)

examples: $(EXAMPLES_C)
c-tests: $(CTESTS) $(BUILD)/tests/header_cxx

test: deps all test-swift test-c test-python
	@echo "make test: all tests passed"

# Serial: some suites change the process-wide thread count.
test-swift:
	$(SWIFT) test $(SWIFTFLAGS) --no-parallel

test-c: c-tests examples
	@set -e; for t in $(CTESTS) $(BUILD)/tests/header_cxx; do echo "== $$t"; $$t; done
	CC=$(CC) bash Tests/c/check_exports.sh $(LIBDIR)/libcontrastive.so.$(VERSION) include/contrastive.h
	@set -e; for e in $(EXAMPLES_C); do echo "== $$e"; $$e; done

test-python: lib
	cd bindings/python && CONTRASTIVE_LIBRARY=$(CURDIR)/$(LIBDIR)/libcontrastive.so.$(SOVERSION) $(PYTHON) -m pytest -q tests

bench-ops: swift-build
	.build/release/contrastive-bench ops

# torchvision for the comparison: BENCH_PYTHON if given, else python3 when it has torchvision,
# else a venv under build/bench-venv with torch + torchvision from PyPI.
BENCH_PYTHON ?=
bench-augment: swift-build
	@py="$(BENCH_PYTHON)"; \
	if [ -z "$$py" ]; then \
	  if $(PYTHON) -c "import torchvision" 2>/dev/null; then py=$(PYTHON); \
	  else \
	    if [ ! -x $(BUILD)/bench-venv/bin/python ] || ! $(BUILD)/bench-venv/bin/python -c "import torchvision" 2>/dev/null; then \
	      echo "bench-augment: creating $(BUILD)/bench-venv with torch + torchvision"; \
	      $(PYTHON) -m venv $(BUILD)/bench-venv && $(BUILD)/bench-venv/bin/pip install -q numpy torch torchvision; \
	    fi; py=$(BUILD)/bench-venv/bin/python; \
	  fi; \
	fi; \
	BENCH_PYTHON=$$py .build/release/contrastive-bench augment

clean:
	rm -rf $(BUILD) .build
