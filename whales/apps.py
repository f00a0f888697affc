from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class WhalesConfig(AppConfig):
    name = "whales"

    def ready(self) -> None:
        from whales.models import TrackedWallet
        from whales.selectors import forget_wallet_tags

        # Cache upkeep only: a wallet saved with new tags (admin, CSV import) shows in the tag filter at once.
        post_save.connect(forget_wallet_tags, sender=TrackedWallet, dispatch_uid="forget_wallet_tags_on_save")
        post_delete.connect(forget_wallet_tags, sender=TrackedWallet, dispatch_uid="forget_wallet_tags_on_delete")
