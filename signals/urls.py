from django.urls import path

from signals import views

urlpatterns = [
    path("signals/", views.signals_page, name="signals"),
]
