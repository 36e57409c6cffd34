from django.apps import AppConfig


class PublicationConfig(AppConfig):
    name = "licita.publication"
    label = "publication"
    verbose_name = "Publicación (OCDS)"
