"""The ``xlplan`` command line: a thin face over the library.

Each command parses arguments, calls one library function, prints, and maps
library errors to exit codes: 0 done, 1 done with problems (a file skipped or not
written; with ``--strict`` also something flagged), 2 could not run (bad input, or an
unexpected error: a Swedish message on stderr, the traceback in the log file it names).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from xlplan.core.errors import KOLADA_DOWN, XlplanError, blocking, fix_lines, report_unexpected
from xlplan.core.naming import CONTROLLER_WORKBOOK, committee_file


class XlplanGroup(TyperGroup):
    """Maps library errors to exit code 2 with the Swedish message on stderr, for every command."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except XlplanError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except Exception as exc:  # no traceback reaches a user: a Swedish message, the traceback in the log
            command = " ".join(["xlplan", *_command_words(ctx)])
            typer.echo(report_unexpected(exc, f"Kommandot '{command}'"), err=True)
            raise typer.Exit(2) from exc

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        for param in self.get_params(ctx):
            plain_coercion(param)
        return super().parse_args(ctx, args)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None and not isinstance(command, XlplanGroup):  # a group does its own in parse_args
            for param in command.get_params(ctx):
                plain_coercion(param)
        return command


@functools.cache
def _plain_param() -> Any:
    """typer's runtime coercion for a str, Path or bool without pydantic; None for a typer without
    the 0.29 internals (its own coercion is used then)."""
    try:
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer._param_types import coerce_cli_path
    except ImportError:
        return None

    @dataclass(frozen=True)
    class PlainParam(RuntimeParam):
        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if self.annotation is str:
                return str(value)
            if self.annotation is bool:
                if isinstance(value, bool):
                    return value
                return build_runtime_param(param.type_descriptor)._coerce_value(value, param=param, ctx=ctx)
            return coerce_cli_path(Path(value), self.parameter_info, path_type=Path, param=param, ctx=ctx)

    return PlainParam


def plain_coercion(param: Any) -> None:
    """Coerce a plain ``str``, ``Path`` or ``bool`` parameter without pydantic.

    typer 0.29 checks every value through a pydantic ``TypeAdapter``, and importing
    pydantic for that costs 0.1–0.15 s CPU on every command (``plan check`` took
    0.3–0.5 s with it, 0.12–0.18 s without). A str is taken as given, a bool flag (and --help)
    as click parsed it, and a Path goes through typer's own path check
    (``coerce_cli_path``: exists, dir_okay … as declared); anything else (a bool
    given as text, int, lists) keeps typer's coercion. When typer's internals differ
    from 0.29, nothing is changed.
    """
    descriptor = getattr(param, "type_descriptor", None)
    plain = _plain_param()
    if plain is None or descriptor is None or getattr(param, "_runtime_param", True) is not None:
        return
    info = descriptor.parameter_info
    if descriptor.annotation not in (str, Path, bool) or getattr(info, "parser", True) is not None or descriptor.is_file:
        return
    if descriptor.annotation is str and getattr(info, "path_type", None) is not None:
        return
    param._runtime_param = plain(parameter_info=info, annotation=descriptor.annotation)


def _command_words(ctx: Any) -> list[str]:
    """The subcommand's name(s) from the group's context, for messages."""
    words = [ctx.info_name] if ctx.info_name and ctx.parent is not None else []
    sub = getattr(ctx, "invoked_subcommand", None)
    return words + ([sub] if sub else [])


