from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "licita.ops"
    label = "ops"
    verbose_name = "Operación / Operations"
