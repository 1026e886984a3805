"""The data behind the local Kolada stand-in, built from the real sample CSVs.

The CSVs in ``xlplan/data/kolada/`` are row subsets of a 2024 scrape of
Kolada's v2 API (see the README there).  From them:

* ``datapoints_<kpi>_by_geo_year_subset.csv`` gives the ``T`` values and
  ``..._by_geo_gender_year_subset.csv`` the ``K``/``M`` values; an empty cell
  is ``value: null``; a (kpi, unit, year) absent from both files has no row.
  Nothing is invented: the samples end in 2022, so later years have no rows.
* ``kpi_metadata_v2_*.csv`` gives KPI metadata, mapped to v3 names
  (``auspices`` -> ``auspice``, ``is_divided_by_gender`` -> bool, ``definition``
  and ``ou_publication_date`` dropped).  ``publ_period`` does not exist in v2;
  the stand-in sets it to the year of ``publication_date`` (true for these
  survey KPIs, whose autumn publication covers the same year), else null.

**Stand-in only:** the municipality group :data:`STANDIN_GROUP_ID` ("Liknande
kommuner äldreomsorg, Alingsås, 2024") has as members just the sample
municipalities Linköping and Norrköping (Kolada's real group has 7 members and
its id is only inferred).  Its values are computed like Kolada's: the
unweighted mean of the members' values, ``count`` = contributing members.

All mutation goes through methods that take a lock, so tests can change values
between requests (to provoke revisions) while the server thread reads them.
"""

from __future__ import annotations

import copy
import csv
import statistics
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "data" / "kolada"
STANDIN_GROUP_ID = "G176486"
STANDIN_GROUP_TITLE = "Liknande kommuner äldreomsorg, Alingsås, 2024"
MUNICIPALITIES = {
    "0000": ("Riket", "L"),
    "0580": ("Linköping", "K"),
    "0581": ("Norrköping", "K"),
    "1489": ("Alingsås", "K"),
}
GROUP_MEMBERS = ("0580", "0581")

Key = tuple[str, str, int]  # kpi, unit, period


@dataclass
class Cell:
    value: float | None
    status: str = ""
    isdeleted: bool = False
    count: int = 1

    def to_json(self, gender: str) -> dict[str, Any]:
        return {
            "gender": gender,
            "count": self.count,
            "status": self.status,
            "value": self.value,
            "isdeleted": self.isdeleted,
        }


class StandinData:
    """Values, KPIs, units and the stand-in group, served as v3 JSON objects."""

    def __init__(self, cells: dict[Key, dict[str, Cell]], kpis: dict[str, dict[str, Any]]):
        self._cells = cells
        self._kpis = kpis
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folder: Path = SAMPLES_DIR) -> StandinData:
        return cls(_load_cells(folder), _load_kpis(folder))

    # -- mutation (tests) --------------------------------------------------------
    def set_value(
        self, kpi: str, unit: str, period: int, gender: str, value: float | None,
        *, status: str = "", isdeleted: bool = False,
    ) -> None:
        with self._lock:
            row = self._cells.setdefault((kpi, unit, period), {})
            row[gender] = Cell(value, status, isdeleted)

    def remove_row(self, kpi: str, unit: str, period: int) -> None:
        with self._lock:
            self._cells.pop((kpi, unit, period), None)

    def update_kpi(self, kpi: str, **fields: Any) -> None:
        with self._lock:
            self._kpis[kpi].update(fields)

    # -- queries ---------------------------------------------------------------------
    def data_rows(
        self, kpis: list[str] | None, units: list[str] | None, years: list[int] | None
    ) -> list[dict[str, Any]]:
        """v3 data rows for the filters (``None`` = all), sorted by kpi, unit, period."""
        with self._lock:
            cells = {k: copy.deepcopy(v) for k, v in self._cells.items()}
        cells.update(_group_cells(cells))
        keys = [
            k for k in cells
            if (kpis is None or k[0] in kpis)
            and (units is None or k[1] in units)
            and (years is None or k[2] in years)
        ]
        return [_row_json(k, cells[k]) for k in sorted(keys)]

    def kpi_objects(self, ids: list[str] | None, title: str | None) -> list[dict[str, Any]]:
        with self._lock:
            kpis = copy.deepcopy(self._kpis)
        return _select(kpis, ids, title)

    def municipality_objects(self, ids: list[str] | None, title: str | None) -> list[dict[str, Any]]:
        units = {i: {"id": i, "title": t, "type": ty} for i, (t, ty) in MUNICIPALITIES.items()}
        return _select(units, ids, title)

    def group_objects(self, ids: list[str] | None, title: str | None) -> list[dict[str, Any]]:
        members = [{"member_id": m, "member_title": MUNICIPALITIES[m][0]} for m in GROUP_MEMBERS]
        group = {"id": STANDIN_GROUP_ID, "title": STANDIN_GROUP_TITLE, "members": members}
        return _select({STANDIN_GROUP_ID: group}, ids, title)


