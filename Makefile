# Quick start: `make demo`, then `make test`. Both build .venv from scratch if needed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: demo test install dev bench lock clean

$(VENV)/.core: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[demo]'
	touch $@

$(VENV)/.dev: $(VENV)/.core
	$(PIP) -e '.[demo,dev,postgres,spark,polars]'
	touch $@

install: $(VENV)/.core

dev: $(VENV)/.dev

demo: $(VENV)/.core
	$(VENV)/bin/wk demo --workdir demo-workspace

test: $(VENV)/.dev
	$(PY) -m pytest -q

bench: $(VENV)/.dev
	$(PY) benchmarks/run.py

lock: $(VENV)/.dev
	$(PY) -m pip freeze --exclude-editable | sed '/^watchkeeper/d' > constraints.txt.new
	{ echo "# Exact versions installed by make demo / make test (pip install -c constraints.txt)."; \
	  echo "# Regenerate with: make lock"; cat constraints.txt.new; } > constraints.txt
	rm constraints.txt.new

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache
