# Two entry points for a fresh clone: `make report` (the main job) and `make test`.
# Each creates the virtual environment it needs in .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= ci

.PHONY: report test bench verify clean-venv

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,peers]'
	touch $@

report: $(BIN)/.installed
	$(BIN)/lpsgd report --profile $(PROFILE)

test: $(BIN)/.installed
	$(BIN)/python -m pytest --hypothesis-profile=ci

verify: $(BIN)/.installed
	$(BIN)/lpsgd verify --profile $(PROFILE)

bench: $(BIN)/.installed
	$(BIN)/python -m pytest tests/benchmarks -m bench --benchmark-enable --benchmark-only -p no:randomly

clean-venv:
	rm -rf $(VENV)
