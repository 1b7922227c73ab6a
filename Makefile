# The two commands of the README. Each installs what it needs first (scripts/setup.sh, idempotent).
PYTHON ?= python3
export PYTHON

.PHONY: demo test setup

demo:
	bash scripts/setup.sh
	bash scripts/demo.sh

test:
	bash scripts/setup.sh --test
	$(PYTHON) -m pytest -q

setup:
	bash scripts/setup.sh --test
