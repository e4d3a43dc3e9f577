# The two commands of the README: `make demo` and `make test`. Everything else is set up from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-long lint format bench clean notebook

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/journaldesk demo

# The administrator's notebook in Jupyter Notebook, run by the project's own Python (the kernel
# sees journaldesk). Settings: $$JOURNALDESK_CONFIG, else config/settings.yaml, else the demo.
notebook: $(STAMP)
	$(BIN)/jupyter notebook notebooks/administrator.ipynb

# The tests spread over every core (pytest-xdist); a test file stays on one worker, so its
# module fixtures (a demo school each) are built once.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n auto --dist loadfile

# Ten times the property examples, with hypothesis' statistics and the state machine's depth.
test-long: $(STAMP)
	JOURNALDESK_HYPOTHESIS=long $(BIN)/python -m pytest -rP --hypothesis-show-statistics \
		tests/test_state_machine.py tests/test_invariants_property.py tests/test_booking.py \
		tests/test_consent.py tests/test_worktime.py tests/test_cells.py tests/test_privacy.py

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) demo reports .pytest_cache .ruff_cache
