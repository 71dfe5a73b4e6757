"""Many rows in one statement: executemany through the driver, and IN lists of bounded size.

The one place that leans on a private SQLAlchemy API (``TypeEngine._cached_bind_processor``,
to convert values with each column's own type): tests/db/test_bulk.py fails loudly if it
changes, instead of every import and event batch failing in the field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.engine import Connection

__all__ = ["IN_LIST", "bulk_execute", "bulk_insert", "chunked"]

IN_LIST = 500
"""Values per ``IN (...)``: far under SQLite's 32,766 bound parameters and PostgreSQL's
65,535, small enough that each statement's plan stays cheap."""

T = TypeVar("T")


def chunked(values: Sequence[T], size: int = IN_LIST) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` values, for statements with an IN list."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def bulk_insert(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """executemany through the driver of rows given as tuples in ``columns``' order, converting
    values with each column's own type once.

    SQLAlchemy's executemany rebuilds every row's parameters through its compiler, which cost
    more than SQLite's own work in a 100,000-row import; the SQL is still compiled by
    SQLAlchemy for whichever database the URL names. Pass enums by their value: the sqlite3
    driver binds a str subclass through its slow adaptation path (0.7 µs a value).
    """
    if not rows:
        return
    compiled = (
        insert(table)
        .values({name: bindparam(name) for name in columns})
        .compile(dialect=conn.dialect)
    )
    order = list(compiled.positiontup or columns) if compiled.positional else list(columns)
    position = {name: index for index, name in enumerate(columns)}
    converters = [
        (index, convert)
        for index, name in enumerate(columns)
        if (convert := _memoized(table.c[name].type._cached_bind_processor(conn.dialect)))
    ]
    values = [_converted(row, converters) for row in rows] if converters else rows
    if compiled.positional:
        if order != list(columns):
            pick = itemgetter(*(position[name] for name in order))
            values = [pick(row) for row in values]
        conn.exec_driver_sql(str(compiled), values)
    else:
        conn.exec_driver_sql(
            str(compiled), [dict(zip(columns, row, strict=True)) for row in values]
        )


def bulk_execute(conn: Connection, statement: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """executemany of an UPDATE with plain bind values, straight through the driver.

    For statements whose parameters need no type conversion (ids, short strings, numbers);
    literal values inside the statement (a CASE's constants) keep their compiled defaults.
    """
    if not rows:
        return
    compiled = statement.compile(dialect=conn.dialect)
    defaults = {name: bind.value for name, bind in compiled.binds.items()}
    if compiled.positional:
        order = compiled.positiontup
        conn.exec_driver_sql(
            str(compiled), [tuple(row.get(k, defaults[k]) for k in order) for row in rows]
        )
    else:
        conn.exec_driver_sql(str(compiled), [{**defaults, **row} for row in rows])


def _converted(
    values: Sequence[Any], converters: list[tuple[int, Callable[[Any], Any]]]
) -> tuple[Any, ...]:
    out = list(values)
    for index, convert in converters:
        out[index] = convert(out[index])
    return tuple(out)


def _memoized(convert: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """Rows of one import share most timestamps; convert each distinct value once."""
    if convert is None:
        return None
    cache: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            result = cache[value] = convert({} if value is _EMPTY else value)
            return result
        except TypeError:  # unhashable: a dict of attributes, usually empty
            if value == {}:
                return run(_EMPTY)
            return convert(value)

    return run


_EMPTY = object()
