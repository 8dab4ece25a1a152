# ctrlbench: `make run` runs the main job, `make test` the tests; both set up first.
SHELL := /bin/bash
CACHE ?= $(or $(CTRLBENCH_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ctrlbench)
# Build outputs are shared by all checkouts on this machine (a fresh clone
# reuses compiled dependencies).
export CARGO_TARGET_DIR ?= $(CACHE)/target
# The set-up folders by their real (cache) paths: the same in every checkout,
# so a fresh clone reuses the compiled libtorch and MuJoCo bindings instead of
# rebuilding them for its own path. Expanded when a recipe runs (after setup).
export MUJOCO_DYNAMIC_LINK_DIR = $(realpath third_party/mujoco/lib)
export LIBTORCH = $(realpath third_party/torch)
export CTRLBENCH_ASSET_DIR = $(realpath third_party/dm_control/suite)
export CTRLBENCH_METAWORLD_ASSET_DIR = $(realpath third_party/metaworld/assets)
export CTRLBENCH_REFERENCE_PYTHON = $(realpath third_party/reference-venv)/bin/python
CARGO ?= cargo

.PHONY: setup build bundle run test lint fmt clean

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build --release --workspace

bundle: build
	@bash scripts/bundle.sh

# The main job: one figure reproduced end to end with a real result (SAC on
# cartpole-swingup, 2 seeds x 100k env steps, beside the published SAC and
# DCWM curves; about 10 minutes on 2 cores after the build). Re-running resumes.
run: setup
	$(CARGO) build --release -q -p ctrlbench
	$(CARGO) run --release -q -p ctrlbench -- info
	$(CARGO) run --release -q -p ctrlbench -- reproduce sac-cartpole-swingup --budget short --jobs 2
	@echo "Open results/reproduce/sac-cartpole-swingup/short/index.html (figure.png, comparison.csv beside it)."
	@echo "More: ctrlbench reproduce --list"

test: setup
	$(CARGO) test --release --workspace --no-fail-fast; ws=$$?; \
	$(CARGO) test --release --manifest-path examples/custom-agent/Cargo.toml; ex=$$?; \
	exit $$((ws | ex))

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	$(CARGO) clippy --release --manifest-path examples/custom-agent/Cargo.toml --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf third_party dist
