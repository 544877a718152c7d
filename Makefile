# cvmrestore: a thin wrapper around CMake. `make demo` and `make test` install what is missing
# (Debian 12, as root) and build first, so each works as the first command on a fresh machine.

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Tests: one more than the cores, since several integration tests mostly wait (stalled servers,
# rate caps, progress intervals) and would leave a core idle.
TEST_JOBS ?= $(shell echo $$(( $(JOBS) + 1 )))
FUZZ_SECONDS ?= 60
BUILD := build
ASAN_BUILD := build-asan
FUZZ_BUILD := build-fuzz
RELEASE_BUILD := build-release

# Debian packages: libraries (-dev), build tools, and the real peers the tests talk to.
DEPS_PKGS := build-essential cmake pkg-config clang libclang-rt-14-dev \
	libvhdi-dev libvhdi-utils libssl-dev openssl libcurl4-openssl-dev zlib1g-dev \
	libcryptsetup-dev cryptsetup-bin libjansson-dev libexpat1-dev libcmocka-dev clang-format \
	qemu-utils zstd xz-utils bzip2 fdisk python3 python3-cryptography python3-yaml time nginx aria2 curl iproute2 bc \
	chromium dpkg-dev man-db zsh nbdkit nbdkit-plugin-dev libnbd-bin python3-libnbd python3-jsonschema \
	systemd prometheus prometheus-node-exporter prometheus-pushgateway python3-prometheus-client

# Peers that Debian ships as services: the tests start their own on 127.0.0.1, so make deps
# keeps the packaged ones from starting (policy-rc.d while installing) and disables them.
DAEMON_PKGS := prometheus prometheus-node-exporter prometheus-pushgateway nginx

# The developer builds: tests on, warnings are errors. A plain `cmake` is the release build.
DEV_FLAGS := -DRP_TESTS=ON -DRP_WERROR=ON
PREFIX ?= /usr/local

.PHONY: all deps build asan test check install format format-check demo bench fuzz clean

all: build

deps:
	@missing=$$(for p in $(DEPS_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root, or: sudo apt-get install" $$missing >&2; exit 1; fi; \
		policy=; if [ ! -e /usr/sbin/policy-rc.d ]; then policy=/usr/sbin/policy-rc.d; \
			printf '#!/bin/sh\nexit 101\n' >$$policy; chmod 755 $$policy; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
		rc=$$?; [ -z "$$policy" ] || rm -f $$policy; [ $$rc = 0 ] || exit $$rc; \
		for p in $$missing; do case " $(DAEMON_PKGS) " in *" $$p "*) \
			systemctl disable --now $$p >/dev/null 2>&1 || true;; esac; done; \
	fi
	@# Node.js for Azurite: the machine's own if it has one, else Debian's.
	@command -v node >/dev/null && command -v npm >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm)
	@# Azurite and kubernetes-models (test_examples.sh), pinned by tests/azurite/package-lock.json.
	@[ -x tests/azurite/node_modules/.bin/azurite-blob ] && \
		[ -f tests/azurite/node_modules/kubernetes-models/package.json ] || \
		(cd tests/azurite && npm ci --no-audit --no-fund --loglevel=error)

build:
	cmake -S . -B $(BUILD) $(DEV_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

asan:
	cmake -S . -B $(ASAN_BUILD) $(DEV_FLAGS) -DRP_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The C sources as .clang-format lays them out; format-check fails on any difference.
C_SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find common formats verify net restore cli tests -name '*.[ch]')

format:
	clang-format -i $(C_SOURCES)

format-check:
	@clang-format --dry-run --Werror $(C_SOURCES) || \
		(echo "make format-check: run 'make format' and commit the result" >&2; exit 1)

test: deps format-check build asan
	ctest --test-dir $(BUILD) --output-on-failure -j $(TEST_JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(TEST_JOBS)

# The quick tier (under two minutes on two cores): unit tests, fuzz replays and the integration
# tests not labelled slow (tests/CMakeLists.txt), on the normal build only.
check: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(TEST_JOBS) -LE slow

# The release build (no tests, no -Werror) installed under PREFIX: the binary, man pages,
# completions and docs (DESTDIR=... stages them).
install:
	cmake -S . -B $(RELEASE_BUILD) >/dev/null
	cmake --build $(RELEASE_BUILD) -j $(JOBS)
	cmake --install $(RELEASE_BUILD) --prefix $(PREFIX)

demo: deps build
	bash tests/demo.sh $(BUILD)/cvmrestore

bench: deps build
	bash tests/bench/run.sh $(BUILD)/cvmrestore

fuzz: deps build
	cmake -S . -B $(FUZZ_BUILD) -DRP_TESTS=ON -DCMAKE_C_COMPILER=clang -DRP_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)
	bash tests/fuzz/vhd_differential.sh $(BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(RELEASE_BUILD)
