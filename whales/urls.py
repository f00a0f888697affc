from django.urls import path

from whales import views
from whales.ingestion import webhooks

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("feed/", views.feed, name="feed"),
    path("wallets/<str:address>/", views.wallet_page, name="wallet"),
    path("wallets/<str:address>/live/", views.wallet_fragments, name="wallet_fragments"),
    path("wallets/<str:address>/chart/", views.wallet_chart, name="wallet_chart"),
    path("wallets/<str:address>/track/", views.track_wallet, name="track_wallet"),
    path("tokens/<str:mint>/", views.token_page, name="token"),
    path("tokens/<str:mint>/chart/", views.token_chart, name="token_chart"),
    path("positions/<int:position_id>/lots/", views.position_lots, name="position_lots"),
    path("status/", views.status, name="status"),
    path("hooks/helius/", webhooks.helius_webhook, name="helius_webhook"),
    path("hooks/helius", webhooks.helius_webhook),  # a webhook registered without the slash still lands
]
