from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "licita.core"
    label = "core"
    verbose_name = "Licita core"

    def ready(self) -> None:
        """Make sure the local data folder exists before SQLite or the document store need it."""
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
