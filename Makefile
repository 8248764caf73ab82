# Hometime: `make run` starts everything on this machine; `make test` runs the whole suite;
# `make lint` runs ruff and mypy (settings in pyproject.toml).
# The Python that .venv is made from: PYTHON when given; else the system's own /usr/bin/python3
# when it is 3.11 or newer and can make a venv (a distribution's build, compiled with profile-guided
# and link-time optimisation, as production images are); else python3 on the PATH. A Python
# compiled without them (pyenv's default build) runs the same pages about a fifth slower
# (docs/performance.md). An existing .venv is kept: `make clean` first to make it again.
SYSTEM_PYTHON := $(shell for p in /usr/bin/python3 python3; do \
	$$p -c 'import ensurepip, sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
PYTHON ?= $(firstword $(SYSTEM_PYTHON) python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
# Test processes run side by side (pytest-xdist), each with its own servers or databases
TEST_WORKERS ?= auto

.PHONY: run test lint bench rehearsal install clean translations

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Hometime needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@test -x $(PY) || { echo "Making $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# Compiled catalogs: each app/translations/<lang>/LC_MESSAGES/messages.po (and starter.po, the
# starter library's words) -> .mo, when it changes
PO := $(wildcard app/translations/*/LC_MESSAGES/messages.po)
STARTER_PO := $(wildcard app/translations/*/LC_MESSAGES/starter.po)
MO := $(PO:.po=.mo) $(STARTER_PO:.po=.mo)
%.mo: %.po $(STAMP)
	$(VENV)/bin/pybabel compile -i $< -o $@ --statistics

install: $(STAMP) $(MO)

# After changing words in the code or templates: collect them into app/translations/messages.pot
# and merge them into every language's .po file (new words arrive empty, for a translator).
# The same for the starter library (app/learning/starter_library.py): starter.pot -> starter.po.
translations: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location --sort-output -o app/translations/messages.pot .
	@for po in $(PO); do lang=$$(basename $$(dirname $$(dirname $$po))); \
		$(VENV)/bin/pybabel update -i app/translations/messages.pot -d app/translations -l $$lang --no-fuzzy-matching; done
	$(PY) -m app.learning.starter_words
	@for po in $(STARTER_PO); do lang=$$(basename $$(dirname $$(dirname $$po))); \
		$(VENV)/bin/pybabel update -D starter -i app/translations/starter.pot -d app/translations -l $$lang --no-fuzzy-matching --width 100; done
	@$(MAKE) --no-print-directory $(MO)

run: $(STAMP) $(MO)
	$(PY) -m app.devrun

test: $(STAMP) $(MO)
	@if [ -x "$(CHROMIUM)" ]; then \
		echo "Browser tests: running with $(CHROMIUM)"; \
		$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS); \
	else \
		echo "Browser tests: NOT RUN, because $(CHROMIUM) is missing (apt-get install chromium)"; \
		$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --ignore=tests/browser $(PYTEST_ARGS); \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m bench

# Two web hosts, a balancer, three workers, cron, PostgreSQL, Redis and SeaweedFS, with faults
# (docs/deploy.md). REHEARSAL_ARGS="--scale 1" runs the issue's full load.
rehearsal: $(STAMP)
	$(PY) -m bench.rehearsal $(REHEARSAL_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
