"""Conditional GET for API lists a phone polls: the answer carries an `ETag`, and a request whose
`If-None-Match` names it gets 304 with no body. The tag is a hash of the rendered JSON, so it is exact
(any change in the rows, their order or the page changes it); it saves the transfer and the phone's
parsing, not the server's query."""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from rest_framework.request import Request


class ConditionalGetMixin:
    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        response.render()
        response["ETag"] = f'"{hashlib.blake2b(response.content, digest_size=16).hexdigest()}"'
        # Private (per user) and always revalidated: a cache may keep it, but must ask with the ETag.
        patch_cache_control(response, private=True, no_cache=True)
        patch_vary_headers(response, ["Authorization", "Cookie"])
        return get_conditional_response(request._request, etag=response["ETag"], response=response)
