"""A 64-bit hash of a whole row, in each engine's own hash function.

Duplicate rows are counted as distinct row hashes per partition: the engine keeps one
16-byte entry (partition key, hash) per distinct row instead of the row itself, and
spills past its memory limit. Two rows hash alike exactly when ``SELECT DISTINCT``
would call them equal (NULLs equal, every NaN equal, -0.0 equal to 0.0), up to a
collision chance of about n² / 2⁶⁵ for two distinct rows among n.

- DuckDB: ``hash`` of a struct of the columns (NULL- and NaN-aware, -0.0 as 0.0).
- PostgreSQL: ``hashtextextended`` of the row's text (``ROW(...)::text``), which quotes
  every field that needs it and writes NULL as nothing and an empty string as ``""``,
  so distinct rows have distinct texts; floats print their shortest exact form.
- Spark: ``xxhash64`` of a struct of the columns, each followed by its ``IS NULL`` flag
  (``xxhash64`` skips NULL fields, so without the flags ``(NULL, 1)`` and ``(1, NULL)``
  would hash alike).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

ENGINES = frozenset({"duckdb", "postgres", "pyspark"})
"""Engines whose distinct rows are counted as row hashes (``row_hash``)."""


def row_hash(backend: str, values: Sequence[ir.Value]) -> ir.IntegerValue:
    """A 64-bit integer per row of ``values`` (a backend in :data:`ENGINES`)."""
    if backend == "duckdb":
        return _struct(values).hash()
    values = [_normalized(v) for v in values]
    if backend == "postgres":
        values = [_trim_scale(v) if _unscaled_decimal(v) else v for v in values]
        return _struct(values).cast("string").hash()  # hashtextextended(text, 0)
    if backend == "pyspark":
        flagged = [x for v in values for x in (v, v.isnull())]
        row = _struct(flagged)
        return _xxhash64(row.type())(row)
    raise ValueError(f"no row hash on {backend}")


def _struct(values: Sequence[ir.Value]) -> ir.StructValue:
    # Positional names: the struct holds no user name, so none can collide.
    return ibis.struct({f"c{i}": v for i, v in enumerate(values)})


def _normalized(value: ir.Value) -> ir.Value:
    """-0.0 as 0.0 (IEEE: -0.0 + 0.0 is 0.0; NaN stays NaN), as equality sees them."""
    if value.type().is_floating():
        return value + ibis.literal(0.0, type=value.type())
    return value


def _unscaled_decimal(value: ir.Value) -> bool:
    """A PostgreSQL ``numeric`` without a declared scale, where 1.5 and 1.50 are equal
    values with different texts (a declared scale stores every value at that scale)."""
    dtype = value.type()
    return dtype.is_decimal() and dtype.scale is None


def _trim_scale_stub(value):
    """PostgreSQL's ``trim_scale`` (13 and later): 1.50 as 1.5."""


_trim_scale = ibis.udf.scalar.builtin(_trim_scale_stub, name="trim_scale",
                                      signature=((dt.Decimal(),), dt.Decimal()))


def _xxhash64(row_type: dt.Struct):
    """Spark's ``xxhash64`` for one struct argument of ``row_type``."""

    def xxhash64(row):  # the signature names the argument; Spark runs its own function
        """Spark's 64-bit xxHash of the struct's fields (NULL fields skipped)."""

    return ibis.udf.scalar.builtin(xxhash64, name="xxhash64",
                                   signature=((row_type,), dt.int64))
