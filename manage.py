#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    # manage.py is the developer's tool: development unless told otherwise. Servers load
    # portal.wsgi/asgi, where production (and its refusal without SECRET_KEY) is the default;
    # the container sets PORTAL_ENV=production for its own manage.py calls.
    os.environ.setdefault("PORTAL_ENV", "development")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
