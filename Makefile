# EduGate — build, test, demo and bench entry points.
#
#   make            build the module, the plugins of plugins/ and
#                   edugate-plugin-check (all in build/)
#   make demo       install what is missing, build, run the demo on :8080
#   make test       install what is missing, build, run every test
#   make bench      wrk benchmark (not a pass/fail test)
#   make schemas    generate the data standard's big code tables
#   make std-json   JSON Schema of the data standard, from its XSDs
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (20)
#   make plugin-sdk install edugate_plugin.h and edugate-plugin.pc
#                   (PREFIX=/usr/local, DESTDIR= for packaging)

NGINX_SRC ?= /usr/share/nginx/src
PYTHON    ?= /usr/bin/python3
CC        ?= cc
PREFIX    ?= /usr/local

BUILD      = build
BUILD_ASAN = build-asan
MODULE     = $(BUILD)/ngx_http_edugate_module.so
MODULE_ASAN = $(BUILD_ASAN)/ngx_http_edugate_module.so

SRCS = config $(wildcard ngx_module/*.c ngx_module/*.h) \
       plugins/include/edugate_plugin.h

ASAN_CFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined -O1
ASAN_LDFLAGS = -fsanitize=address,undefined

EG_SRCS = $(wildcard ngx_module/eg_*.c)
UNIT_TESTS = $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
UNIT_CFLAGS = -std=c99 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 \
              -fsanitize=address,undefined -fno-sanitize-recover=undefined \
              -Ingx_module -Iplugins/include -I/usr/include/libxml2
UNIT_LIBS = -lcmocka -ljansson -lldap -llber -lcrypto -lxml2 -ljwt

PYTEST = $(PYTHON) -m pytest -q -p no:cacheprovider

# Plugins: each plugins/<name>/<name>.c (with its code tables in
# <name>.csv) becomes build/plugins/<name>.so, built as a vendor builds
# one: only the ABI header, hidden symbols, no library.
PLUGINS = $(foreach d,$(sort $(dir $(wildcard plugins/*/*.c))), \
            $(if $(wildcard $(d)$(notdir $(d:/=)).c),$(notdir $(d:/=))))
PLUGIN_SOS = $(patsubst %,$(BUILD)/plugins/%.so,$(PLUGINS))
PLUGIN_CFLAGS = -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
                -O2 -fPIC -fvisibility=hidden -Iplugins/include
PLUGIN_LDFLAGS = -shared -Wl,-z,now -Wl,-z,relro

FUZZ_CC      ?= clang
FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_OBJS    = $(patsubst ngx_module/%.c,$(BUILD)/fuzz/obj/%.o,$(EG_SRCS))
FUZZ_CFLAGS  = -g -O1 -fsanitize=address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer \
               -Ingx_module -Iplugins/include -I/usr/include/libxml2
FUZZ_LIBS    = -ljansson -lldap -llber -lcrypto -lxml2 -ljwt

# Generated code tables of the data standard (schemas/README.md).
STD_NPM    = $(BUILD)/std/npm
STD_CODES  = $(BUILD)/std/codes
STD_TABLES = $(STD_CODES)/xzqh.csv $(STD_CODES)/gjdq.csv
STD_JSON   = $(BUILD)/std/json/batch.schema.json
XSD_BENCH  = $(BUILD)/bench/std_xsd_bench


# Test-only plugins (tests/plugins/test_plugin.c, one per variant) and
# a plugin that breaks the checker's rules on exports and libraries.
TEST_PLUGINS = good slow crash badout badrecord abi_major abi_minor size \
               host_size null_name init_fail no_entry
TEST_PLUGIN_SOS = $(patsubst %,$(BUILD)/test-plugins/%.so,$(TEST_PLUGINS)) \
                  $(BUILD)/test-plugins/exports.so

