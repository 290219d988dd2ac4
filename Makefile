# One entry point. `make run` and `make test` set everything up on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
# `make run DEMO_PATIENTS=5000` also creates that many synthetic patients (once).
DEMO_PATIENTS ?= 0

.PHONY: run test stack lint bench load install viewer system-deps messages clean

# System packages the project needs (Debian), installed when missing and we are root.
system-deps:
	@bash deploy/dev/system-deps.sh

$(VENV)/.installed: pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,dev]"
	@touch $@

install: $(VENV)/.installed

# The OHIF viewer (npm @ohif/app, pinned in orthanc_bridge/viewer/install.py), under var/ohif.
viewer: install
	$(PY) -m orthanc_bridge.viewer.install --dir var/ohif

run: install viewer
	PORTAL_ENV=development $(PY) manage.py compilemessages --ignore=.venv --ignore=var -v 0
	PORTAL_ENV=development $(PY) manage.py migrate --noinput
	PORTAL_ENV=development $(PY) manage.py seed_demo --patients $(DEMO_PATIENTS)
	@echo "Preview DICOM on http://$(HOST):$(PORT)/  (demo account: admin@imagine.fr / Admin123!)"
	PORTAL_ENV=development $(PY) -m devtools.local_server --dir var/orthanc \
		--beside '$(PY) manage.py orthanc_sync --follow' -- \
		sh -c '$(PY) manage.py load_demo_study && exec $(PY) manage.py runserver $(HOST):$(PORT)'


# The production topology without Docker, on loopback (README, "The stack"): HTTPS on
# STACK_HTTPS_PORT (8443), redirecting HTTP on STACK_HTTP_PORT (8080), C-STORE on
# ORTHANC_DICOM_PORT (4242), WEB_REPLICAS gunicorn instances (2); data under var/stack.
stack: install viewer
	PORTAL_ENV=development $(PY) manage.py compilemessages --ignore=.venv --ignore=var -v 0
	$(PY) -m devtools.stack --dir var/stack

test: install viewer
	$(PY) -m devtools.axe --dir var/axe
	PORTAL_ENV=development $(PY) manage.py compilemessages --ignore=.venv --ignore=var -v 0
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	bash deploy/dev/with-postgres.sh $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PORTAL_ENV=development $(VENV)/bin/mypy .

# Speed and memory figures on a throwaway PostgreSQL: DICOM upload and DICOMweb through the
# portal against Orthanc directly; the studies panel; the patient list at 1,000 and 100,000;
# searches (QIDO) and the study index at 1,000 and 20,000 studies; the stack's image path through
# Nginx against the seed's unchecked path.
bench: install viewer
	PORTAL_ENV=development bash deploy/dev/with-postgres.sh bash -c \
		'$(PY) manage.py migrate --noinput -v 0 && $(PY) manage.py bench_upload \
		 && $(PY) manage.py bench_dicomweb && $(PY) manage.py bench_patients \
		 && $(PY) manage.py bench_qido && $(PY) manage.py bench_worklist && $(PY) manage.py bench_stack'

# 50 viewers and 20 staff against a stack of its own (HTTPS through Nginx) for LOAD_SECONDS:
# requests per second, p50/p95/p99 per kind, errors and each process's memory beside the goals;
# exits non-zero on any error. The command runs no query of its own: no throwaway PostgreSQL.
LOAD_SECONDS ?= 60
load: install viewer
	PORTAL_ENV=development $(PY) manage.py compilemessages --ignore=.venv --ignore=var -v 0
	LOAD_SECONDS=$(LOAD_SECONDS) PORTAL_ENV=development $(PY) manage.py load

# Catalogs: edit locale/*/LC_MESSAGES/django.po, then compile (needs gettext's msgfmt).
messages: install
	PORTAL_ENV=development $(PY) manage.py makemessages -l fr -l en -e html,txt,py,js --ignore=.venv --ignore=var --ignore=static
	PORTAL_ENV=development $(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var
