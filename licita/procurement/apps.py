from django.apps import AppConfig


class ProcurementConfig(AppConfig):
    name = "licita.procurement"
    label = "procurement"
    verbose_name = "Contrataciones"
