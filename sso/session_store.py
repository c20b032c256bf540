"""Database sessions that cost one INSERT at sign-in, not an existence check, INSERT and UPDATE.

Django's `login()` cycles the session key to stop session fixation; for a browser without a
stored session, `cycle_key()` creates a row at once and the response saves it again. Here a
new session gets its (fresh, random) key when it is first saved, a key collision is caught by
the primary key (as Django's `create()` already handles) instead of being looked up first,
and saving a session whose data is what was last written is a no-op, so a view may save it
inside its own transaction without the response writing it a second time. A browser that has
a stored session still gets a new key at sign-in, as with Django's store.
"""

from __future__ import annotations

import base64
import os

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    _written: bytes | None = None

    def cycle_key(self) -> None:
        if self.session_key is None:
            self.modified = True  # saved, under a new key, when it is first saved
            return
        super().cycle_key()

    async def acycle_key(self) -> None:
        if self.session_key is None:
            self.modified = True
            return
        await super().acycle_key()

    def save(self, must_create: bool = False) -> None:
        serialized = self.serializer().dumps(self._get_session(no_load=must_create))
        if not must_create and self.session_key is not None and serialized == self._written:
            return
        super().save(must_create=must_create)
        self._written = serialized

    def _get_new_session_key(self) -> str:
        # 160 random bits as 32 characters of base32 (a-z, 2-7: valid key characters), drawn
        # at once rather than per character; a collision is refused by the primary key and
        # create() retries.
        return base64.b32encode(os.urandom(20)).decode().lower()

    async def _aget_new_session_key(self) -> str:
        return self._get_new_session_key()
