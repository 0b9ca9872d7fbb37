# sluice: `make demo`, `make test`, `make bench`. Each first installs any
# missing Debian package (scripts/install-deps.sh), then configures and builds.
BUILD ?= build
MESON_OPTS ?=
ifeq ($(CI),true)
MESON_OPTS += --werror
endif

.PHONY: all deps build test demo bench clean asan

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) $(MESON_OPTS)
	ninja -C $(BUILD)

test: build
	@set +e; meson test -C $(BUILD) --print-errorlogs --num-processes 2 > $(BUILD)/test-output.txt 2>&1; \
	cat $(BUILD)/test-output.txt; ./scripts/test-summary.sh $(BUILD)/test-output.txt

demo: build
	./scripts/demo.sh $(BUILD)

bench: build
	./scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD)
