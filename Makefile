# Quick start: `make lab` (JupyterLab with the examples), `make app` (the reconciliation form, served by
# Voilà), `make demo` (headless run), `make test`.
# `make bench` prints the benchmark tables; `make bench BENCH_ARGS="--only coldstart"` one of them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BENCH_VENV := .venv-bench
# JupyterLab refuses to run as root unless asked explicitly.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab labextension app demo test test-fast bench clean postgresql-server
# The venvs' interpreters are made by a pattern rule: keep them, they are not intermediate files.
.PRECIOUS: %/bin/python

%/bin/python:
	$(PYTHON) -m venv $*
	$*/bin/pip install -q --upgrade pip

# One stamp per venv and set of extras, redone when the package metadata changes. An
# editable install skips the package's data files: the file that enables the server
# extension, Voilà's settings (pages without the graph editor's extension) and the node
# kernel's kernelspec are put where a wheel install puts them, and the examples folder is
# a link to notebooks/.
define install_extra
	$(@D)/bin/pip install -q -e '.[$*]'
	mkdir -p $(@D)/etc/jupyter/jupyter_server_config.d $(@D)/share/jupyter/kernels $(@D)/share/jupyter/workflow
	cp jupyter-config/jupyter_server_config.d/jupyter_workflow.json $(@D)/etc/jupyter/jupyter_server_config.d/
	cp jupyter-config/voila.json $(@D)/etc/jupyter/
	cp -r kernels/jupyter-workflow $(@D)/share/jupyter/kernels/
	ln -sfn $(CURDIR)/notebooks $(@D)/share/jupyter/workflow/examples
	touch $@
endef

$(VENV)/.installed-%: pyproject.toml setup.py kernels/jupyter-workflow/kernel.json jupyter-config/voila.json | $(VENV)/bin/python
	$(install_extra)

# The benchmark has an environment of its own, holding the peers it measures against.
$(BENCH_VENV)/.installed-%: pyproject.toml setup.py kernels/jupyter-workflow/kernel.json jupyter-config/voila.json | $(BENCH_VENV)/bin/python
	$(install_extra)

# The JupyterLab extension: built by jlpm (from the lab extra's jupyter-builder) with Node.js and the npm
# registry, again whenever a source of it or the server's OpenAPI document (its types) changes.
LABEXT_SOURCES := $(shell find labextension/src labextension/style -type f -not -path '*/generated/*') \
	$(addprefix labextension/,package.json yarn.lock tsconfig.json .yarnrc.yml install.json) \
	jupyter_workflow/server/openapi.json
LABEXT_BUILT := jupyter_workflow/labextension/package.json
JLPM := PATH=$(CURDIR)/$(BIN):$$PATH jlpm

$(LABEXT_BUILT): $(LABEXT_SOURCES) | $(VENV)/.installed-lab
	cd labextension && $(JLPM) install && $(JLPM) build:prod
	cp labextension/install.json $(@D)/
	touch $@

# An editable install places no data files: the built extension is linked where a wheel puts it.
$(VENV)/.installed-labextension: $(LABEXT_BUILT)
	mkdir -p $(VENV)/share/jupyter/labextensions
	ln -sfn $(CURDIR)/jupyter_workflow/labextension $(VENV)/share/jupyter/labextensions/jupyter-workflow
	touch $@

labextension: $(VENV)/.installed-labextension

# With the app extra, Voilà's server extension renders "Open as form" inside JupyterLab.
lab: $(VENV)/.installed-examples $(VENV)/.installed-app $(VENV)/.installed-lab $(VENV)/.installed-labextension
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ALLOW_ROOT)

# The reconciliation workflow's form as a page of its own (Voilà runs as root without a flag);
# `make app APP_PORT=8870` when 8866 is taken.
APP_PORT ?= 8866
app: $(VENV)/.installed-examples $(VENV)/.installed-app
	@echo "The form: http://127.0.0.1:$(APP_PORT)/"
	$(BIN)/voila notebooks/apps/reconciliation.ipynb --no-browser --port=$(APP_PORT) --Voila.ip=127.0.0.1 --Voila.port_retries=0

demo: $(VENV)/.installed-examples
	$(BIN)/jupyter workflow run notebooks/reconcile.workflow.json
	$(BIN)/jupyter workflow runs list --limit 3

# The browser tests drive Debian's Chromium through Playwright (nothing downloads a browser):
# installed with apt-get when it is missing, which needs root.
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	@if [ "$$(id -u)" != 0 ]; then \
		echo "The browser tests need Debian's chromium at $@: run 'sudo apt-get install -y chromium' (make only installs it as root)." >&2; \
		exit 1; fi
	DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
		|| { echo "Could not install Debian's chromium with apt-get: the browser tests need it at $@." >&2; exit 1; }
	@test -x $@ || { echo "apt-get installed chromium but $@ is missing." >&2; exit 1; }

# The store tests run on SQLite and on PostgreSQL, in a private cluster made with Debian's server
# programs (tests/postgres.py; any /usr/lib/postgresql/<version>/bin): installed with apt-get when
# they are missing, which needs root. Without them the PostgreSQL variants skip, saying why.
postgresql-server:
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "The store tests' PostgreSQL variants need Debian's postgresql: run 'sudo apt-get install -y postgresql' (make only installs it as root); they skip until then." >&2; \
		exit 0; fi; \
	{ DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; } \
		|| echo "Could not install Debian's postgresql with apt-get: the store tests' PostgreSQL variants skip." >&2

# The packaging tests check the built extension in the wheel and in JupyterLab; the browser
# tests (tests/ui/) open it in Chromium; the extension's own unit tests (Vitest) run first.
test: $(VENV)/.installed-test $(VENV)/.installed-labextension $(CHROMIUM) postgresql-server
	cd labextension && $(JLPM) test
	$(BIN)/python -m pytest

# The layer that starts no kernel, server or workflow process: scheduling on a fake executor, the model, the store.
test-fast: $(VENV)/.installed-test postgresql-server
	$(BIN)/python -m pytest -m "not kernels" --hypothesis-profile=quick

# The panel's section opens the built extension in the benchmark's JupyterLab (linked as for .venv).
$(BENCH_VENV)/.installed-labextension: $(LABEXT_BUILT) | $(BENCH_VENV)/.installed-bench
	mkdir -p $(BENCH_VENV)/share/jupyter/labextensions
	ln -sfn $(CURDIR)/jupyter_workflow/labextension $(BENCH_VENV)/share/jupyter/labextensions/jupyter-workflow
	touch $@

bench: $(BENCH_VENV)/.installed-bench $(BENCH_VENV)/.installed-labextension $(CHROMIUM)
	$(BENCH_VENV)/bin/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) build *.egg-info jupyter_workflow/labextension \
		labextension/lib labextension/src/generated labextension/tsconfig.tsbuildinfo test-screenshots
