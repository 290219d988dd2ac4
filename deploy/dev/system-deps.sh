#!/usr/bin/env bash
# Debian packages the project needs on the machine itself. Installs what is missing when run as
# root; otherwise says exactly what to install.
set -euo pipefail

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
missing=()
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
# Browser tests drive Debian's Chromium through Playwright (no browser download).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# npm fetches the prebuilt OHIF viewer (@ohif/app).
command -v npm >/dev/null 2>&1 || missing+=(npm)
# A real Orthanc with its DICOMweb plugin, started by `make run` and by the tests.
[ -x /usr/sbin/Orthanc ] || missing+=(orthanc)
[ -f /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || missing+=(orthanc-dicomweb)
# The production topology (make stack, its end-to-end tests, make bench): Orthanc's index in
# PostgreSQL, Redis as the shared cache, Nginx (auth_request, HTTP/2) and openssl for its
# self-signed certificate. Installing Debian's nginx may start its default site on port 80.
[ -f /usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so ] || missing+=(orthanc-postgresql)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "system-deps: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "system-deps: missing Debian packages. Install them: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
