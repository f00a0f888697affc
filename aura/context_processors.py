from django.conf import settings
from django.http import HttpRequest


def live(request: HttpRequest) -> dict:
    """What live pages need from the server's settings: the script's heartbeat."""
    return {"live_heartbeat_seconds": settings.LIVE_HEARTBEAT_SECONDS}
