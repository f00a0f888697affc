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
    first = connection_pool_of_a_new_request()
    created = first._created_connections  # earlier tests may have used the process's pool already
    second = connection_pool_of_a_new_request()

    assert second is first
    assert second._created_connections == created  # the second request took an idle connection
