#!/bin/sh
# Production start: wait for the database, migrate, refuse unsafe settings, then serve.
set -eu
python manage.py wait_for_db --timeout "${DB_WAIT_SECONDS:-60}"
python manage.py migrate --noinput
# The demo account and patients only where explicitly allowed (a trial, never production).
if [ "${ALLOW_DEMO_DATA:-false}" = true ]; then
    python manage.py seed_demo
fi
# --database runs the checks that read the database (the demo password refusal among them).
python manage.py check --deploy --database default --fail-level ERROR
# Workers, threads and timeouts: deploy/gunicorn.conf.py (each from the environment).
exec gunicorn --config deploy/gunicorn.conf.py portal.wsgi:application
