"""Start-up: ``import watchkeeper``, ``wk --version`` and ``wk --help`` import no engine,
data-frame, model-registry or web library; a command imports its own module when it runs."""

from __future__ import annotations

import json
import subprocess
import sys

import typer.main

HEAVY = ("ibis", "pandas", "numpy", "pyarrow", "duckdb", "mlflow", "fastapi", "sklearn",
         "pyspark", "psycopg")


def heavy_modules_after(code: str) -> list[str]:
    """The heavy libraries a fresh interpreter holds after running ``code``."""
    probe = (f"import sys\n{code}\n"
             f"print('\\n' + __import__('json').dumps("
             f"[m for m in {HEAVY!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def run_main(*args: str) -> str:
    return ("from watchkeeper.cli import main\n"
            "try:\n"
            f"    main({list(args)!r})\n"
            "except SystemExit as exc:\n"
            "    assert not exc.code, exc.code\n")


class TestStartUp:
    """What each entry point costs in imports, checked in a fresh interpreter."""

    def test_importing_the_package_imports_no_library(self):
        """``import watchkeeper`` and ``import watchkeeper.cli`` load none of the heavy libraries."""
        assert heavy_modules_after("import watchkeeper, watchkeeper.cli") == []

    def test_version_and_help_import_no_library(self):
        """``wk --version``, ``wk --help`` and a group's help import none of them either."""
        for args in (("--version",), ("--help",)):
            assert heavy_modules_after(run_main(*args)) == [], args

    def test_a_command_imports_what_it_needs(self):
        """``wk profile --help`` loads the profiling module, and with it the engine (Ibis)."""
        loaded = heavy_modules_after(run_main("profile", "--help"))
        assert "ibis" in loaded and "mlflow" not in loaded and "fastapi" not in loaded

    def test_a_public_name_imports_on_first_use(self):
        """``watchkeeper.profile`` imports the summaries (and Ibis) only when first read."""
        loaded = heavy_modules_after("import watchkeeper\nwatchkeeper.profile")
        assert "ibis" in loaded and "mlflow" not in loaded


class TestCommandTable:
    """The table ``wk --help`` lists without importing command modules is the real CLI."""

    def test_table_lists_every_command_with_its_own_help(self):
        """Each table entry's module defines that command, with the same one-line help."""
        from watchkeeper.cli import COMMANDS, app

        group = typer.main.get_command(app)
        for entry in COMMANDS:
            command = group.commands[entry.name]
            module = command.callback.__module__ if command.callback else None
            if module is not None:  # a group's callback lives in Typer
                assert module == f"watchkeeper.cli.{entry.module}", entry
            assert command.get_short_help_str(10_000) == entry.help, entry.name

    def test_no_command_is_missing_from_the_table(self):
        """Once every command module is imported, no command exists outside the table."""
        from watchkeeper.cli import COMMANDS, app

        group = typer.main.get_command(app)
        group.commands.get("no such command")  # an unknown name imports every module
        assert set(group.commands.loaded) == {entry.name for entry in COMMANDS}

    def test_unknown_command_is_a_usage_error(self, capsys):
        """A mistyped command exits 2 with one line naming the closest command."""
        from watchkeeper.cli import main

        try:
            main(["prfile"])
        except SystemExit as exc:
            assert exc.code == 2
        err = capsys.readouterr().err
        assert "No such command 'prfile'" in err and "'profile'" in err
        assert len(err.strip().splitlines()) == 1
