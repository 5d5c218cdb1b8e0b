"""The PostgreSQL back end of the store (asyncpg), for fleets beyond one SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from roomctl.central.store import SCHEMA, Row, Stmt, Store
from roomctl.core.errors import RoomctlError

_MARK = re.compile(r"\?")


@cache
def to_pg(sql: str) -> str:
    """Rewrite ``?`` placeholders as ``$1, $2, …``."""
    counter = iter(range(1, 10_000))
    return _MARK.sub(lambda _m: f"${next(counter)}", sql)


class PostgresStore(Store):
    """asyncpg pool; the same queries as SQLite with ``$n`` placeholders."""

    def __init__(self, dsn: str, *, pool_size: int = 4) -> None:
        self.dsn = dsn
        self.pool_size = pool_size
        self._pool: Any = None

    async def open(self) -> None:
        """Connect and create the schema."""
        try:
            import asyncpg
        except ImportError:
            raise RoomctlError("the PostgreSQL store needs asyncpg (roomctl[postgres])") from None
        self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=self.pool_size)
        async with self._pool.acquire() as conn:
            await conn.execute(SCHEMA.replace("INTEGER", "BIGINT"))

    async def close(self) -> None:
        """Close the pool."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _run(self, stmts: Iterable[Stmt]) -> list[list[Row]]:
        async with self._pool.acquire() as conn, conn.transaction():
            return [[tuple(r) for r in await conn.fetch(to_pg(sql), *args)] for sql, args in stmts]

    async def _fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        async with self._pool.acquire() as conn:
            return [tuple(r) for r in await conn.fetch(to_pg(sql), *args)]
