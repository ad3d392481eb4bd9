# Two commands on a fresh machine:
#   make lab    set up, bring the three-node cluster up (embedded default), open lab 05
#   make test   set up, then run every test (unit + integration on a real cluster + browser)
VENV ?= .venv
PY := $(VENV)/bin/python
DSELAB := $(VENV)/bin/dselab
STAMP := $(VENV)/.installed

XTERM_VENDOR := site/static/vendor/xterm
CLASSROOM_TESTS := $(wildcard tests/integration/test_classroom*.py)
NODE_STAMP := node_modules/.package-lock.json

.PHONY: setup frontend lab test test-lanes test-cluster test-classroom test-docker unit lint typecheck wheel browser-deps docker-deps classroom-deps clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The package's modules and the labs' check modules compiled ahead (dselab.bytecode): an editable
# install has no bytecode, and every command would compile them again (PYTHONDONTWRITEBYTECODE).
setup: $(STAMP) frontend
	@$(PY) -m dselab.bytecode

# The page terminal's front end (xterm.js) comes from the npm registry, pinned by package-lock.json;
# `npm ci` runs again when the lockfile changes. Its files are copied into site/static/vendor (not in git).
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "install npm (apt-get install npm): the classroom's page terminal needs xterm.js"; exit 1; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

$(XTERM_VENDOR)/xterm.js: $(NODE_STAMP)
	mkdir -p $(XTERM_VENDOR)
	cp node_modules/@xterm/xterm/lib/xterm.js node_modules/@xterm/xterm/lib/xterm.js.map \
	   node_modules/@xterm/xterm/css/xterm.css node_modules/@xterm/addon-fit/lib/addon-fit.js \
	   node_modules/@xterm/addon-fit/lib/addon-fit.js.map $(XTERM_VENDOR)/
	cp node_modules/@xterm/xterm/LICENSE $(XTERM_VENDOR)/LICENSE.xterm
	touch $@

frontend: $(XTERM_VENDOR)/xterm.js

lab: setup
	$(DSELAB) start 05

# Chromium for the browser test comes from Debian's packages (no browser download is possible).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "install chromium (apt-get install chromium) for the browser test"; exit 0; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The docker-runtime tests start their own engine (Debian's docker.io) and build CI's stand-in
# image with debootstrap: no registry is reachable, and no container network is ever created.
docker-deps:
	@command -v dockerd >/dev/null 2>&1 && command -v debootstrap >/dev/null 2>&1 && \
	  { command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "install docker.io docker-compose debootstrap for the docker-runtime tests"; exit 0; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends docker.io docker-compose debootstrap >/dev/null; }

# The classroom (seat users in network namespaces, as root) needs iproute2, util-linux (runuser),
# passwd (useradd) and a system Python of the venv's minor version that every seat user may run.
classroom-deps:
	@PYV=$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  command -v ip >/dev/null 2>&1 && command -v runuser >/dev/null 2>&1 && command -v useradd >/dev/null 2>&1 && \
	  [ -x /usr/bin/python$$PYV ] || { \
	  if [ "$$(id -u)" != 0 ]; then echo "the classroom runs as root; its tests are skipped"; exit 0; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    iproute2 util-linux passwd python$$PYV >/dev/null; }

# Engine up, stand-in image built or reused (cached by content hash), the lab-behaviour integration
# tests, module 05 typed verbatim (its `docker compose exec` too) and the docker-only tests (last: they
# purge the cluster) on the docker runtime, then `dselab test 05` on it; engine down.
test-docker: setup docker-deps
	$(PY) tests/docker_runtime/harness.py run -- sh -c '\
	  DSELAB_TEST_RUNTIME=docker DSELAB_TEST_HOME=$(CURDIR)/build/docker-test-home \
	    $(PY) -m pytest -v tests/integration/test_01_lab05_live.py tests/integration/test_module05_verbatim.py \
	      tests/docker_runtime && \
	  DSELAB_HOME=$(CURDIR)/build/docker-protocol-home $(DSELAB) --runtime docker test 05'

