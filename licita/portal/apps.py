from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "licita.portal"
    verbose_name = "Portal"
