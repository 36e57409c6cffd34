from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "licita.documents"
    label = "documents"
    verbose_name = "Documentos"
