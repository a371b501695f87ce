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
# Nothing of a run lands outside the checkout and $TMPDIR: Ansible's home (its local and remote temporary
# files, the galaxy cache) and molecule's state are kept under build/.
export ANSIBLE_HOME := $(abspath build/ansible-home)
export ANSIBLE_REMOTE_TEMP := $(abspath build/ansible-home/remote-tmp)

# The integration playbooks also run on the oldest ansible-core the collection supports (meta/runtime.yml).
CORE216_VENV ?= .venv-core216
CORE216 := ansible-core==2.16.19
# ansible-test keeps venvs, caches and a pip shim under ~/.ansible/test: give it a home of its own.
SANITY_HOME ?= $(abspath build/sanity-home)

.PHONY: demo test pytest pytest-fast complexity test-core216 sanity lint docs changelog bench chaos clean molecule test-ha ha

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

# Each stage prints "== <stage>: <seconds> s" when it ends (hack/stage-timer.sh), the first failure stops the run.
TEST_STAGES := complexity pytest ha test-core216 demo molecule sanity lint docs changelog
test: $(BIN)/.installed $(LINK)
	@hack/stage-timer.sh $(TEST_STAGES)

# McCabe complexity <= 10 per function (the project's rule, servicenow.itsm's cap), checked by ruff.
COMPLEXITY_PATHS := plugins tests/emulators $(wildcard agent)
complexity: $(BIN)/.installed
	$(BIN)/ruff check --no-cache --isolated --select C901 --config 'lint.mccabe.max-complexity = 10' $(COMPLEXITY_PATHS)

# The fast suite: everything but the tests marked slow (ansible-playbook runs, the agent's process and crash tests).
pytest-fast: $(BIN)/.installed $(LINK)
	$(BIN)/python -m pytest -q -n 2 -m "not slow" tests/unit tests/integration tests/agent

pytest: $(BIN)/.installed $(LINK)
	$(BIN)/python -m pytest -q -n 2 tests/unit tests/integration
	$(BIN)/python -m pytest -q -n 2 tests/agent tests/security

# The HA suite (tests/ha): agents on a throwaway PostgreSQL cluster started from the machine's server binaries
# (tests/support/postgres.py finds them: $$SIGNL4_TEST_PG_BIN, /usr/lib/postgresql/*/bin, pg_config; Debian: the
# postgresql package). `make test-ha` fails without them; `make test` (stage `ha`) prints a banner and goes on.
PG_BINARIES = $(BIN)/python -c 'from tests.support.postgres import find_bindir; print(find_bindir())'
BANNER = '\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#\#'

test-ha: $(BIN)/.installed $(LINK)
	@$(PG_BINARIES) >/dev/null 2>&1 || { $(PG_BINARIES) 2>&1 | tail -1; echo "make test-ha: FAILED: no PostgreSQL server binaries, the HA suite cannot run"; exit 1; }
	$(BIN)/python -m pytest -q -n 2 tests/ha

ha: $(BIN)/.installed $(LINK)
	@if $(PG_BINARIES) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory test-ha; \
	else \
		echo; echo $(BANNER); \
		echo '##  NO POSTGRESQL SERVER BINARIES: THE HA SUITE (tests/ha) DID NOT RUN.'; \
		echo '##  Agents on PostgreSQL (leases, fencing, failover, tenants on one database) are UNTESTED here.'; \
		echo '##  Debian: apt-get install postgresql (or SIGNL4_TEST_PG_BIN=<bin dir>); then make test-ha.'; \
		echo $(BANNER); echo; \
	fi

# The sync agent as one zipapp (agent/ + plugins/module_utils); run it in a venv holding agent/requirements.txt.
.PHONY: agent
agent: $(BIN)/.installed
	$(BIN)/python agent/build_zipapp.py build/signl4-agent.pyz

# The sync_agent role's molecule scenario (extensions/molecule/default): converge into a sandbox, idempotence,
# verify with a one-shot agent run against the emulators. Its state (MOLECULE_EPHEMERAL_DIRECTORY) is kept under
# build/, not in ~/.ansible/tmp.
molecule: $(BIN)/.installed $(LINK)
	MOLECULE_EPHEMERAL_DIRECTORY=$(abspath build/molecule/default) $(BIN)/molecule test

$(CORE216_VENV)/bin/.installed: requirements.txt
	test -x $(CORE216_VENV)/bin/python || $(PYTHON) -m venv $(CORE216_VENV)
	$(CORE216_VENV)/bin/pip install -q --disable-pip-version-check $(CORE216) -r requirements.txt
	touch $@

test-core216: $(BIN)/.installed $(LINK) $(CORE216_VENV)/bin/.installed
	SIGNL4_TEST_ANSIBLE_BIN=$(abspath $(CORE216_VENV))/bin $(BIN)/python -m pytest -q -p no:xdist \
		tests/integration/test_site.py -k "first_run or never_provisioned or syntax"

sanity: $(BIN)/.installed
	mkdir -p $(SANITY_HOME)
	HOME=$(SANITY_HOME) hack/sanity.sh

lint: $(BIN)/.installed $(LINK)
	$(BIN)/ansible-lint --offline --nocolor

docs: $(BIN)/.installed
	hack/docs.sh

# Benchmarks, not part of `make test`: each script prints its figures and the conditions of the run and
# writes its own section of tests/bench/RESULTS.md. BENCH_ARGS=--quick makes every script do a short smoke run.
# ha_bench (and ha_chaos below) need PostgreSQL's server binaries, as make test-ha does.
BENCH_ARGS ?=
bench: $(BIN)/.installed $(LINK)
	$(BIN)/python -m tests.bench.provisioning $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.agent_latency $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.agent_load $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.ha_bench $(BENCH_ARGS)

# The reliability and security suite (issue 12): kill -9 and faults during a sync, 10,000 malformed requests
# and broken configs, every secret searched for after runs at maximum verbosity; then issue 18's attacks on the
# agent and the modules, each shown refused; then three agents on one PostgreSQL through kills, pauses, database
# restarts and a cut link (issue 21). Exits non-zero on any loss, an attack not refused or a fenced agent's call.
chaos: $(BIN)/.installed $(LINK)
	$(BIN)/python -m tests.bench.chaos $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.fuzz_agent $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.secrets_scan $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.security $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.ha_chaos $(BENCH_ARGS)

# A release's changelog from the fragments, on a scratch copy so the checkout keeps its fragments.
changelog: $(BIN)/.installed
	hack/changelog.sh

clean:
	rm -rf build .pytest_cache tests/output
