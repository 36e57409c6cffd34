from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "licita.accounts"
    label = "accounts"
    verbose_name = "Cuentas y organizaciones"
