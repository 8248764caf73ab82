# Hometime: `make run` starts everything on this machine; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test bench rehearsal install clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Hometime needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(STAMP)

run: $(STAMP)
	$(PY) -m app.devrun

test: $(STAMP)
	@if [ -x "$(CHROMIUM)" ]; then \
		echo "Browser tests: running with $(CHROMIUM)"; \
		$(PY) -m pytest $(PYTEST_ARGS); \
	else \
		echo "Browser tests: NOT RUN, because $(CHROMIUM) is missing (apt-get install chromium)"; \
		$(PY) -m pytest --ignore=tests/browser $(PYTEST_ARGS); \
	fi

bench: $(STAMP)
	$(PY) -m bench

# Two web hosts, a balancer, three workers, cron, PostgreSQL, Redis and SeaweedFS, with faults
# (docs/deploy.md). REHEARSAL_ARGS="--scale 1" runs the issue's full load.
rehearsal: $(STAMP)
	$(PY) -m bench.rehearsal $(REHEARSAL_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
