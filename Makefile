# kiln — GNU Makefile. `make help` lists the targets.
#
#   make            build build/kiln
#   make test       run every test through prove (unit + e2e)
#   make test SAN=1 the same under ASan+UBSan (build/san/)
#   make demo       run the examples/ demos: kiln run's pipeline, remote actions,
#                   containers, the server (webhook -> CI -> staging -> approval
#                   -> production -> DORA), then leave the web UI demo running
#   make bench      run the benchmarks in bench/
#   make fuzz       build and run the libFuzzer targets (clang)
#   make deps       install every Debian package the build and tests need
#
# DEVELOPER=1 (the default here, and in CI) turns warnings into errors;
# pass DEVELOPER=0 on a compiler we have not tried.

DEVELOPER ?= 1
SAN ?=
V ?=

# Debian packages the build, the tests, the demo and the benches need.
DEB_PKGS = build-essential pkg-config git clang llvm libclang-rt-14-dev \
	libyaml-dev libuv1-dev libjansson-dev libsqlite3-dev libsodium-dev libpcre2-dev \
	libgit2-dev libssh2-1-dev libhttp-parser-dev libmbedtls-dev libarchive-dev libzstd-dev libcurl4-openssl-dev libcmocka-dev \
	perl python3 rsync zstd ninja-build haproxy wrk hyperfine curl \
	libh2o-dev libssl-dev prometheus libcmark-gfm-dev libcmark-gfm-extensions-dev chromium \
	podman runc netavark aardvark-dns slirp4netns containernetworking-plugins catatonit \
	mmdebstrap docker-registry bubblewrap postgresql-client redis-tools \
	buildbot buildbot-worker \
	libpq-dev postgresql

PKGS = yaml-0.1 libuv jansson sqlite3 libsodium libzstd libpcre2-8
# libgit2 linked statically with its mbedTLS and http-parser: the shared
# libgit2 needs libssh2 (with OpenSSL's libcrypto) and GSSAPI (with
# Kerberos), 15 shared objects mapped and relocated at every start (~1.5 ms
# of CPU); src/git/netlibs.c loads those two with dlopen when a transport
# first needs them.
# GIT_GLUE (not in libkiln.a: linked as objects into every binary) defines
# the libssh2 and GSSAPI functions and the wrapped mbedTLS one that
# libgit2.a calls. The wraps defer the CA bundle's parse and the TLS random
# generator's seeding (src/git/gitlib.c).
GIT2_LIBS = -Wl,-Bstatic -lgit2 -lmbedtls -lmbedx509 -lmbedcrypto -lhttp_parser -Wl,-Bdynamic \
	-lrt -Wl,--wrap=mbedtls_x509_crt_parse_file -Wl,--wrap=mbedtls_entropy_init \
	-Wl,--wrap=mbedtls_entropy_free -Wl,--wrap=mbedtls_ctr_drbg_seed
# loaded with dlopen where they are used (headers only here): libcurl by
# src/deploy/webhook.c, libarchive by src/cas/libarchive.c, libpq by
# src/store/libpq.c, libh2o (with OpenSSL's headers) by src/server/h2o_dl.c,
# cmark-gfm by src/ui/markdown.c
DL_PKGS = libcurl libarchive libpq libh2o openssl libcmark-gfm

ifeq ($(SAN),1)
BUILD = build/san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT = -O1
else
BUILD = build
SANFLAGS =
OPT = -O2
endif

CC ?= cc
WARN = -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes -Wvla
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif
CPPFLAGS += -Isrc -D_GNU_SOURCE -MMD -MP
CFLAGS ?= -g $(OPT)
CFLAGS += -std=c11 $(WARN) $(SANFLAGS) $(shell pkg-config --cflags $(PKGS) libgit2 $(DL_PKGS) 2>/dev/null)
LDFLAGS += $(SANFLAGS)
LDLIBS += $(GIT2_LIBS) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lz -lm

ifeq ($(V),)
Q = @
quiet = @printf '  %-7s %s\n' $(1) $(2);
else
Q =
quiet =
endif

