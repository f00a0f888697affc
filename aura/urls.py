from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from aura import views
from aura.lockout import LockoutAdminAuthenticationForm, LockoutAuthenticationForm, answers_locked_out

# Failed sign-ins are counted and, past a limit, refused (aura.lockout) on both login forms.
admin.site.login_form = LockoutAdminAuthenticationForm
login_view = auth_views.LoginView.as_view(
    redirect_authenticated_user=True, authentication_form=LockoutAuthenticationForm
)

urlpatterns = [
    path("", include("whales.urls")),
    path("", include("portfolios.urls")),
    path("", include("alerts.urls")),
    path("", include("signals.urls")),
    path("healthz", views.healthz, name="healthz"),
    # Pages link the icon; this answers what a browser asks for on its own (a JSON page, an old bookmark).
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("accounts/login/", answers_locked_out(login_view), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("admin/login/", answers_locked_out(admin.site.login)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("aura.api_urls")),
    # The API's documentation pages, their scripts served from drf-spectacular-sidecar's static files (no CDN).
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html"),
        name="api-redoc",
    ),
]
