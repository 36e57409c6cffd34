from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "licita.api"
    label = "api"
    verbose_name = "API"
