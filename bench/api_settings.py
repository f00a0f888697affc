"""Settings of the Daphne process bench/api.py measures: the app's own, with every API throttle rate
raised out of the load's reach.

At the app's per-user rate (1,200/min) eight connections of one user are refused within a second,
and a 429 answered in a millisecond would pass for speed. The throttle still runs on every request
(its history read from and written to the Redis cache), as it does in production; a rate per second
keeps that history about as long as the production rate lets it grow (a second of this load's
requests against at most 1,200 entries), so the bench neither skips nor inflates its cost.
"""

from aura.settings import *  # noqa: F403
from aura.settings import REST_FRAMEWORK

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {scope: "1000000/s" for scope in REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})},
}
