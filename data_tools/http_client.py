"""A polite HTTP client for the painting sources: one request at a time per host, a minimum
interval between requests, retries with exponential backoff, `Retry-After` honoured, a
timeout on every request, and a descriptive User-Agent.

Transport failures, 429 and 5xx answers are retried by urllib3's own `Retry` machinery
(mounted on a `requests.Session`). Two things urllib3 cannot see are handled here: MediaWiki's
`maxlag` answer (an error inside a JSON body, with a `Retry-After` header) and a body cut off
mid-download. Wikimedia asks for a User-Agent naming the tool and a contact (and may refuse
requests without one, 403); the contact is the user's own (`--contact`, the sources config or
PAINTERLY_VAE_CONTACT), never an invented one: without it the User-Agent names only the tool.

A host that cannot be reached at all (its name does not resolve, the connection is refused,
no route) is not retried: that is not a busy server but a wrong address or no network, and
`RequestFailed.cannot_connect` lets the caller stop at once instead of waiting out backoffs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError
from urllib3.util.retry import Retry

from data_tools.distribution import VERSION

RETRIED_STATUSES = (429, 500, 502, 503, 504)


CONTACT_ENVIRONMENT = "PAINTERLY_VAE_CONTACT"


class RequestFailed(Exception):
    """A request that still failed after every retry; `reason` is short and countable;
    `cannot_connect` when the host could not be reached at all (not retried)."""

    def __init__(self, url: str, reason: str, cannot_connect: bool = False) -> None:
        super().__init__(f"{reason}: {url}")
        self.url = url
        self.reason = reason
        self.cannot_connect = cannot_connect


@dataclass(frozen=True)
class HttpSettings:
    """Politeness and robustness knobs (seconds unless said otherwise)."""

    min_interval: float = 1.0  # between two requests to the same host
    timeout: float = 30.0  # to connect, and between bytes of the answer
    retries: int = 5
    backoff: float = 2.0  # first retry waits this long, doubling each time (at least min_interval)
    max_backoff: float = 120.0
    max_retry_after: float = 300.0  # a longer Retry-After is cut to this
    maxlag_wait: float = 5.0  # least wait after a MediaWiki maxlag answer
    max_bytes: int = 60_000_000  # an image larger than this is refused
    contact: str = ""  # the user's URL or e-mail; empty = none given (see module docstring)

    @property
    def user_agent(self) -> str:
        contact = f" ({self.contact.strip()})" if self.contact.strip() else ""
        return f"painterly-vae/{VERSION}{contact} requests/{requests.__version__}"


class _CappedRetry(Retry):
    """urllib3's Retry, with `Retry-After` values capped so a server cannot park us for hours."""

    def __init__(self, *args: Any, max_retry_after: float = 300.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_retry_after = max_retry_after

    def new(self, **kwargs: Any) -> "_CappedRetry":
        retry = super().new(**kwargs)
        retry.max_retry_after = self.max_retry_after
        return retry

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), self.max_retry_after)

    def increment(self, method: str | None = None, url: str | None = None, *args: Any, **kwargs: Any) -> "_CappedRetry":
        error = kwargs.get("error")
        if isinstance(error, NewConnectionError):  # no such host, refused, no route: retrying will not help
            raise MaxRetryError(kwargs.get("_pool"), url or "", error)  # what urllib3 raises when retries run out
        return super().increment(method, url, *args, **kwargs)