def _select(objs: dict[str, dict[str, Any]], ids: list[str] | None, title: str | None) -> list[dict[str, Any]]:
    out = [o for i, o in sorted(objs.items()) if ids is None or i in ids]
    if title:
        out = [o for o in out if title.casefold() in str(o.get("title", "")).casefold()]
    return out


def _row_json(key: Key, genders: dict[str, Cell]) -> dict[str, Any]:
    order = [g for g in ("T", "K", "M") if g in genders]
    return {
        "kpi": key[0],
        "municipality": key[1],
        "period": key[2],
        "values": [genders[g].to_json(g) for g in order],
    }


def _group_cells(cells: dict[Key, dict[str, Cell]]) -> dict[Key, dict[str, Cell]]:
    """Group rows: unweighted mean of member values per kpi, period and gender."""
    grouped: dict[tuple[str, int], dict[str, list[float]]] = {}
    for (kpi, unit, period), genders in cells.items():
        if unit not in GROUP_MEMBERS:
            continue
        slot = grouped.setdefault((kpi, period), {})
        for gender, cell in genders.items():
            got = slot.setdefault(gender, [])
            if cell.value is not None and not cell.isdeleted:
                got.append(cell.value)
    return {
        (kpi, STANDIN_GROUP_ID, period): {
            g: Cell(statistics.fmean(vals) if vals else None, count=len(vals))
            for g, vals in genders.items()
        }
        for (kpi, period), genders in grouped.items()
    }


def _load_cells(folder: Path) -> dict[Key, dict[str, Cell]]:
    cells: dict[Key, dict[str, Cell]] = {}
    for path in sorted(folder.glob("datapoints_*_by_geo_year_subset.csv")):
        for kpi, unit, year, _g, value in _read_points(path, gendered=False):
            cells.setdefault((kpi, unit, year), {})["T"] = Cell(value)
    for path in sorted(folder.glob("datapoints_*_by_geo_gender_year_subset.csv")):
        for kpi, unit, year, gender, value in _read_points(path, gendered=True):
            cells.setdefault((kpi, unit, year), {}).setdefault(gender, Cell(value))
    return cells


def _read_points(path: Path, gendered: bool) -> Iterable[tuple[str, str, int, str, float | None]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        column = reader.fieldnames[-1] if reader.fieldnames else ""
        for rec in reader:
            text = rec[column].strip()
            gender = rec["gender"] if gendered else "T"
            yield column.upper(), rec["geo"], int(rec["year"]), gender, float(text) if text else None


def _load_kpis(folder: Path) -> dict[str, dict[str, Any]]:
    (path,) = sorted(folder.glob("kpi_metadata_*.csv"))
    with path.open(encoding="utf-8", newline="") as fh:
        return {rec["concept"]: _kpi_v3(rec) for rec in csv.DictReader(fh)}


def _kpi_v3(rec: dict[str, str]) -> dict[str, Any]:
    publication = rec["publication_date"] or None
    return {
        "id": rec["concept"],
        "title": rec["name"],
        "description": rec["description"],
        "is_divided_by_gender": rec["is_divided_by_gender"].strip() in {"1", "True", "true"},
        "municipality_type": rec["municipality_type"],
        "auspice": rec["auspices"] or None,
        "operating_area": rec["operating_area"],
        "perspective": rec["perspective"],
        "prel_publication_date": rec["prel_publication_date"] or None,
        "publication_date": publication,
        "publ_period": publication[:4] if publication else None,
        "has_ou_data": rec["has_ou_data"].strip() in {"1", "True", "true"},
    }
