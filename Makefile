# Two entry points for a fresh clone: `make report` (the main job) and `make test`.
# Each creates the virtual environment it needs in .venv on first use, from the lock
# (.ci/constraints.txt: the exact version of every package, pip and the build tools
# included), so a clone tested today installs the same packages next year.
# `make test-latest` runs the same tests against the newest releases, in .venv-latest;
# `make lock` rewrites the lock from the newest releases.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := .ci/constraints.txt
EXTRAS := .[test,peers,data,worstcase]
PROFILE ?= ci
# pytest-xdist workers: one per core.
WORKERS ?= auto
PYTEST_ARGS := --hypothesis-profile=lpsgd-ci -n $(WORKERS)

.PHONY: report test test-latest lock bench verify clean-venv

# PIP_CONSTRAINT (not -c) so that the isolated build environment of the editable install
# is pinned too.
$(BIN)/.installed: pyproject.toml $(LOCK)
	rm -rf $(VENV)
	$(PY) -m venv $(VENV)
	PIP_CONSTRAINT=$(CURDIR)/$(LOCK) $(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	PIP_CONSTRAINT=$(CURDIR)/$(LOCK) $(BIN)/python -m pip install --quiet -e '$(EXTRAS)'
	touch $@

report: $(BIN)/.installed
	$(BIN)/lpsgd report --profile $(PROFILE)

test: $(BIN)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

verify: $(BIN)/.installed
	$(BIN)/lpsgd verify --profile $(PROFILE)

bench: $(BIN)/.installed
	$(BIN)/python -m pytest tests/benchmarks -m bench --benchmark-enable --benchmark-only -p no:randomly -n 0

# The newest releases of everything, ignoring the lock (a fresh venv every time).
test-latest:
	rm -rf .venv-latest
	$(PY) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	.venv-latest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '$(EXTRAS)'
	.venv-latest/bin/python -m pip freeze --all --exclude-editable
	.venv-latest/bin/python -m pytest $(PYTEST_ARGS)

# Rewrite the lock from the newest releases (then run `make test` and commit it).
lock:
	rm -rf .venv-lock
	$(PY) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	.venv-lock/bin/python -m pip install --quiet -e '$(EXTRAS)'
	( echo "# The lock: exact versions for make test / make report (rewrite with make lock)."; \
	  echo "# Python $$(.venv-lock/bin/python -c 'import platform; print(platform.python_version())')"; \
	  .venv-lock/bin/python -m pip freeze --all --exclude-editable ) > $(LOCK)
	rm -rf .venv-lock

clean-venv:
	rm -rf $(VENV) .venv-latest .venv-lock
