# Two commands on a fresh machine: `make run` (the app) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: install run test test-fast supervisor stop bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

# llama.cpp's HF -> GGUF converter, extracted from the pinned llama-cpp-python sdist (checked by
# SHA-256; see core/export/converter.py). Needs PyPI once; exports then run offline.
CONVERTER := .llama-converter/0.3.36/halo_forge_converter.txt
$(CONVERTER): core/export/converter.py | $(STAMP)
	$(PY) -m core.export.converter install

install: $(STAMP) $(CONVERTER)

# Starts the supervisor (if none runs) and the UI on http://$(HOST):$(PORT).
run: install
	$(VENV)/bin/halo-forge ui --host $(HOST) --port $(PORT)

supervisor: install
	$(VENV)/bin/halo-forge supervisor start

stop:
	-$(VENV)/bin/halo-forge supervisor stop

test: install
	@scripts/ensure_browser.sh
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(PY) -m pytest -q -ra --durations=15

# Everything but the real-browser tests.
test-fast: install
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(PY) -m pytest -q -m "not browser"

bench: install
	for b in bench/*.py; do case $$b in */benchutil.py) continue;; esac; echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
