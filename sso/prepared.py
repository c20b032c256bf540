"""Reads and writes on the login path whose SQL Django compiles once per process, not on every
call.

The ORM builds and compiles a query's SQL each time the query runs: for the sign-in profile read
(22 columns and a join) that is four fifths of the read, a third of a millisecond of every
login, and the SQL is the same every time but for the value looked up. A PreparedRead has the
ORM compile its query once per database alias, with a marker where the value goes, then runs
that SQL with each call's value and makes the instance as the query would have: the same
columns (the others deferred), Django's own converters, and the joined row of a foreign key
cached on the instance as `select_related` caches it. A PreparedUpdate does the same for an
`update()` (the membership's last sign-in, recorded at every login), and a PreparedInsert for
`create()` (the assertion kept against replay, the login event).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import Value, signals
from django.db.models.sql import InsertQuery, UpdateQuery
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=models.Model)

# Stands for the value while the query compiles: a string no caller passes, lower case and
# without surrounding spaces, so that a query may normalise it as it normalises an email.
MARKER = "\x00prepared-read\x00"


def _attnames(model: type[models.Model], wanted: set[str]) -> list[str]:
    """The columns of `model` to load, in its field order (as `Model.from_db` takes them): its
    primary key and the `wanted` fields, every field when none is named."""
    return [
        field.attname
        for field in model._meta.concrete_fields
        if not wanted or field.primary_key or field.name in wanted or field.attname in wanted
    ]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    position: int  # of the value among the params
    compiler: SQLCompiler  # converts the rows, as the query's own results would be
    attnames: list[str]
    joined: list[tuple[models.ForeignKey, list[str]]]


class PreparedRead(Generic[M]):
    """`query(MARKER)` compiled once, then run as `one(value)`.

    `query` filters `model` on the value (which must reach the SQL as one parameter) and names
    no columns; `fields` are the fields to load (all when empty), and `joined` maps a non-null
    foreign key of `model` to the fields of its row to load in the same query.
    """

    def __init__(
        self,
        model: type[M],
        query: Callable[[str], models.QuerySet[M]],
        *,
        fields: Sequence[str] = (),
        joined: dict[str, Sequence[str]] | None = None,
    ) -> None:
        self.model = model
        self.query = query
        self.fields = set(fields)
        self.joined_fields = dict(joined or {})
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> _Compiled:
        compiled = self._compiled.get(alias)
        if compiled is not None:
            return compiled
        attnames = _attnames(self.model, self.fields)
        columns = list(attnames)
        joined = []
        for name, fields in self.joined_fields.items():
            foreign_key = self.model._meta.get_field(name)
            related = foreign_key.related_model
            related_attnames = _attnames(related, set(fields) | {related._meta.pk.name})
            joined.append((foreign_key, related_attnames))
            columns += [
                f"{name}__{attname}"
                for attname in related_attnames
                if attname != related._meta.pk.attname  # the foreign key's column holds it
            ]
        queryset = self.query(MARKER).using(alias).order_by().values_list(*columns)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        positions = [index for index, param in enumerate(params) if param == MARKER]
        if len(positions) != 1:
            raise ValueError(f"the value reaches the SQL {len(positions)} times, not once")
        compiled = _Compiled(sql, tuple(params), positions[0], compiler, attnames, joined)
        with self._lock:
            return self._compiled.setdefault(alias, compiled)

    def one(self, value: str, *, using: str = DEFAULT_DB_ALIAS) -> M | None:
        """The instance the query finds for `value`, or None; MultipleObjectsReturned as
        `.get()` raises it."""
        compiled = self._compile(using)
        params = list(compiled.params)
        params[compiled.position] = value
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchmany(2)
        if not rows:
            return None
        if len(rows) > 1:
            raise self.model.MultipleObjectsReturned(
                f"more than one {self.model._meta.object_name} for one prepared read"
            )
        row = iter(next(compiled.compiler.results_iter(results=[rows])))
        instance = self.model.from_db(
            using, compiled.attnames, [next(row) for _ in compiled.attnames]
        )
        for foreign_key, related_attnames in compiled.joined:
            related = foreign_key.related_model
            values = [
                getattr(instance, foreign_key.attname)
                if attname == related._meta.pk.attname
                else next(row)
                for attname in related_attnames
            ]
            foreign_key.set_cached_value(instance, related.from_db(using, related_attnames, values))
        return instance


def marker(index: int) -> Value:
    """Where the `index`th filter value of `PreparedUpdate.run` goes in its query."""
    return Value(f"\x00prepared-filter-{index}\x00")


class PreparedUpdate(Generic[M]):
    """`query().update(**values)` compiled once, then run as `run(*filter_values, **values)`.

    `query` filters `model` on `marker(0)`, `marker(1)`, ... (the filter values go to the
    database as given: primary keys, say); `fields` are the fields every run sets, each value
    prepared for the database as `update()` prepares it.
    """

    def __init__(
        self, model: type[M], query: Callable[[], models.QuerySet[M]], *, fields: Sequence[str]
    ) -> None:
        self.model = model
        self.query = query
        self.fields = tuple(fields)
        self._compiled: dict[str, tuple[str, tuple, list[int | str]]] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> tuple[str, tuple, list[int | str]]:
        compiled = self._compiled.get(alias)
        if compiled is not None:
            return compiled
        markers = {f"\x00prepared-value-{name}\x00": name for name in self.fields}
        query = self.query().using(alias).query.chain(UpdateQuery)
        query.add_update_values({name: Value(value) for value, name in markers.items()})
        sql, params = query.get_compiler(using=alias).as_sql()
        filters = {marker(index).value: index for index in range(len(params))}
        # What goes at each parameter: a field's new value (its name) or a filter value (its
        # index); constants compiled into the query stay as they are.
        slots: list[int | str] = [markers.get(param, filters.get(param, -1)) for param in params]
        if sorted(slot for slot in slots if isinstance(slot, str)) != sorted(self.fields):
            raise ValueError("each updated field must reach the SQL once")
        filtered = sorted(slot for slot in slots if isinstance(slot, int) and slot >= 0)
        if filtered != list(range(len(filtered))):
            raise ValueError("each filter value must reach the SQL once")
        compiled = (sql, tuple(params), slots)
        with self._lock:
            return self._compiled.setdefault(alias, compiled)

    def run(self, *filter_values: object, using: str = DEFAULT_DB_ALIAS, **values: object) -> int:
        """Update the rows the filter values select; returns how many it updated."""
        sql, constants, slots = self._compile(using)
        if len(filter_values) != sum(1 for slot in slots if isinstance(slot, int) and slot >= 0):
            raise TypeError("one value for each marker of the query")
        connection = connections[using]
        params = []
        for constant, slot in zip(constants, slots, strict=True):
            if isinstance(slot, str):
                field = self.model._meta.get_field(slot)
                value = values[slot]
                if hasattr(value, "prepare_database_save"):
                    value = value.prepare_database_save(field)
                params.append(field.get_db_prep_save(value, connection=connection))
            elif slot >= 0:
                params.append(filter_values[slot])
            else:
                params.append(constant)
        with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount


class PreparedInsert(Generic[M]):
    """`create(**values)` as the model's manager creates a row, with its INSERT compiled once.

    The instance is made as `create()` makes it (defaults applied), each value prepared for the
    database as `save()` prepares it, `pre_save` and `post_save` sent, and the primary key read
    back with the row's RETURNING. A model with a database default or a generated field, one
    that inherits another's table, or a database that cannot return the key, is created by its
    manager instead.
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._compiled: dict[str, tuple[str, list[models.Field]] | None] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> tuple[str, list[models.Field]] | None:
        if alias in self._compiled:
            return self._compiled[alias]
        meta = self.model._meta
        fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
        plain = (
            meta.auto_field is not None
            and meta.local_concrete_fields == meta.concrete_fields
            and not any(field.has_db_default() or field.generated for field in fields)
            and connections[alias].features.can_return_columns_from_insert
        )
        compiled = None
        if plain:
            query = InsertQuery(self.model)
            query.insert_values(fields, [self.model()])
            compiler = query.get_compiler(using=alias)
            compiler.returning_fields = [meta.auto_field]
            [(sql, params)] = compiler.as_sql()
            if len(params) == len(fields):
                compiled = (sql, fields)
        with self._lock:
            return self._compiled.setdefault(alias, compiled)

    def create(self, *, using: str = DEFAULT_DB_ALIAS, **values: object) -> M:
        compiled = self._compile(using)
        if compiled is None:
            return self.model._default_manager.using(using).create(**values)
        sql, fields = compiled
        connection = connections[using]
        instance = self.model(**values)
        signals.pre_save.send(
            sender=self.model, instance=instance, raw=False, using=using, update_fields=None
        )
        params = [
            field.get_db_prep_save(field.pre_save(instance, True), connection=connection)
            for field in fields
        ]
        with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
            cursor.execute(sql, params)
            (key,) = cursor.fetchone()
        instance.pk = key
        instance._state.adding = False
        instance._state.db = using
        signals.post_save.send(
            sender=self.model,
            instance=instance,
            created=True,
            update_fields=None,
            raw=False,
            using=using,
        )
        return instance
