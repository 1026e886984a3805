"""The bundled example plans (Alingsås, Vård- och omsorgsnämnden 2020 and 2024).

Their source is JSON under ``templates/src/`` (transcribed from the seed
documents, see ``docs/example-plans.md``); the plan workbooks under
``templates/`` are built from it by :func:`build_example_plans` and committed.
"""

from __future__ import annotations

from pathlib import Path

from xlplan.books.plan import load_tables_json, write_plan_tables

EXAMPLES = ("alingsas-von-2020", "alingsas-von-2024")


def templates_dir() -> Path:
    """``templates/``: in the repository (editable install, tests), else the copy in the wheel."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "templates" / "src").is_dir():
            return parent / "templates"
    shipped = here.parent / "data" / "templates"
    if (shipped / "src").is_dir():
        return shipped
    raise FileNotFoundError("Mappen templates/ med exempelplanerna hittades inte. Installera om xlplan.")


def in_repository() -> bool:
    """True when running from a checkout of the repository (not from an installed wheel)."""
    return templates_dir().parent.joinpath("pyproject.toml").is_file()


def example_plan_path(name: str = "alingsas-von-2024") -> Path:
    return templates_dir() / f"{name}.xlsx"


def demo_plan_path(name: str, out: Path) -> Path:
    """The plan ``xlplan demo`` works with: its copy in ``out/planer/`` (written by the demo's fill step,
    with the demo's additions: example personnel targets, made-up exports) or, without one, the bundled plan."""
    copy = Path(out) / "planer" / f"{name}.xlsx"
    return copy if copy.exists() else example_plan_path(name)


def build_example_plans(out_dir: Path | None = None) -> list[Path]:
    """(Re)write every example plan workbook from its JSON source."""
    out_dir = out_dir or templates_dir()
    written = []
    for name in EXAMPLES:
        src = templates_dir() / "src" / f"{name}.json"
        if not src.exists():
            continue
        out = out_dir / f"{name}.xlsx"
        write_plan_tables(load_tables_json(src), out)
        written.append(out)
    return written
