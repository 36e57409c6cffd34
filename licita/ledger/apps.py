from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "licita.ledger"
    label = "ledger"
    verbose_name = "Bitácora pública (Merkle)"
