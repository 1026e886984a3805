"""Every CLI command has help text and a README section with an example."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command

from xlplan.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group, prefix=""):
    for name, cmd in group.commands.items():
        full = f"{prefix}{name}"
        sub = getattr(cmd, "commands", None)
        if sub:
            yield from _commands(cmd, full + " ")
        else:
            yield full, cmd


def test_every_command_has_help_and_a_readme_section():
    commands = dict(_commands(get_command(app)))
    assert {"plan check", "target", "status", "fill", "pull", "flag", "consolidate", "export",
            "build-workbook", "demo"} <= set(commands)
    for name, cmd in commands.items():
        assert (cmd.help or "").strip(), f"xlplan {name} saknar hjälptext"
        assert f"### xlplan {name}\n" in README, f"README saknar avsnittet '### xlplan {name}'"
        section = README.split(f"### xlplan {name}\n", 1)[1].split("\n### ", 1)[0]
        assert f"xlplan {name}" in section.split("```sh", 1)[-1], f"README-avsnittet för {name} saknar exempel"
