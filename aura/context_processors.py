from django.conf import settings
from django.http import HttpRequest


def live(request: HttpRequest) -> dict:
    """What live pages' script needs from the server's settings."""
    return {"live_heartbeat_seconds": settings.LIVE_HEARTBEAT_SECONDS}