app = typer.Typer(
    cls=XlplanGroup,
    add_completion=False,
    no_args_is_help=True,
    help="xlplan: uppföljning av nämndens plan — fyll, hämta, flagga, sammanställ, exportera.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
plan_app = typer.Typer(cls=XlplanGroup, no_args_is_help=True, help="Kontrollera en plan.", rich_markup_mode=None)
app.add_typer(plan_app, name="plan")


def fail(message: str, code: int = 2) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@plan_app.command("check")
def plan_check(
    plan: Path = typer.Argument(..., help="Planens arbetsbok (.xlsx)."),
    as_json: bool = typer.Option(False, "--json", help="Skriv resultatet som JSON."),
    kolada_url: str | None = typer.Option(None, "--kolada-url", help="Koladas bas-URL för förslag på Kolada-id."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Mapp för Kolada-cachen."),
) -> None:
    """Kontrollera en plan och sammanfatta den (avdelningar, mål, indikatorer, målvärden, förslag på Kolada-id)."""
    from xlplan.actions.check import format_summary, plan_summary
    from xlplan.books.plan import plan_from_workbook

    parsed, problems = plan_from_workbook(plan)
    if parsed is None:
        if as_json:
            emit_json({"ok": False, "problem": [p.to_json() for p in problems]})
        else:
            typer.echo(f"Planen {plan.name} har {len(problems)} fel:", err=True)
            for p in problems:
                typer.echo(f"  - {p}", err=True)
            for line in fix_lines(problems):
                typer.echo(line, err=True)
        raise typer.Exit(2)
    summary = plan_summary(parsed)
    found = _kolada_suggestions(parsed, kolada_url, cache_dir)
    if as_json:
        extra = {} if found is None else {"kolada_forslag": {
            "forslag": [s.to_json() for s in found["forslag"]], "utan_forslag": found["utan_id"],
            "anteckningar": found["anteckningar"]}}
        emit_json({"ok": True, **summary, **extra})
    else:
        typer.echo(format_summary(summary))
        if found is not None:
            _print_suggestions(found)


def _kolada_suggestions(parsed: Any, kolada_url: str | None, cache_dir: Path | None) -> dict[str, Any] | None:
    """Kolada ids suggested for indicators that name a Kolada title but no id (never fails)."""
    from xlplan.kolada.sok import CHECK_DEADLINE, load_catalogue, suggest_ids, titled_indicators

    if not titled_indicators(parsed):
        return None  # nothing to look up: httpx is not even imported
    from xlplan.kolada.client import ENV_BASE_URL
    url = kolada_url or os.environ.get(ENV_BASE_URL) or parsed.settings.kolada_url
    catalogue, notes = load_catalogue(base_url=url, cache_dir=cache_dir, deadline=CHECK_DEADLINE, max_retries=1)
    if catalogue is None:
        notes = [*notes, "Kolada-id kan inte föreslås nu; planen kontrollerades ändå. "
                 "Sök senare med: xlplan kolada sok \"ord ur titeln\""]
        return {"forslag": [], "anteckningar": notes,
                "utan_id": [{"id": i.id, "namn": i.name, "titel": t} for i, t in titled_indicators(parsed)]}
    return {"forslag": suggest_ids(parsed, catalogue), "anteckningar": notes, "utan_id": []}


def _print_suggestions(found: dict[str, Any]) -> None:
    lines = ["Indikatorer som nämner en Kolada-titel men inget Kolada-id:"]
    for s in found["forslag"]:
        lines += s.lines()
    for i in found["utan_id"]:
        lines.append(f"  {i['id']} {i['namn']}: Kolada-titeln '{i['titel']}'")
    lines += [f"  Obs: {n}" for n in found["anteckningar"]]
    lines.append("  Skriv det rätta id:t i kolumnen Kolada-id på bladet Indikatorer.")
    typer.echo("\n".join(lines))


def _polarity(text: str | None) -> str | None:
    if text is None:
        return None
    value = {"higher": "higher", "högre": "higher", "hogre": "higher",
             "lower": "lower", "lägre": "lower", "lagre": "lower"}.get(text.casefold())
    if value is None:
        fail(f"Polaritet '{text}' ska vara higher/högre eller lower/lägre.")
    return value


@app.command("target")
def target_cmd(
    text: str = typer.Argument(..., help="Målvärdet som text, t.ex. '>48 %' eller '65 (90)'."),
    polarity: str | None = typer.Option(None, "--polarity", help="higher (mer är bättre) eller lower."),
    series: str | None = typer.Option(None, "--series", help="Seriernas namn, åtskilda med ';'."),
    as_json: bool = typer.Option(False, "--json", help="Skriv resultatet som JSON."),
) -> None:
    """Förklara hur en målvärdestext läses."""
    from xlplan.core.explain import explain_target
    from xlplan.core.targets import parse_target

    names = [s.strip() for s in series.split(";")] if series else []
    target = parse_target(text, _polarity(polarity), names)  # type: ignore[arg-type]
    if as_json:
        emit_json(target.to_json())
    else:
        typer.echo(explain_target(target))


@app.command("status")
def status_cmd(
    target: str = typer.Option(..., "--target", help="Målvärdet som text."),
    outcome: str = typer.Option(..., "--outcome", help="Utfallet som text, t.ex. '50 %' eller 'Äldre 50 %, LSS 40 %'."),
    baseline: str | None = typer.Option(None, "--baseline", help="Nuläget som text."),
    previous: str | None = typer.Option(None, "--previous", help="Föregående periods utfall."),
    polarity: str | None = typer.Option(None, "--polarity", help="higher eller lower."),
    series: str | None = typer.Option(None, "--series", help="Seriernas namn, åtskilda med ';'."),
    assessment: str | None = typer.Option(None, "--assessment", help="Egen bedömning för kvalitativa mål."),
    as_json: bool = typer.Option(False, "--json", help="Skriv resultatet som JSON."),
) -> None:
    """Räkna ut status för en indikator (Uppfyllt, Delvis uppfyllt, Ej uppfyllt …)."""
    from xlplan.core.explain import explain_status, status_of_texts

    names = [s.strip() for s in series.split(";")] if series else []
    result = status_of_texts(target, outcome, baseline=baseline, previous=previous,
                             polarity=_polarity(polarity), series_names=names, assessment=assessment)
    if as_json:
        emit_json(result.to_json())
    else:
        typer.echo(explain_status(result))


@app.command("build-workbook")
def build_workbook_cmd(
    out: Path | None = typer.Option(None, "--out", help=f"Var arbetsboken skrivs (standard workbook/{CONTROLLER_WORKBOOK}).", show_default=False),
) -> None:
    """Bygg nämndens arbetsbok (.xlsm med menyflik, Val-blad och exempelplanen) ur källorna i repot."""
    from xlplan.books.controller import build_workbook
    from xlplan.export.guide import write_guide

    built = build_workbook(out)
    typer.echo(f"Skrev {built}")
    guide = write_guide(built.parent)  # the Användarguide button opens it beside the workbook
    typer.echo(f"Skrev {guide}" if guide else "Användarguiden (PDF) kunde inte skrivas: LibreOffice saknas.")


@app.command("fill")
def fill_cmd(
    plan: Path = typer.Argument(..., help="Planens arbetsbok (.xlsx)."),
    period: str = typer.Option(..., "--period", help="Perioden, t.ex. 2024-K1, 2024-T1, 2024-delår eller 2024-helår."),
    department: list[str] | None = typer.Option(None, "--department", help="Avdelnings-id (kan upprepas)."),
    all_departments: bool = typer.Option(False, "--all", help="Alla avdelningar i planen."),
    out: Path = typer.Option(..., "--out", help="Mapp för avdelningsfilerna."),
    update: bool = typer.Option(False, "--update", help="Fyll på befintliga filer; inmatade värden behålls."),
    fmt: str = typer.Option("xlsm", "--format", help="xlsm (med menyflik och makron) eller xlsx."),
) -> None:
    """Skriv en uppföljningsfil per avdelning för en period (eller fyll på befintliga med --update)."""
    from xlplan.actions.fill import fill

    if bool(department) == all_departments:
        fail("Ange antingen --department ID (en eller flera) eller --all.")
    result = fill(plan, period, None if all_departments else list(department or []), out,
                  update=update, fmt=fmt)  # type: ignore[arg-type]
    for line in result.lines():
        typer.echo(line)
    if blocking(result.problems):
        raise typer.Exit(1)


@app.command("export")
def export_cmd(
    committee: Path = typer.Argument(..., help="Nämndens sammanställning (.xlsx) som xlplan consolidate skrev."),
    out: Path = typer.Option(..., "--out", help="Mapp för nämndrapporten (Word, PDF och Excel-bilaga)."),
    template: Path | None = typer.Option(None, "--template", help="Kommunens egen Word-mall (.docx)."),
) -> None:
    """Skriv nämndrapporten (Word, PDF och en Excel-bilaga med bara värden) från nämndens sammanställning."""
    from xlplan.export import export

    result = export(committee, out, template)
    for path in (result.docx, result.pdf, result.bilaga):
        if path is not None:
            typer.echo(f"Skrev {path}")
    for warning in result.warnings:
        typer.echo(f"Varning: {warning}", err=True)


class _ConsolidateProgress:
    """A rich progress bar on stderr, shown for a terminal or for more than 20 files."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int, name: str) -> None:
        if self.bar is None:
            if not (sys.stderr.isatty() or total > 20):
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("Läser avdelningsfiler"), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), TextColumn("{task.description}"),
                                console=Console(stderr=True), transient=sys.stderr.isatty())
            self.bar.start()
            self.task = self.bar.add_task("", total=total)
        self.bar.update(self.task, completed=done, description=name[:40])

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command("consolidate")
def consolidate_cmd(
    folder: Path = typer.Argument(..., help="Mappen med avdelningarnas filer."),
    plan: Path = typer.Option(..., "--plan", help="Planens arbetsbok (.xlsx)."),
    period: str = typer.Option(..., "--period", help="Perioden, t.ex. 2024-delår."),
    out: Path = typer.Option(..., "--out", help="Nämndens sammanställning (.xlsx) som skrivs, eller en mapp: då "
                             f"heter filen {committee_file('Kommun', 'Nämnd', 'period')}."),
    report: Path | None = typer.Option(None, "--report", help="Skriv alla problem och inlämningar som JSON hit."),
    strict: bool = typer.Option(False, "--strict", help="Avsluta med kod 1 om någon fil har fel."),
) -> None:
    """Sammanställ avdelningarnas filer till nämndens arbetsbok; varje fil kontrolleras och varje problem redovisas."""
    from xlplan.actions.consolidate import NOT_INCLUDED, consolidate, summary_lines

    out = committee_out(out, plan, period)
    bar = _ConsolidateProgress()
    try:
        result = consolidate(folder, plan, period, out, report, progress=bar)
    finally:
        bar.close()
    for line in summary_lines(result):
        typer.echo(line)
    skipped = [p for p in result.problems  # a file left out (a foreign workbook, e.g. the plan, is only noted)
               if p.severity == "fel" and p.action == NOT_INCLUDED and p.code != "inte_avdelningsfil"]
    for p in skipped:
        typer.echo(f"  Togs inte med: {p}")
    for line in fix_lines(skipped):
        typer.echo(line)
    if skipped or (strict and result.counts()["fel"]):
        raise typer.Exit(1)


def committee_out(out: Path, plan: Path, period: str) -> Path:
    """``--out`` of consolidate: a workbook path as given; a folder gets the scheme's name (xlplan.core.naming)."""
    if out.suffix.casefold() in (".xlsx", ".xlsm") or (out.exists() and not out.is_dir()):
        return out
    from xlplan.books.plan import read_plan
    from xlplan.core.periods import parse_period

    s = read_plan(plan).settings
    return out / committee_file(s.municipality, s.committee, parse_period(period))


@app.command("demo")
def demo_cmd(
    out: Path = typer.Option(Path("demo-output"), "--out", help="Mapp för demons resultat."),
) -> None:
    """Kör hela arbetsflödet på exempelplanerna och skriv resultaten i en mapp."""
    from xlplan.demo import run_demo

    run_demo(out, echo=typer.echo)


@app.command("pull")
def pull_cmd(
    target: Path = typer.Argument(..., help="En avdelningsfil eller en mapp med avdelningsfiler."),
    plan: Path | None = typer.Option(None, "--plan", help="Planens arbetsbok (annars söks den i mappen och mappen ovanför)."),
    kolada_url: str | None = typer.Option(None, "--kolada-url", help="Koladas bas-URL (före XLPLAN_KOLADA_URL och planens Kolada-adress)."),
    offline: bool = typer.Option(False, "--offline", help="Läs bara ur cachen; inga anrop till Kolada."),
    overwrite_pulled: bool = typer.Option(False, "--overwrite-pulled", help="Ersätt tidigare hämtade värden när källan har ändrats (inskrivna värden ändras aldrig)."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Mapp för Kolada-cachen."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Visa vad som skulle skrivas utan att skriva."),
) -> None:
    """Hämta utfall från Kolada och lokala exporter till avdelningsfilerna, med källa; skriver aldrig över inskrivna värden."""
    from xlplan.actions.pull import pull

    result = pull(target, plan, kolada_url=kolada_url, offline=offline, overwrite_pulled=overwrite_pulled,
                  cache_dir=cache_dir, dry_run=dry_run)
    for line in result.lines():
        typer.echo(line)
    if blocking(result.problems) or any(p.code == KOLADA_DOWN for p in result.problems):
        raise typer.Exit(1)  # done, with problems: a file was left out, or Kolada's rows wait


@app.command("flag")
def flag_cmd(
    target: Path = typer.Argument(..., help="En avdelningsfil eller en mapp med avdelningsfiler."),
    plan: Path | None = typer.Option(None, "--plan", help="Planens arbetsbok (annars söks den i mappen och mappen ovanför)."),
    strict: bool = typer.Option(False, "--strict", help="Avsluta med kod 1 om något flaggas."),
    as_json: bool = typer.Option(False, "--json", help="Skriv resultatet som JSON."),
) -> None:
    """Räkna status för varje indikator, skriv den och en flagglista (Översikt) i avdelningsfilerna."""
    from xlplan.actions.flag import flag

    try:
        outcomes = flag(target, plan)
    except XlplanError as exc:
        fail(str(exc))
    skipped = getattr(outcomes, "problems", [])
    if as_json:
        emit_json([{"fil": str(o.path), "skriven": o.written, "ändrade_celler": o.changed_cells,
                    "status": {r.row_id: r.status.label for r in o.report.rows},
                    "flaggor": [p.to_json() for p in o.report.problems()]} for o in outcomes]
                  + [{"fil": p.file, "skriven": False, "hoppades_över": p.to_json()} for p in skipped])
    else:
        for line in outcomes.lines():
            typer.echo(line)
    if blocking(skipped) or (strict and any(o.report.flagged for o in outcomes)):
        raise typer.Exit(1)


@app.command("submit")
def submit_cmd(
    file: Path = typer.Argument(..., help="Avdelningsfilen som lämnas in."),
    plan: Path | None = typer.Option(None, "--plan", help="Planens arbetsbok (annars planen bredvid eller i filen)."),
) -> None:
    """Kontrollera en avdelningsfil och sätt Inlämningsstatus till 'klar för granskning' om inget hindrar."""
    from xlplan.actions.workflow import submit_file

    result = submit_file(file, plan)
    for line in result.lines():
        typer.echo(line)
    if not result.ready:
        raise typer.Exit(1)


@app.command("approve")
def approve_cmd(
    file: Path = typer.Argument(..., help="Den inlämnade avdelningsfilen."),
    by: str | None = typer.Option(None, "--av", help="Vem som godkänner (annars inloggad användare)."),
) -> None:
    """Godkänn en inlämnad avdelningsfil (controllern); vem och när sparas i filen och dess inmatning låses."""
    from xlplan.actions.workflow import approve_file

    for line in approve_file(file, by).lines():
        typer.echo(line)


@app.command("return")
def return_cmd(
    file: Path = typer.Argument(..., help="Avdelningsfilen som skickas tillbaka."),
    comment: str = typer.Option(..., "--kommentar", help="Vad avdelningen ska komplettera."),
    by: str | None = typer.Option(None, "--av", help="Vem som skickar tillbaka (annars inloggad användare)."),
) -> None:
    """Skicka en avdelningsfil tillbaka för komplettering med en kommentar (controllern); filen låses upp."""
    from xlplan.actions.workflow import return_file

    for line in return_file(file, comment, by).lines():
        typer.echo(line)


kolada_app = typer.Typer(cls=XlplanGroup, no_args_is_help=True, help="Koladas nyckeltal.", rich_markup_mode=None)
app.add_typer(kolada_app, name="kolada")


@kolada_app.command("sok")
def kolada_sok_cmd(
    text: list[str] = typer.Argument(..., help="Ord ur nyckeltalets titel (alla ska finnas), eller ett Kolada-id."),
    limit: int = typer.Option(20, "--max", min=1, help="Högst så många träffar."),
    kolada_url: str | None = typer.Option(None, "--kolada-url", help="Koladas bas-URL (före XLPLAN_KOLADA_URL)."),
    offline: bool = typer.Option(False, "--offline", help="Sök bara i katalogen i cachen; inga anrop till Kolada."),
    refresh: bool = typer.Option(False, "--uppdatera", help="Hämta katalogen från Kolada igen fast den finns i cachen."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Mapp för Kolada-cachen."),
    as_json: bool = typer.Option(False, "--json", help="Skriv träffarna som JSON."),
) -> None:
    """Sök nyckeltal i Koladas katalog på ord i titeln: id, titel, kön, enhetsdata och publicering."""
    from xlplan.kolada.sok import format_hit, load_catalogue, search

    query = " ".join(text)
    catalogue, notes = load_catalogue(base_url=kolada_url, cache_dir=cache_dir, offline=offline, refresh=refresh)
    for note in notes:
        typer.echo(note if catalogue is None else f"Obs: {note}", err=True)
    if catalogue is None:
        raise typer.Exit(2)
    hits = search(catalogue, query, None)
    if as_json:
        emit_json([h.to_json() for h in hits[:limit]])
    elif not hits:
        typer.echo(f"Inget av Koladas {len(catalogue)} nyckeltal har alla orden '{query}' i titeln.")
    else:
        shown = hits[:limit]
        more = f" (visar de {len(shown)} bästa; fler med --max)" if len(hits) > len(shown) else ""
        typer.echo(f"{len(hits)} nyckeltal i Koladas katalog matchar '{query}'{more}:")
        for hit in shown:
            for line in format_hit(hit):
                typer.echo(line)
    if not hits:
        raise typer.Exit(1)


@app.command("kolada-standin")
def kolada_standin_cmd(
    port: int = typer.Option(8765, "--port", help="Port på 127.0.0.1."),
) -> None:
    """Starta en lokal ersättare för Koladas API (exempeldata) för test och demo utan internet."""
    from xlplan.kolada.standin import serve

    serve(port)


def main() -> None:
    try:
        app()
    except XlplanError as exc:
        first, *rest = str(exc).splitlines() or [""]
        typer.echo(first, err=True)
        for line in rest:
            typer.echo(line, err=True)
        sys.exit(2)
