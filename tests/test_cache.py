import contextvars

from django.core.cache import caches


def connection_pool_of_a_new_request():
    """The cache's connection pool as a request served over ASGI sees it: Django keeps cache objects in
    a context-local, and each request runs in a context of its own."""

    def read():
        cache = caches["default"]
        cache.get("aura-test-cache-probe")
        return cache._cache.get_client().connection_pool

    return contextvars.Context().run(read)


def test_requests_share_the_cache_connections():
    first, second = connection_pool_of_a_new_request(), connection_pool_of_a_new_request()

    assert first is second
    assert first._created_connections == 1  # the second request took the first one's idle connection