class PoliteSession:
    """GETs with throttling per host and retries; raises `RequestFailed` when all retries fail."""

    def __init__(self, settings: HttpSettings = HttpSettings(), headers: dict[str, str] | None = None) -> None:
        self.settings = settings
        retry = _CappedRetry(
            total=settings.retries,
            connect=settings.retries,
            read=settings.retries,
            status=settings.retries,
            other=0,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRIED_STATUSES,
            backoff_factor=max(settings.backoff, settings.min_interval),
            backoff_max=settings.max_backoff,
            respect_retry_after_header=True,
            raise_on_status=False,
            max_retry_after=settings.max_retry_after,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=1)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": settings.user_agent, **(headers or {})})
        self._lock = threading.Lock()
        self._next_request: dict[str, float] = {}
        self.requests_made = 0

    def close(self) -> None:
        self.session.close()

    def _wait_turn(self, url: str) -> None:
        host = urlsplit(url).netloc
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_request.get(host, now))
            self._next_request[host] = start + self.settings.min_interval
        if start > now:
            time.sleep(start - now)

    def get(self, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
            stream: bool = False) -> requests.Response:
        self._wait_turn(url)
        self.requests_made += 1
        try:
            response = self.session.get(url, params=params, headers=headers, stream=stream,
                                        timeout=(self.settings.timeout, self.settings.timeout))
        except requests.exceptions.Timeout:
            raise RequestFailed(url, "timeout") from None
        except requests.exceptions.RetryError:
            raise RequestFailed(url, "too many retries") from None
        except requests.exceptions.ConnectionError as error:
            reason, cannot_connect = _connection_failure(error)
            raise RequestFailed(url, reason, cannot_connect) from None
        except requests.exceptions.RequestException as error:
            raise RequestFailed(url, f"request error ({type(error).__name__})") from None
        if response.status_code >= 400:
            response.close()
            raise RequestFailed(url, f"HTTP {response.status_code}")
        return response

    def get_json(self, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Any:
        """A JSON answer; MediaWiki `maxlag` errors are waited out and retried."""
        for attempt in range(self.settings.retries + 1):
            response = self.get(url, params=params, headers=headers)
            try:
                data = response.json()
            except ValueError:
                raise RequestFailed(url, "answer is not JSON") from None
            error = data.get("error") if isinstance(data, dict) else None
            if not (isinstance(error, dict) and error.get("code") == "maxlag"):
                return data
            if attempt == self.settings.retries:
                break
            wait = self.settings.maxlag_wait
            try:
                wait = max(wait, float(response.headers.get("Retry-After", 0)))
            except ValueError:
                pass
            time.sleep(min(wait, self.settings.max_retry_after))
        raise RequestFailed(url, "server lagging (maxlag)")

    def get_bytes(self, url: str, headers: dict[str, str] | None = None) -> tuple[bytes, str]:
        """The body and its Content-Type; a body cut off mid-way is retried like a failed request."""
        for attempt in range(self.settings.retries + 1):
            response = self.get(url, headers=headers, stream=True)
            try:
                declared = int(response.headers.get("Content-Length", 0) or 0)
                if declared > self.settings.max_bytes:
                    raise RequestFailed(url, "too large")
                chunks, size = [], 0
                for chunk in response.iter_content(chunk_size=65536):
                    size += len(chunk)
                    if size > self.settings.max_bytes:
                        raise RequestFailed(url, "too large")
                    chunks.append(chunk)
                return b"".join(chunks), response.headers.get("Content-Type", "")
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError,
                    requests.exceptions.Timeout):
                if attempt == self.settings.retries:
                    raise RequestFailed(url, "download interrupted") from None
                time.sleep(min(self.settings.backoff * 2**attempt, self.settings.max_backoff))
            finally:
                response.close()
        raise AssertionError("unreachable")


def _connection_failure(error: Exception) -> tuple[str, bool]:
    """A countable reason for a connection-level failure, and whether the host could not be
    reached at all (requests folds read timeouts that outlived their retries into ConnectionError)."""
    text = str(error).lower()
    if "failed to establish a new connection" in text or "failed to resolve" in text:  # urllib3's NewConnectionError
        if "resolve" in text or "name or service" in text or "nodename" in text:
            return "cannot connect: host not found", True
        if "refused" in text:
            return "cannot connect: connection refused", True
        return "cannot connect: no route to the host", True
    if "timed out" in text:
        return "timeout", False
    return "connection error", False
