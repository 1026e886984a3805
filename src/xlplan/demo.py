"""``xlplan demo``: the whole workflow on the bundled example plans."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from xlplan.actions.check import format_summary, plan_summary
from xlplan.books.plan import plan_from_workbook
from xlplan.examples import EXAMPLES, example_plan_path


def run_demo(out: Path, echo: Callable[[str], None] = print) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    texts = []
    for name in EXAMPLES:
        path = example_plan_path(name)
        plan, problems = plan_from_workbook(path)
        if plan is None:
            texts.append(f"{path.name}: {len(problems)} fel\n" + "\n".join(f"  - {p}" for p in problems))
            continue
        texts.append(format_summary(plan_summary(plan)))
    from xlplan.core.naming import PLAN_CHECK

    report = out / PLAN_CHECK
    report.write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    echo(f"Plankontroll: {report}")

    from xlplan.actions.fill import demo_step as fill_step

    fill_step(out, echo)  # every department of both example plans -> avdelningar/<plan>/

    from xlplan.actions.pull import demo_step as pull_step

    pull_step(out, echo)  # Kolada stand-in + made-up exports -> avdelningar/ (when department files exist)

    from xlplan.actions.flag import demo_step as flag_step

    flag_step(out, echo)  # example outcomes (marked) where no source gave one, then status + flag lists

    from xlplan.actions.consolidate import demo_step

    results = demo_step(out, echo)  # avdelningar/ -> namnd/ (when the fill step has written department files)

    from xlplan.export import export

    for result in results:  # namnd/<plan>/ -> namndrapport/<plan>/
        target = out / "namndrapport" / result.out_path.parent.name
        done = export(result.out_path, target)
        echo(f"Nämndrapport: {done.docx}")
        for extra in (done.pdf, done.bilaga):
            if extra is not None:
                echo(f"  {extra}")
        for warning in done.warnings:
            echo(f"  Varning: {warning}")
    echo(f"Klart. Allt ligger i {out.resolve()}")
