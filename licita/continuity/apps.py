from django.apps import AppConfig


class ContinuityConfig(AppConfig):
    name = "licita.continuity"
    label = "continuity"
    verbose_name = "Continuidad / Continuity"