CHECK = $(BUILD)/edugate-plugin-check
CHECK_ASAN = $(BUILD_ASAN)/edugate-plugin-check
CHECK_SRCS = $(wildcard plugins/checker/*.c) ngx_module/eg_plugin.c \
             ngx_module/eg_host.c ngx_module/eg_tree.c ngx_module/eg_record.c \
             ngx_module/eg_codemap.c ngx_module/eg_codec.c ngx_module/eg_text.c \
             ngx_module/eg_url.c
CHECK_DEPS = $(CHECK_SRCS) $(wildcard plugins/checker/*.h ngx_module/eg_*.h) \
             plugins/include/edugate_plugin.h
CHECK_CFLAGS = -std=c99 -D_GNU_SOURCE -Wall -Wextra -Werror -g \
               -Ingx_module -Iplugins/include -Iplugins/checker \
               -I/usr/include/libxml2
CHECK_LIBS = -ljansson -lxml2 -lcrypto
FUZZ_SECONDS ?= 20
CHECK_FUZZ_SECONDS ?= 3

.PHONY: all module asan deps deps-demo unit integration integration-asan \
        test demo bench clean plugins test-plugins plugin-check plugin-sdk \
        schemas schema-test fuzz std-json

all: module plugins $(CHECK)

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

$(BUILD)/unit/%: tests/unit/%.c $(EG_SRCS) $(wildcard ngx_module/eg_*.h) \
                 $(wildcard tests/unit/*.h) plugins/include/edugate_plugin.h
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

# the nginx-free code once, instrumented for libFuzzer, for every target
$(BUILD)/fuzz/obj/%.o: ngx_module/%.c $(wildcard ngx_module/eg_*.h) \
                       plugins/include/edugate_plugin.h
	@command -v $(FUZZ_CC) >/dev/null || \
	    { echo "make fuzz needs clang: make deps installs it"; exit 1; }
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(BUILD)/fuzz/libeg.a: $(FUZZ_OBJS)
	rm -f $@
	ar rcs $@ $(FUZZ_OBJS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzz/libeg.a \
                 $(wildcard tests/fuzz/*.h)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(BUILD)/fuzz/libeg.a $(FUZZ_LIBS)

# FUZZ_SECONDS per target; a crash, leak or hang fails the build and
# leaves its reproducer in build/fuzz/<target>.crashes/ (README: Fuzzing)
fuzz: $(FUZZ_TARGETS) $(STD_TABLES)
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/tools/run-fuzz.sh $(FUZZ_TARGETS)

plugins: $(PLUGIN_SOS)

define plugin_rule
$(BUILD)/plugins/$(1).so: plugins/$(1)/$(1).c plugins/include/edugate_plugin.h \
                          $(wildcard plugins/$(1)/$(1).csv)
	@mkdir -p $$(@D)
	$$(CC) $$(PLUGIN_CFLAGS) $$(PLUGIN_LDFLAGS) -o $$@ plugins/$(1)/$(1).c
	@rm -f $(BUILD)/plugins/$(1).csv
	@if [ -f plugins/$(1)/$(1).csv ]; then \
	    cp plugins/$(1)/$(1).csv $(BUILD)/plugins/$(1).csv; fi
endef
$(foreach p,$(PLUGINS),$(eval $(call plugin_rule,$(p))))

test-plugins: $(TEST_PLUGIN_SOS)

$(BUILD)/test-plugins/%.so: tests/plugins/test_plugin.c \
                            plugins/include/edugate_plugin.h
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) $(PLUGIN_LDFLAGS) \
	    -DTP_$(shell echo $* | tr a-z A-Z) -o $@ $<

# exports a second symbol and links libm: refused by the checker only
$(BUILD)/test-plugins/exports.so: tests/plugins/test_plugin.c \
                                  plugins/include/edugate_plugin.h
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) $(PLUGIN_LDFLAGS) -DTP_GOOD -DTP_EXPORTS \
	    -o $@ $< -lm

$(CHECK): $(CHECK_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CHECK_CFLAGS) -O2 -o $@ $(CHECK_SRCS) $(CHECK_LIBS)

$(CHECK_ASAN): $(CHECK_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CHECK_CFLAGS) $(ASAN_CFLAGS) -o $@ $(CHECK_SRCS) $(CHECK_LIBS) \
	    $(ASAN_LDFLAGS)

# every plugin of the tree through the checker, under AddressSanitizer
plugin-check: $(CHECK_ASAN) $(PLUGIN_SOS)
	@set -e; for p in $(PLUGINS); do \
	    echo "== $$p"; \
	    ASAN_OPTIONS=detect_leaks=1 $(CHECK_ASAN) --fuzz $(CHECK_FUZZ_SECONDS) \
	        $(BUILD)/plugins/$$p.so plugins/$$p/fixtures; \
	done

# the header and a pkg-config file: all a vendor needs to build a plugin
plugin-sdk:
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 plugins/include/edugate_plugin.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' \
	    -e "s|@VERSION@|$$(sed -n 's/^#define EDUGATE_ABI_MAJOR *//p' \
	        plugins/include/edugate_plugin.h).$$(sed -n \
	        's/^#define EDUGATE_ABI_MINOR *//p' \
	        plugins/include/edugate_plugin.h)|" plugins/edugate-plugin.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/edugate-plugin.pc
	chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/edugate-plugin.pc

integration: $(MODULE) $(PLUGIN_SOS) $(TEST_PLUGIN_SOS) $(CHECK)
	EDUGATE_MODULE=$(CURDIR)/$(MODULE) $(PYTEST) tests/integration

integration-asan: $(MODULE_ASAN) $(PLUGIN_SOS) $(TEST_PLUGIN_SOS) \
                  $(CHECK_ASAN)
	EDUGATE_MODULE=$(CURDIR)/$(MODULE_ASAN) EDUGATE_ASAN=1 \
	    EDUGATE_PLUGIN_CHECK=$(CURDIR)/$(CHECK_ASAN) \
	    $(PYTEST) tests/integration

test: deps
	$(MAKE) unit
	$(MAKE) schema-test
	$(MAKE) plugin-check
	$(MAKE) fuzz
	$(MAKE) integration
	$(MAKE) integration-asan

demo: deps-demo
	$(MAKE) module plugins
	$(PYTHON) tests/harness/demo.py --module $(CURDIR)/$(MODULE)

# the data-standard figures need the plugins, the code tables, the JSON
# Schema of the standard and the libxml2 loop of figure (b)
bench: deps
	$(MAKE) module plugins $(STD_TABLES) $(STD_JSON) $(XSD_BENCH)
	$(PYTHON) tests/bench/bench.py --module $(CURDIR)/$(MODULE)

# JSON Schema of the standard's JSON rendering, made from its XSDs
std-json: $(STD_JSON)

$(STD_JSON): schemas/tools/xsd2jsonschema.py $(wildcard schemas/std/v1/*.xsd)
	@mkdir -p $(@D)
	$(PYTHON) schemas/tools/xsd2jsonschema.py schemas/std/v1/batch.xsd \
	    > $@.tmp
	mv $@.tmp $@

$(XSD_BENCH): tests/bench/std_xsd_bench.c
	@mkdir -p $(@D)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 \
	    -I/usr/include/libxml2 -o $@ $< -lxml2

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