# The wheel carries the engine and its content (labs, checks, site with the vendored xterm.js, scripts).
wheel: setup
	rm -rf build/lib build/bdist.*  # setuptools' staging folders: no file of an older build may ride along
	$(PY) -m pip wheel --no-deps --quiet --wheel-dir dist .
	@ls dist/dselab-*.whl

# Two workers (pytest-xdist): the unit tests mostly wait (sockets, subprocesses, terminals), so two
# processes about halve their time on 2 cores (measured 70 -> 36 s, and 116 -> 62 s on a slower day).
unit: setup
	$(PY) -m pytest tests/unit -q -n 2

lint: setup
	$(VENV)/bin/ruff check src checks tests benchmarks

# Type hints checked strictly on the package (settings in pyproject.toml [tool.mypy]), and no block of
# six lines or more written twice in it (pylint's copy-paste detector; imports, signatures, docstrings aside).
typecheck: setup
	$(VENV)/bin/mypy
	$(VENV)/bin/pylint --disable=all --enable=duplicate-code --min-similarity-lines=6 --ignore-imports=y \
	  --ignore-signatures=y --ignore-docstrings=y --ignore-comments=y --score=n src/dselab

# Lint and types, the unit tests, then the real-cluster tests: the lab cluster's lane and the docker
# lane at the same time (tests/lanes.py: each lane's clusters on addresses of their own; neither has a
# tight timing bound another lane could break), then the classroom's lane alone: its trust tests time a
# seat's check while a neighbour seat attacks, and a second lane's load is not part of that attack.
# Every package is installed first. The docker lane makes its base root file system (debootstrap)
# first, beside the cluster lane.
test: setup browser-deps classroom-deps docker-deps
	$(VENV)/bin/ruff check src checks tests benchmarks
	$(MAKE) typecheck
	$(MAKE) unit
	$(PY) tests/lanes.py test-cluster test-docker
	$(MAKE) test-classroom

# The same lanes at the same time (tests/lanes.py), for a machine with cores to spare: each lane's
# clusters live on addresses of their own, and a lane alone keeps about one core busy.
test-lanes: setup browser-deps classroom-deps docker-deps
	$(PY) tests/lanes.py test-cluster test-classroom test-docker

# The lab cluster's lane (127.0.57, JMX 7955+): every integration test but the classroom's, then each
# lab's self-test. The self-test purges its cluster: it gets its own home, never the developer's lab. It
# shares the integration tests' addresses (their cluster is gone by now), so its cluster is made from the
# template their first `up` kept.
test-cluster: setup browser-deps
	$(PY) -m pytest tests/integration -v --durations=15 -p no:cacheprovider --basetemp=/tmp/dselab-lane-cluster \
	  $(foreach f,$(CLASSROOM_TESTS),--ignore=$(f))
	DSELAB_HOME=$(CURDIR)/build/protocol-home DSELAB_LOOPBACK=127.0.57 DSELAB_JMX_BASE=7955 $(DSELAB) test 05
	DSELAB_HOME=$(CURDIR)/build/protocol-home DSELAB_LOOPBACK=127.0.57 DSELAB_JMX_BASE=7955 $(DSELAB) test 05b
	DSELAB_HOME=$(CURDIR)/build/protocol-home DSELAB_LOOPBACK=127.0.57 DSELAB_JMX_BASE=7955 $(DSELAB) test 05c

# The classroom's lane (root): seats as Unix users, each cluster inside its seat's network namespace.
test-classroom: setup browser-deps classroom-deps
	$(PY) -m pytest $(CLASSROOM_TESTS) -v --durations=10 -p no:cacheprovider --basetemp=/tmp/dselab-lane-classroom

clean:
	rm -rf $(VENV) build node_modules site/static/vendor
