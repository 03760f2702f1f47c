# EduGate — build, test, demo and bench entry points.
#
#   make            build build/ngx_http_edugate_module.so
#   make demo       install what is missing, build, run the demo on :8080
#   make test       install what is missing, build, run every test
#   make bench      wrk benchmark (not a pass/fail test)

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

.PHONY: all module asan deps deps-demo unit integration integration-asan test \
        demo bench clean

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

deps-demo:
	tests/tools/install-deps.sh --no-npm

$(BUILD)/unit/%: tests/unit/%.c $(EG_SRCS) $(wildcard ngx_module/eg_*.h)
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(EG_SRCS) $(UNIT_LIBS)

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

integration: $(MODULE)
	EDUGATE_MODULE=$(CURDIR)/$(MODULE) $(PYTEST) tests/integration

integration-asan: $(MODULE_ASAN)
	EDUGATE_MODULE=$(CURDIR)/$(MODULE_ASAN) EDUGATE_ASAN=1 \
	    $(PYTEST) tests/integration

test: deps
	$(MAKE) unit
	$(MAKE) integration
	$(MAKE) integration-asan

demo: deps-demo
	$(MAKE) module
	$(PYTHON) tests/harness/demo.py --module $(CURDIR)/$(MODULE)

bench: deps
	$(MAKE) module
	$(PYTHON) tests/bench/bench.py --module $(CURDIR)/$(MODULE)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
