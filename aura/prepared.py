"""Querysets whose SQL is built once per process; each run only binds its values.

Building a query's SQL — resolving filters and joins, the select list, the ordering — costs Python as
much as running the query and reading its rows (0.5–1 ms each, a dozen times per page). A page's
queries have a handful of shapes, so a `Prepared` query builds each shape once with `Bind` markers
where the values go, keeps Django's compiled SQL, and on each run clones the queryset with the values
bound into that SQL. Rows become model instances, dicts or tuples through Django's own iterables
(select_related, annotations and converters included), exactly as the queryset would give them.

    HOLDINGS = Prepared(lambda: Position.objects.filter(wallet_id=Bind("wallet", IntegerField()))...)
    positions = HOLDINGS.rows(wallet=wallet.id)

A shape is what `build` is called with (`rows(*shape, **values)`): a sort column, a direction, a page
offset. LIMIT and OFFSET are written into Django's SQL, so a slice is part of the shape.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, Expression, F, Field, Func, IntegerField, QuerySet

# Shapes kept per Prepared query; past this (many page offsets) they are all built anew.
MAX_SHAPES = 256


@dataclass(frozen=True)
class _Slot:
    name: str


class Bind(Expression):
    """A value given at each run of a Prepared query: one parameter of its compiled SQL."""

    def __init__(self, name: str, output_field: Field) -> None:
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list]:
        return "%s", [_Slot(self.name)]


class BindAny(Func):
    """`field = ANY(<a list given at each run>)`: a filter on any number of values in one SQL shape,
    where `field__in=[...]` writes one placeholder per value (`filter(BindAny("wallet_id", "wallets"))`)."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = BooleanField()

    def __init__(self, field: str, name: str, of: Field | None = None) -> None:
        super().__init__(F(field), Bind(name, ArrayField(of or IntegerField())))


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet
    compiler: Any
    sql: str  # "" when the shape can match nothing (a slice [0:0]): iterating it gives no rows
    params: tuple
    slots: frozenset[str]


class Prepared:
    """A queryset built by `build(*shape)`, compiled once per shape; `rows()` runs it with values."""

    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self.build = build
        self._shapes: dict[tuple[Hashable, ...], _Compiled] = {}
        self._lock = threading.Lock()

    def rows(self, *shape: Hashable, **values: Any) -> list:
        """What iterating the queryset gives, with `values` bound to its `Bind` markers (every one of
        them, by name; plain database values: ids, not model instances; never None)."""
        compiled = self._shapes.get(shape) or self._compile(shape)
        if not compiled.sql:
            return []
        if set(values) != compiled.slots:
            raise TypeError(f"{self.build.__qualname__} binds {sorted(compiled.slots)}, given {sorted(values)}")
        if None in values.values():
            # The ORM writes a filter on None as IS NULL; a bound NULL would match nothing.
            raise TypeError(f"{self.build.__qualname__}: None cannot be bound, given {values}")
        bound = [values[param.name] if type(param) is _Slot else param for param in compiled.params]
        run = copy.copy(compiled.compiler)
        # The compiler keeps the connection it was built with; a run uses this thread's.
        run.connection = connections[compiled.queryset.db]
        run.as_sql = lambda *args, **kwargs: (compiled.sql, bound)
        queryset = compiled.queryset._chain()
        queryset.query.get_compiler = lambda *args, **kwargs: run
        return list(queryset)

    def first(self, *shape: Hashable, **values: Any) -> Any:
        """The first row, or None (build the shape sliced to one row)."""
        found = self.rows(*shape, **values)
        return found[0] if found else None

    def _compile(self, shape: tuple[Hashable, ...]) -> _Compiled:
        queryset = self.build(*shape)
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            sql, params = "", []
        slots = frozenset(param.name for param in params if type(param) is _Slot)
        compiled = _Compiled(queryset, compiler, sql, tuple(params), slots)
        with self._lock:
            if len(self._shapes) >= MAX_SHAPES:
                self._shapes.clear()
            self._shapes[shape] = compiled
        return compiled
