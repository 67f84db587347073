# Quick start: `make lab` (JupyterLab with the examples), `make demo` (headless run), `make test`.
# `make bench` prints the benchmark table.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# JupyterLab refuses to run as root unless asked explicitly.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# One stamp per set of extras, redone when the package metadata changes. An editable
# install skips the package's data files: the file that enables the server extension
# is put where a wheel install puts it.
$(VENV)/.installed-%: pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install -q -e '.[$*]'
	mkdir -p $(VENV)/etc/jupyter/jupyter_server_config.d
	cp jupyter-config/jupyter_server_config.d/jupyter_workflow.json $(VENV)/etc/jupyter/jupyter_server_config.d/
	touch $@

lab: $(VENV)/.installed-examples $(VENV)/.installed-lab
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ALLOW_ROOT)

demo: $(VENV)/.installed-examples
	$(BIN)/jupyter workflow run notebooks/reconcile.workflow.json
	$(BIN)/jupyter workflow runs list --limit 3

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info
