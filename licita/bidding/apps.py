from django.apps import AppConfig


class BiddingConfig(AppConfig):
    name = "licita.bidding"
    label = "bidding"
    verbose_name = "Proposiciones"
