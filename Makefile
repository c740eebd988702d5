# onmitsu — build, test, install. `make help` lists the targets.
CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    := build
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' -e 's/s390x/s390/' -e 's/riscv64/riscv/')
VERSION  := $(shell cat VERSION)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes -Wno-unused-parameter
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -D_GNU_SOURCE -DONMITSU_VERSION='"$(VERSION)"' \
            -Iinclude -Isrc -I$(BUILD)
LDLIBS   := -lbpf -lelf -lz -lzstd -lpcap -lcrypto -lpthread -lm
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

APP_SRCS := src/main.c src/record/loader.c src/record/loader_filter.c src/record/recorder.c
# Everything but the loader and main builds and is tested without libbpf or root.
LIB_SRCS := $(sort $(filter-out $(APP_SRCS),$(shell find src -name '*.c')))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
APP_OBJS := $(APP_SRCS:%.c=$(BUILD)/%.o)
TEST_SRCS := $(sort $(wildcard tests/unit/*.c))
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)
ASAN_OBJS := $(LIB_SRCS:%.c=$(BUILD)/asan/%.o) $(TEST_SRCS:%.c=$(BUILD)/asan/%.o)
BPF_SRCS := $(sort $(wildcard bpf/*.bpf.c))
BPF_OBJS := $(BPF_SRCS:bpf/%.c=$(BUILD)/bpf/%.o)
E2E_PROGS := $(patsubst tests/e2e/progs/%.c,$(BUILD)/e2e/%,$(wildcard tests/e2e/progs/*.c))
BENCH_PROGS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

.PHONY: all test test-unit test-asan test-e2e bench install deb clean help format format-check setup record \
	fuzz fuzz-build fuzz-seeds
all: $(BUILD)/onmitsu $(E2E_PROGS) $(BENCH_PROGS)

help:
	@echo "make            build build/onmitsu (needs clang, bpftool, libbpf-dev; see README)"
	@echo "make record     install what is missing, build, record (root; LOG_DIR=...)"
	@echo "make test       all tests: unit, unit under ASan/UBSan, end-to-end (root)"
	@echo "make test-unit  unit tests only (no root)"
	@echo "make bench      benchmarks (root), see bench/README.md"
	@echo "make fuzz       each libFuzzer harness for FUZZ_SECONDS (300) s, see tests/fuzz/README.md"
	@echo "make install    install to \$$(DESTDIR)\$$(PREFIX) and the systemd unit"
	@echo "make deb        the Debian package, build/deb/onmitsu_VERSION_ARCH.deb (debian/)"

$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) include/onmitsu/event.h $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
		-Iinclude -Ibpf -I$(BUILD) -c $< -o $@

$(BUILD)/onmitsu.bpf.o: $(BPF_OBJS)
	$(BPFTOOL) gen object $@ $^

$(BUILD)/onmitsu.skel.h: $(BUILD)/onmitsu.bpf.o
	$(BPFTOOL) gen skeleton $< name onmitsu_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/src/record/loader.o: $(BUILD)/onmitsu.skel.h

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/onmitsu: $(APP_OBJS) $(LIB_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit-tests: $(TEST_OBJS) $(LIB_OBJS)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $^ $(LDLIBS)

$(BUILD)/asan/unit-tests: $(ASAN_OBJS)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/e2e/%: tests/e2e/progs/%.c $(wildcard tests/e2e/progs/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -lpthread

$(BUILD)/bench/%: bench/%.c $(wildcard bench/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -lpthread

# libFuzzer harnesses (tests/fuzz/README.md): the library once more, with
# clang's fuzzer instrumentation and ASan/UBSan; one program per parser.
FUZZ_CC    ?= clang
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/fuzz/%.o)
FUZZ_SECONDS ?= 300

$(BUILD)/fuzz/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer -o $@ $< $(FUZZ_OBJS) $(LDLIBS)

$(BUILD)/fuzz/seeds: tests/fuzz/seeds.c $(wildcard tests/fuzz/*.h) $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

# Regenerate the seed corpora made by program (tests/fuzz/seeds.c).
fuzz-seeds: $(BUILD)/fuzz/seeds
	$(BUILD)/fuzz/seeds tests/fuzz/corpus

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run

test-unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

test-asan: $(BUILD)/asan/unit-tests
	$(BUILD)/asan/unit-tests

# The README's two commands: each installs what is missing first.
setup:
	scripts/setup

test: setup
	$(MAKE) all $(BUILD)/unit-tests $(BUILD)/asan/unit-tests fuzz-build
	tests/run

record: setup
	$(MAKE) all
	$(BUILD)/onmitsu record --log-dir $(or $(LOG_DIR),/var/log/onmitsu)

bench: setup
	$(MAKE) all
	bench/run

# The documentation keeps the tree's layout (README.md beside docs/ and bench/),
# so that every relative link in it points to an installed file
# (tests/docs_check.py checks it).
DOCDIR  ?= $(PREFIX)/share/doc/onmitsu
MANDIR  ?= $(PREFIX)/share/man
UNITDIR ?= /etc/systemd/system
DOCS    := README.md HACKING.md LICENSE $(sort $(wildcard docs/*.md)) bench/README.md \
           $(sort $(wildcard bench/results/*.md bench/results/*.json))

install: $(BUILD)/onmitsu
	install -D -m 0755 $(BUILD)/onmitsu $(DESTDIR)$(PREFIX)/bin/onmitsu
	install -D -m 0644 docs/onmitsu.8 $(DESTDIR)$(MANDIR)/man8/onmitsu.8
	for f in $(DOCS); do install -D -m 0644 $$f $(DESTDIR)$(DOCDIR)/$$f || exit 1; done
	# the example configuration (it changes nothing); an existing one is kept
	[ -e $(DESTDIR)/etc/onmitsu/onmitsu.conf ] || \
		install -D -m 0644 etc/onmitsu.conf $(DESTDIR)/etc/onmitsu/onmitsu.conf
	sed 's|@BINDIR@|$(PREFIX)/bin|g' packaging/onmitsu.service.in > $(BUILD)/onmitsu.service
	install -D -m 0644 $(BUILD)/onmitsu.service $(DESTDIR)$(UNITDIR)/onmitsu.service

# The Debian package (debian/, scripts/deb): dpkg-buildpackage on a copy of the tree.
deb:
	scripts/deb

format:
	clang-format -i $(shell find src include bpf tests bench -name '*.[ch]')

format-check:
	tests/format-check

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
