"""ASGI entry point: HTTP through Django, WebSockets through Channels (served by Daphne).

Helius's webhook deliveries skip Django's browser middleware (whales/ingestion/webhooks.py says why).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aura.settings")


def leave_form_bodies_to_django() -> None:
    """Under Daphne, Twisted parses every POSTed multipart body itself before the application sees it
    (Daphne never reads the result) and answers one it cannot parse — `--boundary--` alone, say — with
    a bare 400: no Content-Type, no body, so the API's JSON error never gets out. Twisted can be told
    not to parse (Daphne does not tell it); Django then parses the body and answers for itself."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # served by something else
        return
    if getattr(WebRequest, "leaves_form_bodies_to_django", False):
        return
    twisted_init = WebRequest.__init__

    def __init__(self, *args, **kwargs) -> None:
        twisted_init(self, *args, **kwargs)
        self._parsePOSTFormSubmission = False

    WebRequest.__init__ = __init__
    WebRequest.leaves_form_bodies_to_django = True


leave_form_bodies_to_django()
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry loaded above)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from aura.api_stream import ApiStreamConsumer  # noqa: E402
from aura.routing import websocket_urlpatterns  # noqa: E402
from whales.ingestion.webhooks import helius_webhook_asgi  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": URLRouter(
            [
                path("hooks/helius/", helius_webhook_asgi),
                path("hooks/helius", helius_webhook_asgi),
                re_path(r"", django_asgi_app),
            ]
        ),
        "websocket": URLRouter(
            [
                # The API's socket reads no cookie (a JWT authenticates it), so any origin may open it: a
                # phone sends none. The pages' socket is signed in by its cookie: only our own origins.
                path("ws/api/v1/", ApiStreamConsumer.as_asgi()),
                re_path(r"", AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))),
            ]
        ),
    }
)