GIT_GLUE_SRC = src/git/gitlib.c src/git/netlibs.c
LIB_SRC = $(filter-out src/cli/% $(GIT_GLUE_SRC),$(wildcard src/*/*.c))
CLI_SRC = $(wildcard src/cli/*.c)
LIB_OBJ = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC)) $(BUILD)/obj/gen/ui_assets.o
# the web UI's files (web/) compiled into the binary by a committed generator
WEB_FILES = $(sort $(wildcard web/*.css web/*.js web/*.html web/*.svg))
CLI_OBJ = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(CLI_SRC))
GIT_GLUE = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(GIT_GLUE_SRC))
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# suites that need PostgreSQL and run only in test-pg (PG_E2E)
PG_ONLY_E2E = tests/e2e/t5232-serve-replica-failover.sh
E2E = $(filter-out $(PG_ONLY_E2E),$(sort $(wildcard tests/e2e/t[0-9]*.sh)))

.PHONY: all test test-pg unit e2e demo demo-ui demo-deploy bench fuzz deps clean help check-deps
.DEFAULT_GOAL := all

all: $(BUILD)/kiln

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/ui_assets.c: src/ui/embed.pl $(WEB_FILES)
	@mkdir -p $(dir $@)
	$(call quiet,GEN,$@)perl src/ui/embed.pl $@ $(WEB_FILES)

$(BUILD)/obj/gen/ui_assets.o: $(BUILD)/gen/ui_assets.c
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libkiln.a: $(LIB_OBJ)
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

$(BUILD)/kiln: $(CLI_OBJ) $(GIT_GLUE) $(BUILD)/libkiln.a
	$(call quiet,LINK,$@)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(GIT_GLUE) $(BUILD)/libkiln.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(GIT_GLUE) $(BUILD)/libkiln.a
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/unit -o $@ $< $(GIT_GLUE) $(BUILD)/libkiln.a $(LDFLAGS) $(LDLIBS) -lcmocka

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

# every test through prove (TAP): unit binaries and e2e scripts; then the
# store's unit tests and the server suites on PostgreSQL (test-pg)
PROVE_JOBS ?= 2
test: deps all $(UNIT_BIN)
	$(Q)KILN_BUILD=$(abspath $(BUILD)) KILN_SAN=$(SAN) CMOCKA_MESSAGE_OUTPUT=TAP \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	prove -j$(PROVE_JOBS) --timer --exec tests/run-one $(UNIT_BIN) $(E2E) $(EXTRA_TESTS)
	$(Q)$(MAKE) --no-print-directory test-pg

# The same tests on the PostgreSQL store (KILN_TEST_DB=pg: each script
# starts its own server, tests/lib-pg.sh). Twice-run: the store's unit
# tests (both builds) and the server suites below (the gcc build; under
# SAN=1 the PostgreSQL code runs through test_store and t5230, which
# always use PostgreSQL). t5602: agents drain 250-job runs (1, 2, 4 agents);
# t5603: an agent killed mid-job, a stale agent, cancel, --agent-retry 0;
# t5607: download-artifact on one agent of what another agent uploaded;
# t5608: a cache saved on one agent restored on another (per repository);
# t5232 (PostgreSQL only): two replicas behind HAProxy, agents through it,
# kill -9 of a replica and a PostgreSQL restart mid-run; t6203: kiln serve
# running the GitOps controller (its apps API, sync audited in the store).
# Not here: t5215/t5216 read the SQLite file directly (sqlite3 module),
# t5219 removes an artifact's file to see a 500 (PostgreSQL serves it from
# the store's blobs), the UI suites (the same API underneath).
PG_E2E = tests/e2e/t5201-serve-webhooks.sh tests/e2e/t5202-serve-poll.sh \
	tests/e2e/t5203-serve-runs.sh tests/e2e/t5204-serve-metrics.sh \
	tests/e2e/t5205-serve-events-api.sh tests/e2e/t5206-serve-status.sh \
	tests/e2e/t5207-serve-schedule.sh tests/e2e/t5208-serve-live-logs.sh \
	tests/e2e/t5209-serve-environments.sh tests/e2e/t5210-serve-config.sh \
	tests/e2e/t5211-serve-artifacts.sh tests/e2e/t5212-serve-run-links.sh \
	tests/e2e/t5213-serve-isolate.sh tests/e2e/t5214-serve-dispatch-inputs.sh \
	tests/e2e/t5217-serve-rerun-failed.sh tests/e2e/t5218-serve-rerun-job.sh \
	tests/e2e/t5220-serve-cache-scope.sh tests/e2e/t5301-dora.sh tests/e2e/t5302-notify.sh \
	tests/e2e/t5601-agent-basic.sh tests/e2e/t5604-agent-auth-labels-secrets.sh \
	tests/e2e/t5605-agent-artifacts.sh \
	tests/e2e/t5303-serve-access.sh tests/e2e/t5304-serve-cli.sh \
	tests/e2e/t5305-deploy-gate.sh tests/e2e/t5306-serve-runs-cli.sh \
	tests/e2e/t5602-agent-drain.sh tests/e2e/t5603-agent-failures.sh \
	tests/e2e/t5607-agent-artifact-download.sh tests/e2e/t5608-agent-cache.sh \
	tests/e2e/t6203-gitops-serve.sh $(PG_ONLY_E2E)
test-pg: all $(BUILD)/tests/test_store
	$(Q)KILN_BUILD=$(abspath $(BUILD)) CMOCKA_MESSAGE_OUTPUT=TAP \
	tests/with-pg prove --exec tests/run-one $(BUILD)/tests/test_store
ifneq ($(SAN),1)
	$(Q)KILN_BUILD=$(abspath $(BUILD)) KILN_TEST_DB=pg KILN_AGENT_TEST_JOBS=250 \
	prove -j$(PROVE_JOBS) --timer --exec tests/run-one $(PG_E2E)
endif

# run a subset: make e2e T=tests/e2e/t1*.sh
unit: all $(UNIT_BIN)
	$(Q)CMOCKA_MESSAGE_OUTPUT=TAP KILN_BUILD=$(abspath $(BUILD)) prove --exec tests/run-one $(UNIT_BIN)
e2e: all
	$(Q)KILN_BUILD=$(abspath $(BUILD)) KILN_SAN=$(SAN) prove -j$(PROVE_JOBS) --exec tests/run-one $(or $(T),$(E2E))

demo: deps all
	$(Q)./examples/demo.sh $(abspath $(BUILD))/kiln
	$(Q)./examples/remote-demo.sh $(abspath $(BUILD))/kiln
	$(Q)./examples/containers-demo.sh $(abspath $(BUILD))/kiln
	$(Q)./examples/deploy/gitops-demo.sh $(abspath $(BUILD))/kiln
	$(Q)./examples/serve-demo.sh $(abspath $(BUILD))/kiln
	$(Q)./examples/ui-demo.sh $(abspath $(BUILD))/kiln

# a running kiln serve whose web UI pages are filled (prints the URL)
demo-ui: deps all
	$(Q)./examples/ui-demo.sh $(abspath $(BUILD))/kiln

# a canary rolled back automatically, then a blue-green that succeeds; then
# seed 003's GitOps flow (CI builds an image, bumps its tag in a config
# repository, the controller syncs it, a git revert rolls it back)
demo-deploy: deps all
	$(Q)./examples/deploy/demo.sh $(abspath $(BUILD))/kiln
	$(Q)./examples/deploy/gitops-demo.sh $(abspath $(BUILD))/kiln

bench: deps all
	$(Q)for b in bench/*.sh; do echo "== $$b"; KILN=$(abspath $(BUILD))/kiln bash $$b || exit 1; done

fuzz:
	$(Q)$(MAKE) -f fuzz/Makefile BUILD=build/fuzz

# idempotent: installs only what is missing
deps:
	$(Q)missing=$$(for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	command -v node >/dev/null && command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

clean:
	rm -rf build

help:
	@sed -n '1,/^$$/p' Makefile | sed 's/^# \{0,1\}//'
