# Two commands on a fresh machine:
#   make lab    set up, bring the three-node cluster up (embedded default), open lab 05
#   make test   set up, then run every test (unit + integration on a real cluster + browser)
VENV ?= .venv
PY := $(VENV)/bin/python
DSELAB := $(VENV)/bin/dselab
STAMP := $(VENV)/.installed

.PHONY: setup lab test unit lint browser-deps clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

lab: setup
	$(DSELAB) start 05

# Chromium for the browser test comes from Debian's packages (no browser download is possible).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "install chromium (apt-get install chromium) for the browser test"; exit 0; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

unit: setup
	$(PY) -m pytest tests/unit -q

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks

test: setup browser-deps
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest tests -v --durations=15
	# The protocol purges its cluster: it gets its own home and addresses, never the developer's lab.
	DSELAB_HOME=$(CURDIR)/build/protocol-home DSELAB_LOOPBACK=127.0.59 DSELAB_JMX_BASE=8955 $(DSELAB) test 05

clean:
	rm -rf $(VENV) build
