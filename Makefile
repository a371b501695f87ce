# Everything a fresh machine (Python 3.11, pip, git, make) needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
COLLECTIONS := build/collections
LINK := $(COLLECTIONS)/ansible_collections/signl4/connectwise
export PATH := $(abspath $(BIN)):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(abspath $(COLLECTIONS))
export PYTHONPATH := $(abspath .)
export ANSIBLE_NOCOLOR := 1

.PHONY: demo test pytest pytest-fast complexity sanity lint docs bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(LINK):
	mkdir -p $(dir $(LINK))
	ln -sfn ../../../.. $(LINK)

demo: $(BIN)/.installed $(LINK)
	$(BIN)/python -m tests.demo

test: complexity pytest sanity lint docs

# McCabe complexity <= 10 per function (the project's rule, servicenow.itsm's cap), checked by ruff.
COMPLEXITY_PATHS := plugins tests/emulators $(wildcard agent)
complexity: $(BIN)/.installed
	$(BIN)/ruff check --no-cache --isolated --select C901 --config 'lint.mccabe.max-complexity = 10' $(COMPLEXITY_PATHS)

# The fast suite: everything but the ansible-playbook runs (marked slow).
pytest-fast: $(BIN)/.installed $(LINK)
	$(BIN)/python -m pytest -q -n 2 -m "not slow" tests/unit tests/integration

pytest: $(BIN)/.installed $(LINK)
	$(BIN)/python -m pytest -q -n 2 tests/unit tests/integration
	$(BIN)/python -m pytest -q -n 2 tests/agent

# The sync agent as one zipapp (agent/ + plugins/module_utils); run it in a venv holding agent/requirements.txt.
.PHONY: agent
agent: $(BIN)/.installed
	$(BIN)/python agent/build_zipapp.py build/signl4-agent.pyz

sanity: $(BIN)/.installed
	hack/sanity.sh

lint: $(BIN)/.installed $(LINK)
	$(BIN)/ansible-lint --offline --nocolor

docs: $(BIN)/.installed
	hack/docs.sh

clean:
	rm -rf build .pytest_cache tests/output
