# EduGate — build, test, demo and bench entry points.
#
#   make            build build/ngx_http_edugate_module.so
#   make demo       install what is missing, build, run the demo on :8080
#   make test       install what is missing, build, run every test
#   make bench      wrk benchmark (not a pass/fail test)
#   make schemas    generate the data standard's big code tables
#   make fuzz       run each libFuzzer target briefly (needs clang)

NGINX_SRC ?= /usr/share/nginx/src
PYTHON    ?= /usr/bin/python3
CC        ?= cc

BUILD      = build
BUILD_ASAN = build-asan
MODULE     = $(BUILD)/ngx_http_edugate_module.so
MODULE_ASAN = $(BUILD_ASAN)/ngx_http_edugate_module.so

SRCS = config $(wildcard ngx_module/*.c ngx_module/*.h)

ASAN_CFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined -O1
ASAN_LDFLAGS = -fsanitize=address,undefined

EG_SRCS = $(wildcard ngx_module/eg_*.c)
UNIT_TESTS = $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
UNIT_CFLAGS = -std=c99 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 \
              -fsanitize=address,undefined -fno-sanitize-recover=undefined \
              -Ingx_module -I/usr/include/libxml2
UNIT_LIBS = -lcmocka -ljansson -lldap -llber -lcrypto -lxml2 -ljwt

PYTEST = $(PYTHON) -m pytest -q -p no:cacheprovider

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

# Generated code tables of the data standard (schemas/README.md).
STD_NPM    = $(BUILD)/std/npm
STD_CODES  = $(BUILD)/std/codes
STD_TABLES = $(STD_CODES)/xzqh.csv $(STD_CODES)/gjdq.csv

.PHONY: all module asan deps unit integration integration-asan test \
        demo bench clean schemas schema-test fuzz

all: module

module: $(MODULE)

$(MODULE): $(SRCS)
	tests/tools/build-module.sh $(NGINX_SRC) $(BUILD)

asan: $(MODULE_ASAN)

$(MODULE_ASAN): $(SRCS)
	tests/tools/build-module.sh $(NGINX_SRC) $(BUILD_ASAN) \
	    "$(ASAN_CFLAGS)" "$(ASAN_LDFLAGS)"

deps:
	tests/tools/install-deps.sh

$(BUILD)/unit/%: tests/unit/%.c $(EG_SRCS) $(wildcard ngx_module/eg_*.h) \
                 $(wildcard tests/unit/*.h)
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(EG_SRCS) $(UNIT_LIBS)

schemas: $(STD_TABLES)

$(STD_NPM)/.installed: schemas/tools/package.json schemas/tools/package-lock.json
	@mkdir -p $(STD_NPM)
	cp schemas/tools/package.json schemas/tools/package-lock.json $(STD_NPM)/
	cd $(STD_NPM) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

$(STD_CODES)/xzqh.csv: schemas/tools/gen-divisions.js $(STD_NPM)/.installed
	@mkdir -p $(STD_CODES)
	node schemas/tools/gen-divisions.js $(STD_NPM)/node_modules > $@.tmp
	mv $@.tmp $@

$(STD_CODES)/gjdq.csv: schemas/tools/gen-countries.py
	@mkdir -p $(STD_CODES)
	$(PYTHON) schemas/tools/gen-countries.py > $@.tmp
	mv $@.tmp $@

schema-test: $(STD_TABLES)
	tests/tools/check-std-schemas.sh

unit: $(UNIT_TESTS) $(STD_TABLES)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

$(BUILD)/fuzz/%: tests/fuzz/%.c $(EG_SRCS) $(wildcard ngx_module/eg_*.h)
	@command -v $(FUZZ_CC) >/dev/null || \
	    { echo "make fuzz needs clang: apt-get install clang"; exit 1; }
	@mkdir -p $(BUILD)/fuzz
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined \
	    -Ingx_module -I/usr/include/libxml2 -o $@ $< $(EG_SRCS) \
	    -ljansson -lldap -llber -lcrypto -lxml2 -ljwt

# new inputs go to build/fuzz/corpus-*, the fixtures are the seeds
fuzz: $(FUZZ_TARGETS) $(STD_TABLES)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $$t.corpus; echo "== $$t"; \
	    $$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	        $$t.corpus tests/fixtures/std tests/fixtures/std/invalid; \
	done

integration: $(MODULE)
	EDUGATE_MODULE=$(CURDIR)/$(MODULE) $(PYTEST) tests/integration

integration-asan: $(MODULE_ASAN)
	EDUGATE_MODULE=$(CURDIR)/$(MODULE_ASAN) EDUGATE_ASAN=1 \
	    $(PYTEST) tests/integration

test: deps
	$(MAKE) unit
	$(MAKE) schema-test
	$(MAKE) integration
	$(MAKE) integration-asan

demo: deps
	$(MAKE) module
	$(PYTHON) tests/harness/demo.py --module $(CURDIR)/$(MODULE)

bench: deps
	$(MAKE) module
	$(PYTHON) tests/bench/bench.py --module $(CURDIR)/$(MODULE)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
