# painterly-vae: `make demo` and `make test` create .venv if missing, install the package
# into it (editable, with the test extra), and run.

PYTHON ?= python3
# a package index with CPU-only torch wheels (about 1 GB installed instead of 5.9 GB), e.g.
#   make install TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install torch torchvision --index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/painterly-vae demo

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/train_step.py --quick
	$(BIN)/python bench/trunk_step.py --quick
	$(BIN)/python bench/decoder_step.py --quick
	$(BIN)/python bench/host_memory.py --quick
	$(BIN)/python bench/loader.py --quick
	$(BIN)/python bench/attribute.py --quick
	$(BIN)/python bench/probe_fit.py --quick
	$(BIN)/python bench/painters.py --quick
	$(BIN)/python bench/serve.py --quick
	$(BIN)/python bench/prepare.py --quick
	$(BIN)/python bench/prepare.py --memory --quick
	$(BIN)/python bench/precision_curves.py --quick --out runs/precision_curves.png

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf $(VENV) demo runs .pytest_cache
