# Studio: `make run` (install + start the embedded default) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# Tests run in parallel (pytest-xdist); each worker has its own databases and servers.
TEST_WORKERS ?= 2
# CPU torch: on this machine kind the 2.13.0 CPU wheel lies on local disk. Elsewhere,
# e.g. `make install TORCH_SPEC=torch PIP_TORCH_ARGS="--index-url https://download.pytorch.org/whl/cpu"`.
TORCH_SPEC ?= torch==2.13.0
PIP_TORCH_ARGS ?=

.PHONY: install run test lint format system-deps clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Studio needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(PIP_TORCH_ARGS) '$(TORCH_SPEC)'
	$(BIN)/pip install --quiet -e '.[ml,dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/studio demo
	$(BIN)/studio serve

# Test-only system packages (Chromium for the browser tests, ffmpeg for media),
# from Debian's archive; never a browser downloaded by a test tool.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v ffmpeg >/dev/null || missing="$$missing ffmpeg"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing$$missing from Debian"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "Missing$$missing: install with 'sudo apt-get install$$missing'"; \
		fi; \
	fi

test: install system-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check studio tests migrations bench
	$(BIN)/ruff format --check studio tests migrations bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format studio tests migrations bench
	$(BIN)/ruff check --fix studio tests migrations bench

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache .mypy_cache .ruff_cache .cache
