# Quick start: `make lab` (JupyterLab with the examples), `make demo` (headless run), `make test`.
# `make bench` prints the benchmark tables; `make bench BENCH_ARGS="--only coldstart"` one of them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BENCH_VENV := .venv-bench
# JupyterLab refuses to run as root unless asked explicitly.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab demo test test-fast bench clean
# The venvs' interpreters are made by a pattern rule: keep them, they are not intermediate files.
.PRECIOUS: %/bin/python

%/bin/python:
	$(PYTHON) -m venv $*
	$*/bin/pip install -q --upgrade pip

# One stamp per venv and set of extras, redone when the package metadata changes. An
# editable install skips the package's data files: the file that enables the server
# extension and the node kernel's kernelspec are put where a wheel install puts them,
# and the examples folder is a link to notebooks/.
define install_extra
	$(@D)/bin/pip install -q -e '.[$*]'
	mkdir -p $(@D)/etc/jupyter/jupyter_server_config.d $(@D)/share/jupyter/kernels $(@D)/share/jupyter/workflow
	cp jupyter-config/jupyter_server_config.d/jupyter_workflow.json $(@D)/etc/jupyter/jupyter_server_config.d/
	cp -r kernels/jupyter-workflow $(@D)/share/jupyter/kernels/
	ln -sfn $(CURDIR)/notebooks $(@D)/share/jupyter/workflow/examples
	touch $@
endef

$(VENV)/.installed-%: pyproject.toml setup.py kernels/jupyter-workflow/kernel.json | $(VENV)/bin/python
	$(install_extra)

# The benchmark has an environment of its own, holding the peers it measures against.
$(BENCH_VENV)/.installed-%: pyproject.toml setup.py kernels/jupyter-workflow/kernel.json | $(BENCH_VENV)/bin/python
	$(install_extra)

lab: $(VENV)/.installed-examples $(VENV)/.installed-lab
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ALLOW_ROOT)

demo: $(VENV)/.installed-examples
	$(BIN)/jupyter workflow run notebooks/reconcile.workflow.json
	$(BIN)/jupyter workflow runs list --limit 3

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

# The layer that starts no kernel, server or workflow process: scheduling on a fake executor, the model, the store.
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m "not kernels" --hypothesis-profile=quick

bench: $(BENCH_VENV)/.installed-bench
	$(BENCH_VENV)/bin/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) build *.egg-info
