# dma-rw: a patch series for QEMU 10.2.2 (see README.md).
# Every target sets up what it needs; everything generated lives in build/.

SHELL := /bin/bash
TOP := $(CURDIR)
B := $(TOP)/build
PATCHES := $(TOP)/patches
QEMU_TREE := $(B)/qemu
STOCK_TREE := $(B)/stock
QEMU_BUILD := $(QEMU_TREE)/build
STOCK_BUILD := $(STOCK_TREE)/build
FW := $(B)/espfw.bin $(B)/lancefw.bin
CROSS ?= sparc64-linux-gnu-

MACHINE ?= SS-5
QEMU_ARGS ?=
BENCH_ARGS ?=

.PHONY: help deps base tree series series-check series-bisect build stock guest guest64 \
        fw run check checkpatch qtests bench sanitize clean distclean

help:
	@echo "make run          boot the demo guest on the patched QEMU (MACHINE=SS-5|SS-20|sun4u, QEMU_ARGS=...)"
	@echo "make check        everything CI runs: checkpatch, series-check, qtests, demo guest on SS-5, SS-20 and sun4u"
	@echo "make bench        stock 10.2.2 vs the series, side by side (BENCH_ARGS=\"--aio native --cache none\")"
	@echo "make tree         build/qemu: the base plus patches/, as a git repository to work in"
	@echo "make series       export the commits of build/qemu back into patches/"
	@echo "make series-check fail when build/qemu holds work that patches/ does not"
	@echo "make series-bisect build and run the DMA qtests at every commit (FIRST=<rev> to start later)"
	@echo "make sanitize     the DMA qtests on an ASan+UBSan build in build/asan (most of an hour cold)"
	@echo "make build|stock|guest|fw|deps|base   the pieces (fw: the bench's bare-metal ESP and Lance drivers)"

$(B)/.deps: scripts/deps.sh
	@mkdir -p $(B)
	scripts/deps.sh
	@touch $@

deps: $(B)/.deps

base: deps
	scripts/fetch-base.sh

tree: deps
	scripts/tree.sh

series:
	scripts/export-series.sh $(PATCHES)
	scripts/series-hash.sh $(PATCHES) > $(QEMU_TREE)/.git/dma-rw-series
	@echo "series: $$(grep -c . $(PATCHES)/series || true) patches in $(PATCHES)"

series-check:
	scripts/series-check.sh

series-bisect: build
	scripts/series-bisect.sh $(FIRST)

sanitize: tree
	scripts/sanitize.sh

build: tree
	scripts/build.sh $(QEMU_TREE)

stock: deps
	scripts/tree.sh $(STOCK_TREE) --no-patches
	scripts/build.sh $(STOCK_TREE)

guest: deps
	scripts/guest.sh

guest64: deps
	scripts/guest.sh sparc64

# The bench's ESP and Lance drivers for the guest CPU: code only, run from the PROM
$(B)/%fw.bin: bench/fw/start.S bench/fw/fw.h bench/fw/%fw.c bench/fw/fw.ld Makefile | $(B)/.deps
	$(CROSS)gcc -m32 -mcpu=v8 -mflat -mno-fpu -O2 -ffreestanding -fno-pic -fno-jump-tables \
	    -fno-common -fno-builtin -Wall -Werror -nostdlib -static \
	    -Wl,-T,bench/fw/fw.ld -Wl,--build-id=none -Wl,-z,noexecstack \
	    -o $(B)/$*fw.elf bench/fw/start.S bench/fw/$*fw.c
	$(CROSS)objcopy -O binary -j .text $(B)/$*fw.elf $@

fw: $(FW)

run: build $(if $(filter sun4u,$(MACHINE)),guest64,guest)
	scripts/run-guest.py --machine $(MACHINE) -- $(QEMU_ARGS)

bench: build stock guest $(FW)
	bench/bench.py --stock $(STOCK_BUILD)/qemu-system-sparc \
	    --patched $(QEMU_BUILD)/qemu-system-sparc --out $(B)/bench $(BENCH_ARGS)

checkpatch: tree
	scripts/checkpatch.sh

check: build guest guest64 $(FW)
	scripts/check.sh

clean:
	rm -rf $(QEMU_BUILD) $(STOCK_BUILD) $(B)/guest $(B)/guest64 $(B)/check

distclean:
	rm -rf $(B)
