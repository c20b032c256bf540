"""Failures of what the product stands on (the shared cache, the database), told apart from bugs.

They answer 503 with the product's own page and are logged at error with one marker,
`infrastructure_unavailable`, and the component, so that alerting can match them. Nothing is
remembered about a failure: the next request tries Redis or the database again, so sign-in
recovers by itself when they return.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

MARKER = "infrastructure_unavailable"
# redis-py's errors for a server that is down, unreachable, loading or too slow (Django's
# Redis cache lets them through); Django's wrappers of the database driver's.
CACHE_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)
DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
INFRASTRUCTURE_ERRORS = CACHE_ERRORS + DATABASE_ERRORS


def infrastructure_component(error: BaseException) -> str:
    return "cache" if isinstance(error, CACHE_ERRORS) else "database"


def infrastructure_unavailable_log(*, error: BaseException, where: str) -> None:
    component = infrastructure_component(error)
    logger.error(
        "%s component=%s where=%s error=%s",
        MARKER,
        component,
        where,
        type(error).__name__,
        exc_info=error,
        extra={"marker": MARKER, "component": component},
    )
