from django.urls import path

from alerts import views

urlpatterns = [
    path("settings/alerts/", views.alert_settings, name="alert_settings"),
    path("alerts/channels/", views.channels, name="alert_channels"),
    path("alerts/channels/<int:channel_id>/test/", views.channel_test, name="alert_channel_test"),
    path("alerts/channels/<int:channel_id>/link/", views.channel_link, name="alert_channel_link"),
    path("alerts/channels/<int:channel_id>/delete/", views.channel_delete, name="alert_channel_delete"),
    path("alerts/quiet-hours/", views.quiet_hours, name="alert_quiet_hours"),
    path("alerts/rules/", views.rules, name="alert_rules"),
    path("alerts/rules/<int:rule_id>/delete/", views.rule_delete, name="alert_rule_delete"),
    path("alerts/log/", views.log, name="alert_log"),
    path("alerts/notices/dismiss/", views.notices_dismiss, name="alert_notices_dismiss"),
    path("status/alerts/", views.status, name="alert_status"),
]
