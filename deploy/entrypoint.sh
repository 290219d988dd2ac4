#!/bin/sh
# Production start: wait for the database, migrate, refuse unsafe settings, then serve.
set -eu
python manage.py wait_for_db --timeout "${DB_WAIT_SECONDS:-60}"
python manage.py migrate --noinput
# --database runs the checks that read the database (the demo password refusal among them).
python manage.py check --deploy --database default --fail-level ERROR
# Threads: DICOMweb requests mostly wait on Orthanc while streaming; the viewer sends many.
exec gunicorn portal.wsgi:application --bind 0.0.0.0:8000 --workers "${GUNICORN_WORKERS:-3}" \
    --threads "${GUNICORN_THREADS:-6}" --timeout 300 --access-logfile -
