# ctrlbench: `make run` runs the main job, `make test` the tests; both set up first.
SHELL := /bin/bash
CACHE ?= $(or $(CTRLBENCH_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ctrlbench)
# Build outputs are shared by all checkouts on this machine (a fresh clone
# reuses compiled dependencies).
export CARGO_TARGET_DIR ?= $(CACHE)/target
CARGO ?= cargo

.PHONY: setup build run test lint fmt clean

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build --release --workspace

run: setup
	$(CARGO) run --release -q -p ctrlbench -- info
	$(CARGO) run --release -q -p ctrlbench -- envs
	$(CARGO) run --release -q -p ctrlbench -- bench env --task cartpole-swingup --steps 20000
	$(CARGO) run --release -q -p ctrlbench -- bench env --task reacher-hard --steps 20000

test: setup
	$(CARGO) test --release --workspace

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf third_party
