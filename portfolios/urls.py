from django.urls import path

from portfolios import views

urlpatterns = [
    path("wallets/<str:address>/follow/", views.follow, name="follow"),
    path("following/", views.following, name="following"),
]
