# Quick start: `make demo`, then `make test`. Both build .venv from scratch if needed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# pip -qq prints errors only: no wall of warnings (e.g. "Location ... is ignored" for a
# PIP_FIND_LINKS entry a machine sets), while a failed install still says why.
PIP_QUIET := -qq --disable-pip-version-check --no-warn-script-location
PIP    := PIP_NO_PYTHON_VERSION_WARNING=1 $(PY) -m pip install $(PIP_QUIET) -c constraints.txt

.PHONY: demo test install dev bench bench-peers lock clean

$(VENV)/.core: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[demo,server,pipelines]'
	touch $@

$(VENV)/.dev: $(VENV)/.core
	$(PIP) -e '.[demo,dev,server,postgres,spark,polars,pipelines]'
	touch $@

install: $(VENV)/.core

dev: $(VENV)/.dev

# The monitoring loop, then the retraining story (gated runs, moving windows, shadow to
# champion, delayed labels, lineage) in its own project beside it.
demo: $(VENV)/.core
	$(VENV)/bin/wk demo --workdir demo-workspace
	$(VENV)/bin/wk demo --pipeline --workdir demo-workspace/pipeline

test: $(VENV)/.dev
	$(PY) -m pytest -q

bench: $(VENV)/.dev
	$(PY) benchmarks/run.py

# whylogs and Evidently, the tools `make bench` compares against, in their own venv
# (their pins clash with ours: whylogs 1.6 needs numpy < 2).
bench-peers: benchmarks/.venv-peers/.done

benchmarks/.venv-peers/.done: benchmarks/peers-requirements.txt
	test -x benchmarks/.venv-peers/bin/python || $(PYTHON) -m venv benchmarks/.venv-peers
	benchmarks/.venv-peers/bin/python -m pip install $(PIP_QUIET) -r $<
	touch $@

lock: $(VENV)/.dev
	$(PY) -m pip freeze --exclude-editable | sed '/^watchkeeper/d' > constraints.txt.new
	{ echo "# Exact versions installed by make demo / make test (pip install -c constraints.txt)."; \
	  echo "# Regenerate with: make lock"; cat constraints.txt.new; } > constraints.txt
	rm constraints.txt.new

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache
