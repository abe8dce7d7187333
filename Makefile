# libcontrastive — build, test and benchmark entry points.
#
#   make            build libcontrastive.so (+ SONAME links) into build/lib, tools, examples
#   make test       install missing system packages, build, run every test
#   make bench-ops  kernel benchmark (conv/BN/ReLU vs sgemm/memcpy measured in the same run)
#   make bench-augment  SimCLR augmentation vs torchvision v2 measured in the same run
#   make bench-loss  NT-Xent fwd+bwd and Sinkhorn vs PyTorch measured in the same run
#   make bench-train one SimCLR training step (ResNet-18, ConvNet) vs PyTorch in the same run
#   make bench-accuracy  SimCLR/MoCo v2/BYOL/SwAV on Fashion-MNIST: linear probe + kNN, vs PyTorch
#   make run        the main job: SimCLR on Fashion-MNIST, evaluation vs baselines, HTML report
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
DEB_PACKAGES := libopenblas-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev python3-dev pkg-config binutils gcc g++ make dataset-fashion-mnist

.PHONY: all cli deps lib test-cli test-pip run swift-build examples c-tests test test-swift test-c test-python bench-ops bench-python bench-embed bench-augment install test-install bench-loss bench-train bench-accuracy clean

all: lib cli examples c-tests

# The command-line tool.
cli: swift-build
	@mkdir -p $(BUILD)/bin
	cp -f .build/release/ContrastiveCLI $(BUILD)/bin/contrastive

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
	@$(PYTHON) -c "import numpy, pytest, wheel, setuptools" 2>/dev/null || { echo "deps: installing numpy, pytest, wheel for $(PYTHON)"; \
	  $(PYTHON) -m pip install -q numpy pytest wheel setuptools; }

swift-build:
	$(SWIFT) build $(SWIFTFLAGS)

# The shipped library: the SwiftPM product, installed under its SONAME with the usual links.
lib: swift-build
	@mkdir -p $(LIBDIR)
	cp -f .build/release/libcontrastive.so $(LIBDIR)/libcontrastive.so.$(VERSION)
	ln -sf libcontrastive.so.$(VERSION) $(LIBDIR)/libcontrastive.so.$(SOVERSION)
	ln -sf libcontrastive.so.$(SOVERSION) $(LIBDIR)/libcontrastive.so

