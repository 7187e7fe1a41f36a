# Omnistock developer commands. `make test` and `make local` set everything up themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
SAM_VENV  := .venv-sam
PY        := $(VENV)/bin/python
SAM       := $(SAM_VENV)/bin/sam
BOOT_PY   := $(shell tools/find-python 3.12)
PORT      ?= 3000
MOTO_PORT ?= 3001
export PYTHONPATH := $(CURDIR)/shared:$(CURDIR)
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: help
help:  ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt shared/requirements.txt
	@test -n "$(BOOT_PY)" || { echo "Python 3.11+ is needed (3.12 preferred)"; exit 1; }
	$(BOOT_PY) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	$(BOOT_PY) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements-sam.txt
	@touch $@

.PHONY: install
install: $(VENV)/.installed  ## Create the virtualenv with pinned dependencies

.PHONY: lint
lint: $(VENV)/.installed  ## ruff and mypy
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

.PHONY: unit
unit: $(VENV)/.installed  ## Offline unit tests
	$(PY) -m pytest tests/unit

.PHONY: integration
integration: $(VENV)/.installed  ## Handlers and store on moto, tables built from template.yaml
	$(PY) -m pytest tests/integration

.PHONY: e2e
e2e: $(VENV)/.installed  ## Start the local stack on free ports and talk HTTP to it
	$(PY) -m pytest tests/e2e

.PHONY: validate
validate: $(VENV)/.installed $(SAM_VENV)/.installed  ## sam validate --lint, and cfn-lint on the transformed template
	$(SAM) validate --lint --template template.yaml
	$(PY) -m local.template_check template.yaml

.PHONY: openapi
openapi: $(VENV)/.installed  ## Regenerate docs/openapi.json from the admin API's code
	$(PY) -m local.openapi > docs/openapi.json

# Debian's Chromium and ChromeDriver drive the console's browser tests (tests/e2e/test_console.py).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
.PHONY: chromium
chromium:  ## Install Debian's chromium and chromium-driver where missing (the console's browser tests)
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium chromium-driver; \
	fi

# axe-core (the accessibility rules engine) checks each console screen in the browser tests.
AXE_VERSION := 4.14.1
AXE_JS      := .cache/axe-core-$(AXE_VERSION)/node_modules/axe-core/axe.min.js
$(AXE_JS):
	npm install --prefix .cache/axe-core-$(AXE_VERSION) --no-audit --no-fund --silent axe-core@$(AXE_VERSION)

.PHONY: test
test: lint chromium $(AXE_JS)  ## Everything CI runs: lint, unit, integration, end-to-end (a real browser too), template checks
	OMNISTOCK_REQUIRE_BROWSER=1 OMNISTOCK_AXE_JS=$(CURDIR)/$(AXE_JS) $(PY) -m pytest tests
	$(MAKE) --no-print-directory validate
	$(MAKE) --no-print-directory build-if-possible

.PHONY: build
build: $(SAM_VENV)/.installed  ## sam build (needs python3.12 on PATH)
	PATH="$(dir $(BOOT_PY)):$$PATH" $(SAM) build --template template.yaml

.PHONY: build-if-possible
build-if-possible:
	@if "$(BOOT_PY)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then \
	  $(MAKE) --no-print-directory build; \
	else echo "sam build skipped: no python3.12 interpreter on this machine"; fi

.PHONY: local
local: $(VENV)/.installed  ## Run the whole stack on 127.0.0.1:$(PORT) (no Docker, no AWS account)
	$(PY) -m local --port $(PORT) --moto-port $(MOTO_PORT)

.PHONY: demo-data
demo-data: $(VENV)/.installed  ## Load the demo catalog into a running local stack
	$(PY) -m local.demo --url http://127.0.0.1:$(PORT)

.PHONY: bench
bench: $(VENV)/.installed  ## Counts per event type and the hot-SKU race
	$(PY) -m bench

SCALE_SKUS ?= 100000
SCALE_CHANGES ?= 20000
SCALE_UNITS ?= 1
.PHONY: bench-scale
bench-scale: $(VENV)/.installed  ## Sync Now, a burst and reconcile over SCALE_SKUS SKUs (not in CI; slow)
	$(PY) -m bench.scale --skus $(SCALE_SKUS) --changes $(SCALE_CHANGES) $(if $(filter 0,$(SCALE_UNITS)),--no-units,)

.PHONY: clean
clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .ruff_cache .mypy_cache
