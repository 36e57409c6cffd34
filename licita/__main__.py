"""The `licita` console command, equivalent to `manage.py`."""

import os
import sys


def main() -> None:
    """Run a Django management command with Licita's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "licita.settings")
    from django.core.management import execute_from_command_line  # noqa: PLC0415

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
