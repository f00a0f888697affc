from django.urls import path

from whales import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
