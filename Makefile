# SPDX-License-Identifier: Apache-2.0
# berth: one non-recursive Makefile. One build directory per flavour (build/release, build/asan)
# so flags never mix. `make V=1` shows the commands.

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
FUZZ_CC ?= clang
VERSION := 0.1.0

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Libraries through pkg-config. --as-needed drops the ones no object uses yet, so the CLI starts
# fast and the idle daemon stays small.
# libevent and jansson are small and on every CLI call's path: linked statically they spare each
# call the loading and relocation of two shared objects (about 0.5 ms here; test/bench measures).
# The heavy libraries (libcurl and what Debian's pulls in, OpenSSL, libarchive, zlib, zstd) are
# linked only into berth-engine.so, the engine half that processes load when they need it
# (engine/image/plugin.h): loading them costs every process tens of ms and megabytes.
LIGHT_PKGS := yaml-0.1 libseccomp libcap libmnl libnftables
HEAVY_PKGS := libarchive openssl libcurl zlib libzstd
PKGS := $(LIGHT_PKGS) $(HEAVY_PKGS)
STATIC_PKGS := libevent_core jansson
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(STATIC_PKGS) 2>/dev/null)
STATIC_LIBS = $(shell pkg-config --libs $(STATIC_PKGS) 2>/dev/null)
LIGHT_LIBS = $(shell pkg-config --libs $(LIGHT_PKGS) 2>/dev/null)
HEAVY_LIBS = $(shell pkg-config --libs $(HEAVY_PKGS) 2>/dev/null)
# Tests, tools and fuzz harnesses link everything directly.
PKG_LIBS = -Wl,-Bstatic $(STATIC_LIBS) -Wl,-Bdynamic $(LIGHT_LIBS) $(HEAVY_LIBS)
# The berth binary keeps all of libevent and jansson and exports its symbols: the plugin uses
# the binary's copies (one event loop, one jansson hash seed), not copies of its own.
BIN_LIBS = -Wl,--export-dynamic -Wl,-Bstatic -Wl,--whole-archive $(STATIC_LIBS) \
	-Wl,--no-whole-archive -Wl,-Bdynamic $(LIGHT_LIBS)

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wwrite-strings -Wimplicit-fallthrough -Wundef -Wvla -fno-common
BASE_CFLAGS := -std=gnu11 -g -fPIC -D_GNU_SOURCE -I. $(WARN) -DBERTH_VERSION='"$(VERSION)"'
CFLAGS_release := $(BASE_CFLAGS) -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2
CFLAGS_asan := $(BASE_CFLAGS) -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -DBERTH_ASAN=1
LDFLAGS_release := -Wl,--as-needed -Wl,-z,relro -Wl,-z,now
LDFLAGS_asan := -fsanitize=address,undefined -Wl,--as-needed
# The fuzz flavour: clang, its objects instrumented for libFuzzer (harnesses link the library).
CFLAGS_fuzz := $(BASE_CFLAGS) -O1 -fsanitize=fuzzer-no-link,address,undefined \
	-fno-omit-frame-pointer
LDFLAGS_fuzz := -fsanitize=fuzzer,address,undefined
CC_release = $(CC)
CC_asan = $(CC)
CC_fuzz = $(FUZZ_CC)

