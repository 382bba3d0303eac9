# CoachCRM: `make run` to try it, `make test` to test it. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test lint install check-python serve worker beat bench clean messages

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || { \
		echo "CoachCRM needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1 || echo missing). Set PYTHON=/path/to/python3.11."; exit 1; }

$(PY): | check-python
	$(PYTHON) -m venv $(VENV)

# XStatic-Bootstrap ships as a source package whose build needs pkg_resources, which new
# setuptools releases no longer have: build it against the pinned setuptools in the venv.
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check "setuptools<81" wheel
	$(PY) -m pip install --quiet --disable-pip-version-check --no-build-isolation -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	@echo "CoachCRM is at http://127.0.0.1:$(PORT)/"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

# Refresh the translation catalogs from the code (needs GNU gettext) and compile them.
messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=staticfiles --ignore=tests --ignore=bench
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
