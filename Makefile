# CoachCRM: `make run` to try it, `make test` to test it. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed
LOCK := requirements.lock
BUILD_LOCK := requirements-build.lock
LOCK_TOOLS := $(VENV)/lock-tools
PIP_COMPILE := $(LOCK_TOOLS)/bin/pip-compile
PIP_TOOLS_VERSION := 7.6.2
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links

.PHONY: run test lint install lock check-python serve worker beat bench clean messages

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || { \
		echo "CoachCRM needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1 || echo missing). Set PYTHON=/path/to/python3.11."; exit 1; }

$(PY): | check-python
	$(PYTHON) -m venv $(VENV)

# Installs come from the lock files (exact versions with hashes; `make lock` writes them from the
# ranges in requirements*.txt). XStatic-Bootstrap ships as a source package whose build needs
# pkg_resources, which new setuptools releases no longer have: pip, setuptools and wheel come
# first from their own lock, and the rest is built against them.
$(STAMP): $(BUILD_LOCK) $(LOCK) | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r $(BUILD_LOCK)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-build-isolation -r $(LOCK)
	touch $(STAMP)

install: $(STAMP)

# Refresh the locks from the ranges: `make lock` keeps every pin that still fits them,
# `make lock LOCK_ARGS=--upgrade` takes the newest releases, LOCK_ARGS="-P django" one package.
# pip-compile runs from a venv of its own, so that .venv holds exactly what the locks list. The
# build lock takes the main lock's pins of what they share (kombu[redis] pins packaging, wheel needs it).
$(PIP_COMPILE): | check-python
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "pip-tools==$(PIP_TOOLS_VERSION)"

lock: export CUSTOM_COMPILE_COMMAND := make lock
lock: | $(PIP_COMPILE)
	$(PIP_COMPILE) $(LOCK_FLAGS) $(LOCK_ARGS) -c requirements-build.txt -o $(LOCK) requirements-dev.txt
	$(PIP_COMPILE) $(LOCK_FLAGS) $(LOCK_ARGS) -c $(LOCK) -o $(BUILD_LOCK) requirements-build.txt

run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	@echo "CoachCRM is at http://127.0.0.1:$(PORT)/"
	SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports --no-cache

# Refresh the translation catalogs from the code (needs GNU gettext) and compile them.
messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

# Production shape, for trying it locally: gunicorn, a Celery worker and beat.
serve: install
	$(PY) manage.py collectstatic --no-input -v0
	$(VENV)/bin/gunicorn coachcrm.wsgi --bind 127.0.0.1:$(PORT) --workers 2

worker: install
	$(VENV)/bin/celery -A coachcrm worker --loglevel=info

beat: install
	$(VENV)/bin/celery -A coachcrm beat --loglevel=info

# The scale benchmark: PostgreSQL from DATABASE_URL; prints JSON and writes bench/results.json.
bench: install
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