SRCS := $(sort $(wildcard orchestrator/*.c orchestrator/*/*.c compose/*.c compose/*/*.c \
	engine/*.c engine/*/*.c netdns/*.c healthcheck/*.c))
# Schemas are embedded in the binary (the CLI validates without the repository around):
# schemas/NAME.schema.json becomes the C string berth_schema_NAME (NUL-terminated).
SCHEMA_JSON := $(sort $(wildcard schemas/*.schema.json))
GEN_SRC := build/gen/schemas.c
SRCS += $(GEN_SRC)
# The engine plugin (engine/image/plugin.h): its sources, the table it exports, and the
# wrappers the binary calls instead.
HEAVY_SRCS := engine/image/registry.c engine/image/registry-http.c engine/image/registry-auth.c \
	engine/image/unpack.c engine/image/unpack-src.c engine/image/archive.c engine/image/image.c \
	engine/image/cas-write.c
PLUGIN_API_SRC := engine/image/plugin-api.c
WRAPPER_SRC := engine/image/plugin.c
LIB_SRCS := $(filter-out orchestrator/main.c $(PLUGIN_API_SRC) $(WRAPPER_SRC),$(SRCS))
BIN_SRCS := $(filter-out orchestrator/main.c $(PLUGIN_API_SRC) $(HEAVY_SRCS),$(SRCS))
INIT_SRC := engine/container/init/berth-init.c
UNIT_SRCS := $(sort $(wildcard test/unit/test-*.c))
TOOL_SRCS := $(sort $(wildcard test/system/tools/*.c))
FUZZ_SRCS := $(sort $(wildcard test/fuzz/fuzz-*.c))
BENCH_SRCS := $(sort $(wildcard test/bench/*.c))

# Debian packages: to build, to test, and for the benchmarks' yardstick.
DEB_BUILD := gcc make pkg-config libyaml-dev libevent-dev libjansson-dev libseccomp-dev \
	libcap-dev libarchive-dev libssl-dev libcurl4-openssl-dev libmnl-dev libnftables-dev \
	zlib1g-dev libzstd-dev
DEB_TEST := bats libcmocka-dev clang libclang-rt-14-dev python3 python3-jsonschema \
	busybox-static socat iproute2 procps util-linux passwd zstd openssl skopeo docker-registry \
	apache2-utils
DEB_BENCH := docker.io docker-compose

.PHONY: all release asan deps bench-deps test test-release test-asan unit fuzz bench lint \
	install clean demo

all: release

$(GEN_SRC): $(SCHEMA_JSON) Makefile
	@mkdir -p $(@D)
	$(Q){ echo '/* Generated from schemas/ by the Makefile: do not edit. */'; \
	  echo '#include <stddef.h>'; \
	  for f in $(SCHEMA_JSON); do \
	    n=$$(basename $$f .schema.json | tr -c 'a-zA-Z0-9\n' '_'); \
	    echo "extern const char berth_schema_$$n[];"; \
	    echo "extern const size_t berth_schema_$${n}_len;"; \
	    echo "const char berth_schema_$$n[] = {"; \
	    od -An -v -tx1 $$f | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	    echo "0x00 };"; \
	    echo "const size_t berth_schema_$${n}_len = sizeof berth_schema_$$n - 1;"; \
	  done; } > $@.tmp && mv $@.tmp $@

# $(1): flavour. Objects, the library of everything but main, the binary, unit tests, tools.
define flavour
$(1)_OBJS := $$(patsubst %.c,build/$(1)/obj/%.o,$$(SRCS))
$(1)_LIB_OBJS := $$(patsubst %.c,build/$(1)/obj/%.o,$$(LIB_SRCS))
$(1)_BIN_OBJS := $$(patsubst %.c,build/$(1)/obj/%.o,$$(BIN_SRCS))
$(1)_PLUGIN_OBJS := $$(patsubst %.c,build/$(1)/obj/%.o,$$(HEAVY_SRCS) $$(PLUGIN_API_SRC))
$(1)_UNITS := $$(patsubst test/unit/%.c,build/$(1)/test/unit/%,$$(UNIT_SRCS))
$(1)_TOOLS := $$(patsubst test/system/tools/%.c,build/$(1)/test/tools/%,$$(TOOL_SRCS))

build/$(1)/obj/%.o: %.c
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  CC [$(1)] $$<")
	$$(Q)$$(CC_$(1)) $$(CFLAGS_$(1)) $$(PKG_CFLAGS) -MMD -MP -c $$< -o $$@

build/$(1)/libberth.a: $$($(1)_LIB_OBJS)
	@mkdir -p $$(@D)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^

build/$(1)/berth: build/$(1)/obj/orchestrator/main.o $$($(1)_BIN_OBJS) build/$(1)/berth-engine.so \
		build/$(1)/berth-init
	@$$(if $$(Q),echo "  LD [$(1)] $$@")
	$$(Q)$$(CC) $$(CFLAGS_$(1)) $$(LDFLAGS_$(1)) -o $$@ $$(filter %.o,$$^) $$(BIN_LIBS)

# The container init: static (it runs inside any image) and never sanitized (it runs as PID 1
# of a container, where the sanitizers' runtime has nothing to report to).
build/$(1)/berth-init: $$(INIT_SRC)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  LD [$(1)] $$@")
	$$(Q)$$(CC) -std=gnu11 -Os -D_GNU_SOURCE $$(WARN) -static -s -o $$@ $$<

build/$(1)/berth-engine.so: $$($(1)_PLUGIN_OBJS)
	@$$(if $$(Q),echo "  LD [$(1)] $$@")
	$$(Q)$$(CC) $$(CFLAGS_$(1)) $$(LDFLAGS_$(1)) -shared -Wl,-Bsymbolic -o $$@ $$^ $$(HEAVY_LIBS)

build/$(1)/test/unit/%: test/unit/%.c build/$(1)/libberth.a
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  TEST [$(1)] $$@")
	$$(Q)$$(CC) $$(CFLAGS_$(1)) $$(PKG_CFLAGS) $$(LDFLAGS_$(1)) -MMD -MP -o $$@ $$< \
		build/$(1)/libberth.a $$(PKG_LIBS) -lcmocka

build/$(1)/test/tools/%: test/system/tools/%.c build/$(1)/libberth.a
	@mkdir -p $$(@D)
	$$(Q)$$(CC) $$(CFLAGS_$(1)) $$(PKG_CFLAGS) $$(LDFLAGS_$(1)) -MMD -MP -o $$@ $$< \
		build/$(1)/libberth.a $$(PKG_LIBS)

build/$(1)/tests: build/$(1)/berth $$($(1)_UNITS) $$($(1)_TOOLS)
	@touch $$@

-include $$($(1)_OBJS:.o=.d) $$($(1)_UNITS:=.d) $$($(1)_TOOLS:=.d)
endef

$(eval $(call flavour,release))
$(eval $(call flavour,asan))
$(eval $(call flavour,fuzz))

release: build/release/berth
asan: build/asan/berth

# Fuzz harnesses: libFuzzer with ASan/UBSan, linked against the fuzz flavour's library.
FUZZ_BINS := $(patsubst test/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
build/fuzz/fuzz-%: test/fuzz/fuzz-%.c build/fuzz/libberth.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ $@")
	$(Q)$(FUZZ_CC) $(CFLAGS_fuzz) $(LDFLAGS_fuzz) $(PKG_CFLAGS) -o $@ $< build/fuzz/libberth.a \
		$(PKG_LIBS)
fuzz: $(FUZZ_BINS)

BENCH_BINS := $(patsubst test/bench/%.c,build/bench/%,$(BENCH_SRCS))
build/bench/%: test/bench/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_release) -o $@ $<

# Install what is missing, quietly; nothing when all is there.
define apt_install
	@missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || \
			missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq >/dev/null && \
		apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
endef

deps:
	$(call apt_install,$(DEB_BUILD) $(DEB_TEST))

bench-deps: deps
	$(call apt_install,$(DEB_BENCH))

# The README's test command. Unit tests, fuzz smoke runs and system tests, on the release build
# and again on the ASan/UBSan build; one summary line at the end.
test: deps
	$(Q)$(MAKE) --no-print-directory build/release/tests build/asan/tests fuzz
	$(Q)test/run-tests.sh release asan

test-release: deps
	$(Q)$(MAKE) --no-print-directory build/release/tests fuzz
	$(Q)test/run-tests.sh release

test-asan: deps
	$(Q)$(MAKE) --no-print-directory build/asan/tests
	$(Q)test/run-tests.sh asan

bench: bench-deps
	$(Q)$(MAKE) --no-print-directory build/release/berth build/release/test/tools/unpack-layer \
		$(BENCH_BINS)
	$(Q)test/bench/run.sh build/release/berth

demo: deps
	$(Q)$(MAKE) --no-print-directory build/release/berth
	$(Q)build/release/berth system info

LINT_BANNED := '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok|system|popen|signal)\s*\(|[^_]\bdup\s*\('
LINT_SRCS = $(filter-out $(GEN_SRC),$(SRCS))
lint:
	$(Q)clang-format --dry-run -Werror $(LINT_SRCS) $(wildcard */*.h */*/*.h) $(UNIT_SRCS) \
		$(TOOL_SRCS) $(FUZZ_SRCS) $(BENCH_SRCS)
	$(Q)! grep -nE $(LINT_BANNED) $(LINT_SRCS) || { echo "lint: banned call (see STYLE.md 8)"; exit 1; }
	$(Q)test/lint-includes.sh
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--suppress=missingIncludeSystem -I. -D_GNU_SOURCE $(LINT_SRCS)

install: build/release/berth
	install -D -m 0755 build/release/berth $(DESTDIR)$(PREFIX)/bin/berth
	install -D -m 0644 build/release/berth-engine.so $(DESTDIR)$(PREFIX)/lib/berth/berth-engine.so
	install -D -m 0755 build/release/berth-init $(DESTDIR)$(PREFIX)/lib/berth/berth-init
	install -D -m 0644 orchestrator/berth.service $(DESTDIR)$(PREFIX)/lib/systemd/system/berth.service
	sed -i 's|@BINDIR@|$(PREFIX)/bin|' $(DESTDIR)$(PREFIX)/lib/systemd/system/berth.service

clean:
	rm -rf build
