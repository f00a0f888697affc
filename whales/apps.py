from django.apps import AppConfig


class WhalesConfig(AppConfig):
    name = "whales"
