# sluice: `make demo`, `make test`, `make bench`. Each first installs any
# missing Debian package (scripts/install-deps.sh), then configures and builds.
#
# make test runs every suite in the main build (gcc), then the vm, maps and
# fuzz suites (libFuzzer over loader+verifier, config parser, preload files,
# the libraries instrumented) in a clang ASan+UBSan build
# ($(ASAN_BUILD)), then the maps suite under ThreadSanitizer
# (maps/tests/sanitize.sh, build-maps-tsan), and closes with one line
# "N passed, M failed" summing meson's counts of all three.
BUILD ?= build
ASAN_BUILD ?= build-asan
MESON_OPTS ?=
ifeq ($(CI),true)
MESON_OPTS += --werror
endif

.PHONY: all deps build asan-build test test-main test-asan test-tsan demo bench clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) $(MESON_OPTS)
	ninja -C $(BUILD)

asan-build: deps
	@[ -f $(ASAN_BUILD)/build.ninja ] || CC=clang meson setup $(ASAN_BUILD) $(MESON_OPTS) \
		-Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C $(ASAN_BUILD)

test-main: build
	@set +e; meson test -C $(BUILD) --print-errorlogs --num-processes 2 \
		> $(BUILD)/test-output.txt 2>&1; cat $(BUILD)/test-output.txt

test-asan: asan-build
	@set +e; UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN_BUILD) --suite vm --suite maps --suite fuzz --suite ctl --print-errorlogs --num-processes 2 \
		> $(ASAN_BUILD)/test-output.txt 2>&1; cat $(ASAN_BUILD)/test-output.txt

test-tsan: build
	@set +e; ./maps/tests/sanitize.sh tsan > $(BUILD)/tsan-output.txt 2>&1; \
		cat $(BUILD)/tsan-output.txt

test: test-main test-asan test-tsan
	@./scripts/test-summary.sh $(BUILD)/test-output.txt $(ASAN_BUILD)/test-output.txt \
		$(BUILD)/tsan-output.txt

demo: build
	./scripts/demo.sh $(BUILD)

bench: build
	./scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-maps-tsan build-maps-asan
