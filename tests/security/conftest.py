"""The HTTP and casting test fixtures (real app, real sockets) shared with the security tests."""

from tests.casting.conftest import cast_room  # noqa: F401
from tests.http.conftest import client, clock, make_room, room  # noqa: F401
