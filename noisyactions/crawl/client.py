"""Flickr API calls the way a week-long crawl needs them: paced, retried, counted, classified.

Every call goes through the stock `flickrapi` client (format parsed-json) after the shared rate
limiter. Failures are sorted by what to do about them (the error codes of Flickr's API documentation,
flickr.com/services/api):
- transient (HTTP 429 and 5xx, codes 105/201/10, timeouts, dropped connections, truncated or
  unparsable bodies): back off and retry (RetryPolicy);
- the item is gone (codes 1, 2): `ItemUnavailable`, recorded as the video's status;
- the key is rejected (code 100): `InvalidKey`, which stops the crawl at once;
- anything else (3, 18, 111, 112, 116, ...): a bug in our request, raised as is.
"""

from __future__ import annotations

import json
import logging
from collections import Counter

import flickrapi
import requests

from noisyactions.crawl.credentials import Credentials
from noisyactions.crawl.ratelimit import RateLimiter
from noisyactions.crawl.retry import RetryPolicy

logging.getLogger("flickrapi").setLevel(logging.WARNING)  # it logs every call at INFO

TRANSIENT_CODES = {105, 201, 10}
UNAVAILABLE_CODES = {1: "not_found", 2: "permission_denied"}
TRANSIENT_ERRORS = (requests.exceptions.Timeout, requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError, json.JSONDecodeError)


class InvalidKey(RuntimeError):
    """Flickr rejected the API key (code 100): nothing more can be fetched with it."""


class ItemUnavailable(Exception):
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


def http_status_reason(status: int) -> str | None:
    return f"http {status}" if status == 429 or 500 <= status < 600 else None


def transient_reason(error: Exception) -> str | None:
    """Why a failed call is worth retrying, or None when it is not."""
    if isinstance(error, flickrapi.FlickrError):
        if error.code in TRANSIENT_CODES:
            return f"code {error.code}"
        text = str(error)
        if error.code is None and "Status code" in text:
            status = text.rsplit("Status code", 1)[1].split()[0]
            return http_status_reason(int(status)) if status.isdigit() else None
        return None
    if isinstance(error, TRANSIENT_ERRORS):
        return type(error).__name__
    return None


class FlickrClient:
    def __init__(self, rest_url: str, credentials: Credentials, crawl: dict, limiter: RateLimiter | None, retry: RetryPolicy):
        self.api = flickrapi.FlickrAPI(
            credentials.key, credentials.secret, format="parsed-json", store_token=False, timeout=crawl["timeout_seconds"]
        )
        self.api.REST_URL = rest_url
        self.limiter, self.retry = limiter, retry
        self.calls: Counter[str] = Counter()

    def call(self, method: str, **params) -> dict:
        """One API call, e.g. call("flickr.photos.search", text=...); retried while transient."""
        return self.retry.run(lambda: self._attempt(method, params), transient_reason, method)

    def _attempt(self, method: str, params: dict) -> dict:
        if self.limiter is not None:
            self.limiter.acquire()
        self.calls[method] += 1
        target = self.api
        for part in method.split(".")[1:]:
            target = getattr(target, part)
        try:
            return target(**params)
        except flickrapi.FlickrError as error:
            if error.code == 100:
                raise InvalidKey(f"Flickr rejected the API key (code 100: {error}); check the key and its secret") from None
            if error.code in UNAVAILABLE_CODES:
                raise ItemUnavailable(UNAVAILABLE_CODES[error.code], str(error)) from None
            raise