EXAMPLES_C := $(patsubst examples/c/%.c,$(BUILD)/bin/%,$(wildcard examples/c/*.c)) \
              $(patsubst examples/cpp/%.cpp,$(BUILD)/bin/%_cpp,$(wildcard examples/cpp/*.cpp))
CTESTS     := $(patsubst Tests/c/%.c,$(BUILD)/tests/%,$(wildcard Tests/c/*.c))

$(BUILD)/bin/%: examples/c/%.c include/contrastive.h lib
	@mkdir -p $(BUILD)/bin
	$(CC) $(CFLAGS_TEST) $< -o $@ $(LDFLAGS_LIB) -lm

$(BUILD)/bin/%_cpp: examples/cpp/%.cpp include/contrastive.h lib
	@mkdir -p $(BUILD)/bin
	$(CXX) $(CXXFLAGS_TEST) $< -o $@ $(LDFLAGS_LIB)

$(BUILD)/tests/%: Tests/c/%.c include/contrastive.h lib
	@mkdir -p $(BUILD)/tests
	$(CC) $(CFLAGS_TEST) -D_POSIX_C_SOURCE=200809L $< -o $@ $(LDFLAGS_LIB) -lm -lpthread

$(BUILD)/tests/header_cxx: Tests/c/header_cxx.cpp include/contrastive.h lib
	@mkdir -p $(BUILD)/tests
	$(CXX) $(CXXFLAGS_TEST) $< -o $@ $(LDFLAGS_LIB)

examples: $(EXAMPLES_C)
c-tests: $(CTESTS) $(BUILD)/tests/header_cxx

test: deps all test-swift test-c test-cli test-install test-pip test-python
	@echo "make test: all tests passed"

# Serial: some suites change the process-wide thread count.
test-swift:
	$(SWIFT) test $(SWIFTFLAGS) --no-parallel

test-c: c-tests examples
	@set -e; for t in $(CTESTS) $(BUILD)/tests/header_cxx; do echo "== $$t"; $$t; done
	CC=$(CC) bash Tests/c/check_exports.sh $(LIBDIR)/libcontrastive.so.$(VERSION) include/contrastive.h
	@set -e; for e in $(EXAMPLES_C); do echo "== $$e"; $$e; done

# The main job: SimCLR on Fashion-MNIST on built-in defaults, evaluation against the raw-pixel and
# random-initialisation baselines, the HTML report (runs/simclr-fashion-mnist/). RUN_ARGS adds options.
RUN_ARGS ?=
run: deps all
	$(BUILD)/bin/contrastive train $(RUN_ARGS)

# `pip install bindings/python` into a fresh virtual environment carries the library with it.
test-pip: lib
	rm -rf $(BUILD)/pip-test && $(PYTHON) -m venv --system-site-packages $(BUILD)/pip-test
	$(BUILD)/pip-test/bin/python -m pip install -q --no-build-isolation --no-deps ./bindings/python
	cd /tmp && env -u CONTRASTIVE_LIBRARY $(CURDIR)/$(BUILD)/pip-test/bin/python -c "import contrastive, os; 	  p = contrastive.lib_path; assert 'site-packages' in p and os.path.basename(p) == 'libcontrastive.so.0', p; 	  m = contrastive.Model('convnet', in_channels=1); import numpy as np; 	  z = m.embed(np.zeros((2, 28, 28, 1), np.uint8)); assert z.shape == (2, 256); 	  print('test-pip: installed package loads its bundled library from', p)"

test-cli: cli
	PYTHON=$(PYTHON) bash Tests/cli/test_cli.sh $(BUILD)/bin/contrastive $(BUILD)/cli-test

test-python: lib
	cd bindings/python && CONTRASTIVE_LIBRARY=$(CURDIR)/$(LIBDIR)/libcontrastive.so.$(SOVERSION) $(PYTHON) -m pytest -q tests

bench-ops: swift-build
	.build/release/contrastive-bench ops

# PyTorch for the peer side of the benchmarks: BENCH_PYTHON if it imports torchvision, else a
# virtual environment under build/bench-venv with torch + torchvision from PyPI.
BENCH_PYTHON ?= $(PYTHON)
bench-python:
	@if $(BENCH_PYTHON) -c "import torch, torchvision" 2>/dev/null; then echo $(BENCH_PYTHON) > $(BUILD)/.bench-python; \
	else mkdir -p $(BUILD) && [ -x $(BUILD)/bench-venv/bin/python ] || $(PYTHON) -m venv $(BUILD)/bench-venv; \
	  $(BUILD)/bench-venv/bin/python -c "import torch, torchvision" 2>/dev/null || \
	  $(BUILD)/bench-venv/bin/pip install -q torch torchvision numpy; \
	  echo $(CURDIR)/$(BUILD)/bench-venv/bin/python > $(BUILD)/.bench-python; fi

bench-embed: swift-build bench-python
	.build/release/contrastive-bench embed --peer "$$(cat $(BUILD)/.bench-python) Tests/Bench/torch_peer.py"
bench-augment: swift-build bench-python
	BENCH_PYTHON=$$(cat $(BUILD)/.bench-python) .build/release/contrastive-bench augment
bench-loss: swift-build bench-python
	BENCH_PYTHON=$$(cat $(BUILD)/.bench-python) .build/release/contrastive-bench loss
# Accuracy benchmark (minutes to hours; not a test): BENCH_ACCURACY_ARGS="--epochs 3 --limit 0".
BENCH_ACCURACY_ARGS ?= --epochs 3
bench-accuracy: lib cli bench-python
	$(PYTHON) Tests/Bench/accuracy.py $(BENCH_ACCURACY_ARGS) --torch "$$(cat $(BUILD)/.bench-python)"

bench-train: swift-build bench-python
	BENCH_PYTHON=$$(cat $(BUILD)/.bench-python) .build/release/contrastive-bench train --reps 3

# Install like a C library: header, the .so with its SONAME links, a pkg-config file.
PREFIX ?= /usr/local
install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/contrastive.h $(DESTDIR)$(PREFIX)/include/contrastive.h
	install -m 755 $(LIBDIR)/libcontrastive.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libcontrastive.so.$(VERSION)
	ln -sf libcontrastive.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libcontrastive.so.$(SOVERSION)
	ln -sf libcontrastive.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libcontrastive.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' include/contrastive.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/contrastive.pc

# Build a C example against an installed copy through pkg-config, and run it.
test-install: lib
	rm -rf $(BUILD)/install-test
	$(MAKE) --no-print-directory install PREFIX=$(CURDIR)/$(BUILD)/install-test
	PKG_CONFIG_PATH=$(CURDIR)/$(BUILD)/install-test/lib/pkgconfig; export PKG_CONFIG_PATH; \
	$(CC) -std=c99 -Wall -Werror examples/c/hello.c -o $(BUILD)/install-test/hello \
	  $$(pkg-config --cflags --libs contrastive) -Wl,-rpath,$(CURDIR)/$(BUILD)/install-test/lib && \
	$(BUILD)/install-test/hello > /dev/null && echo "test-install: pkg-config build against the installed copy runs"

clean:
	rm -rf $(BUILD) .build

# libFuzzer on the safetensors parser: `make fuzz-safetensors FUZZ_SECONDS=60`.
FUZZ_SECONDS ?= 60
FUZZ_SOURCES := Tests/Fuzz/SafetensorsFuzz.swift Sources/Contrastive/Core/Status.swift $(wildcard Sources/Contrastive/IO/*.swift)
$(BUILD)/fuzz/safetensors: $(FUZZ_SOURCES)
	@mkdir -p $(BUILD)/fuzz
	swiftc -O -parse-as-library -sanitize=fuzzer,address -module-name Contrastive $(FUZZ_SOURCES) -o $@

.PHONY: fuzz-safetensors
fuzz-safetensors: $(BUILD)/fuzz/safetensors
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/findings
	cp -n Tests/ContrastiveTests/Fixtures/safetensors-corpus/* $(BUILD)/fuzz/corpus/ 2>/dev/null || true
	$(BUILD)/fuzz/safetensors $(BUILD)/fuzz/corpus -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -artifact_prefix=$(BUILD)/fuzz/findings/ -print_final_stats=1

# libFuzzer on the IDX/gzip reader: `make fuzz-idx FUZZ_SECONDS=60`.
IDX_FUZZ_SOURCES := Tests/Fuzz/IDXFuzz.swift Sources/Contrastive/Core/Status.swift Sources/Contrastive/Core/Random.swift \
  Sources/Contrastive/Core/Threads.swift Sources/Contrastive/Core/Log.swift $(wildcard Sources/Contrastive/IO/*.swift) \
  Sources/Contrastive/Data/Gzip.swift Sources/Contrastive/Data/IDX.swift Sources/Contrastive/Data/Dataset.swift
$(BUILD)/fuzz/idx: $(IDX_FUZZ_SOURCES)
	@mkdir -p $(BUILD)/fuzz
	swiftc -O -parse-as-library -sanitize=fuzzer,address -module-name Contrastive \
	  -I Sources/COpenBLAS -I Sources/CZlib -Xcc -I/usr/include/x86_64-linux-gnu/openblas-pthread \
	  $(IDX_FUZZ_SOURCES) -lz -lopenblas -o $@

.PHONY: fuzz-idx
fuzz-idx: $(BUILD)/fuzz/idx
	@mkdir -p $(BUILD)/fuzz/idx-corpus $(BUILD)/fuzz/idx-findings
	cp -n Tests/ContrastiveTests/Fixtures/idx-corpus/* $(BUILD)/fuzz/idx-corpus/ 2>/dev/null || true
	$(BUILD)/fuzz/idx $(BUILD)/fuzz/idx-corpus -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -artifact_prefix=$(BUILD)/fuzz/idx-findings/ -print_final_stats=1

# libFuzzer on the NPY reader (header parser + data decoding): `make fuzz-npy FUZZ_SECONDS=60`.
NPY_FUZZ_SOURCES := Tests/Fuzz/NPYFuzz.swift Sources/Contrastive/Core/Status.swift Sources/Contrastive/Core/Random.swift \
  Sources/Contrastive/Core/Threads.swift Sources/Contrastive/Core/Log.swift Sources/Contrastive/IO/File.swift \
  Sources/Contrastive/Data/NPY.swift Sources/Contrastive/Data/Dataset.swift
$(BUILD)/fuzz/npy: $(NPY_FUZZ_SOURCES)
	@mkdir -p $(BUILD)/fuzz
	swiftc -O -parse-as-library -sanitize=fuzzer,address -module-name Contrastive \
	  -I Sources/COpenBLAS -Xcc -I/usr/include/x86_64-linux-gnu/openblas-pthread \
	  $(NPY_FUZZ_SOURCES) -lopenblas -o $@

.PHONY: fuzz-npy
fuzz-npy: $(BUILD)/fuzz/npy
	@mkdir -p $(BUILD)/fuzz/npy-corpus $(BUILD)/fuzz/npy-findings
	cp -n Tests/ContrastiveTests/Fixtures/npy-corpus/* $(BUILD)/fuzz/npy-corpus/ 2>/dev/null || true
	$(BUILD)/fuzz/npy $(BUILD)/fuzz/npy-corpus -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -artifact_prefix=$(BUILD)/fuzz/npy-findings/ -print_final_stats=1

# libFuzzer on the PNG/JPEG decoders (C, setjmp error paths): `make fuzz-images FUZZ_SECONDS=60`.
FUZZ_CLANG ?= /opt/swift/usr/bin/clang
$(BUILD)/fuzz/images: Tests/Fuzz/image_fuzz.c Sources/CImageCodecs/codecs.c Sources/CImageCodecs/include/CImageCodecs.h
	@mkdir -p $(BUILD)/fuzz
	$(FUZZ_CLANG) -O1 -g -fsanitize=fuzzer,address,undefined -ISources/CImageCodecs/include \
	  Tests/Fuzz/image_fuzz.c Sources/CImageCodecs/codecs.c -lpng16 -ljpeg -o $@

.PHONY: fuzz-images
fuzz-images: $(BUILD)/fuzz/images
	@mkdir -p $(BUILD)/fuzz/images-corpus $(BUILD)/fuzz/images-findings
	cp -n $$(find Tests/ContrastiveTests/Fixtures/images -type f) $(BUILD)/fuzz/images-corpus/ 2>/dev/null || true
	$(BUILD)/fuzz/images $(BUILD)/fuzz/images-corpus -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	  -artifact_prefix=$(BUILD)/fuzz/images-findings/ -print_final_stats=1
