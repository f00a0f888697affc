"""Settings of the Daphne process the schemathesis test fuzzes: the app's own, with the rate limits and the
login lockout out of its reach (they have tests of their own) and a fast password hasher (each fuzzed
sign-in checks a password; the production hasher is slow on purpose)."""

from aura.settings import *  # noqa: F403
from aura.settings import REST_FRAMEWORK

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {scope: "1000000/s" for scope in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]},
}
LOGIN_FAILURES_PER_IP = LOGIN_FAILURES_PER_USERNAME = "1000000/s"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
