"""A batch made to fit a managed table's column types, only when no stored value changes.

A managed table's column has one type. A batch column of another type is converted
to it only when the conversion is lossless, checked on the values that will be
stored (Arrow's safe casts, plus a round trip where a safe cast can still round):

- ``reject`` (the default policy): widening within a family only: a narrower
  integer into a wider one or into a float (every value exactly representable), a
  float into a wider float, a date into a timestamp, a timestamp into a finer unit, one
  string or binary layout into another.
- ``cast``: also narrowing within numbers and times: a float into an integer, a
  wider integer into a narrower one, a timestamp into a date; still only when every
  value converts exactly (``2.0`` into ``2``, never ``1.7`` into ``1``).

Any other change (a float where the table has integers under ``reject``, a string,
a boolean or a time where it has numbers) is a one-line :class:`ConfigError`
naming the column, both types and the fix. New columns pass unchanged (they widen
the table); a column of NULLs only takes the table's type. Delta Lake stores timestamps
to the microsecond: nanosecond timestamps lose their last three digits, as with every
Delta writer, before the checks run (so they judge the stored value).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ConfigError

POLICIES = ("reject", "cast")


def _family(t: pa.DataType) -> str:
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return "binary"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    return str(t)


_WIDENING = {("integer", "integer"), ("integer", "float"), ("float", "float"),
             ("integer", "decimal"), ("decimal", "decimal"), ("date", "timestamp"),
             ("timestamp", "timestamp"), ("string", "string"), ("binary", "binary")}
_NARROWING = {("float", "integer"), ("decimal", "integer"), ("float", "decimal"),
              ("decimal", "float"), ("timestamp", "date")}


def _same(a: pa.DataType, b: pa.DataType) -> bool:
    """Equal, or the same values in another layout (Delta reads strings back as ``string``
    however they were written)."""
    return a == b or (_family(a) == _family(b) in ("string", "binary"))


def storable(t: pa.DataType) -> pa.DataType:
    """The type Delta Lake stores a column of type ``t`` as (nanoseconds become micro)."""
    if pa.types.is_timestamp(t) and t.unit == "ns":
        return pa.timestamp("us", t.tz)
    return t


def conform(batch: pa.Table, schema: pa.Schema | None, *, policy: str = "reject",
            table: str = "") -> pa.Table:
    """``batch`` with each column in the type ``schema`` (the table's) gives it, or the
    type Delta stores; raises :class:`ConfigError` rather than change a value."""
    if policy not in POLICIES:
        raise ConfigError(f"on_type_change {policy!r} is not one of {', '.join(POLICIES)}")
    out = batch
    for i, name in enumerate(batch.column_names):
        column = batch.column(i)
        source = column.type
        known = schema is not None and name in schema.names
        target = schema.field(name).type if known else storable(source)
        if _same(source, target):
            continue
        if pa.types.is_null(source):  # only NULLs (an empty or all-missing column): no value
            out = out.set_column(i, name, pc.cast(column, target))
            continue
        pair = (_family(source), _family(target))
        where = (f"managed table {table!r}: column {name!r} is {target} in the table but "
                 f"{source} in the batch")
        if (known and pair in _NARROWING and policy == "reject"):
            raise ConfigError(f"{where}; converting it could change values: fix the batch's "
                              "type, or declare on_type_change: cast to convert values that "
                              "fit exactly")
        if pair == ("timestamp", "timestamp") and source.tz != target.tz:
            raise ConfigError(f"{where}; their time zones differ: convert the batch's "
                              f"timestamps to {target.tz or 'naive UTC'}")
        if pair not in _WIDENING and pair not in _NARROWING:
            raise ConfigError(f"{where}; {pair[0]} values are never stored as {pair[1]} "
                              "values: fix the batch's type (or ingest into a new table)")
        if _to_microseconds(source, target):
            # Delta Lake keeps microseconds: finer digits are dropped, as every Delta writer
            # does, before the checks run, so they judge the stored value.
            out = out.set_column(i, name, pc.cast(column, target, safe=False))
            continue
        out = out.set_column(i, name, _exact(column, target, where))
    return out


def _to_microseconds(source: pa.DataType, target: pa.DataType) -> bool:
    return (pa.types.is_timestamp(source) and pa.types.is_timestamp(target)
            and source.tz == target.tz and source.unit == "ns" and target.unit == "us")


def _exact(column: pa.ChunkedArray, target: pa.DataType, where: str) -> pa.ChunkedArray:
    try:
        converted = pc.cast(column, target, safe=True)
        back = pc.cast(converted, column.type, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ConfigError(f"{where}, and not every value fits exactly "
                          f"({str(exc).splitlines()[0][:160]}): fix the batch") from None
    same = pc.or_kleene(pc.equal(back, column), _both_nan(back, column))
    differs = pc.invert(same.fill_null(True))
    if pc.any(differs).as_py():
        row = pc.index(differs, True).as_py()
        raise ConfigError(f"{where}, and row {row}'s value {column[row].as_py()!r} would be "
                          f"stored as {converted[row].as_py()!r}: fix the batch")
    return converted


def _both_nan(a: pa.ChunkedArray, b: pa.ChunkedArray):
    if pa.types.is_floating(a.type) and pa.types.is_floating(b.type):
        return pc.and_(pc.is_nan(a), pc.is_nan(b))
    return pa.scalar(False)


__all__ = ["POLICIES", "conform", "storable"]
