from django.conf import settings
from django.http import HttpRequest

from whales.selectors import FEED_PAGE_SIZE


def live(request: HttpRequest) -> dict:
    """What live pages need from the server's settings: the script's heartbeat, the feed's page size."""
    return {"live_heartbeat_seconds": settings.LIVE_HEARTBEAT_SECONDS, "feed_page_size": FEED_PAGE_SIZE}
