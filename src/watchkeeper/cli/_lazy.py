"""Commands that import their module only when they run.

``wk --version`` and ``wk --help`` must not pay for Ibis, pandas or MLflow. The root
group knows every command's name, module and one-line help from a table, lists them
from that table, and imports a command's module (which registers its commands on the
root Typer app) only when that command is looked up to run or to show its own help.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass

import typer
import typer.core
import typer.main
from typer._click.utils import make_default_short_help


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives, and its one-line help for ``wk --help``."""

    name: str
    module: str
    help: str


class LazyCommands(MutableMapping):
    """The root group's commands: the loaded ones, and the others by name until looked up.

    Reading a name that is not loaded yet imports its module; an unknown name imports
    every command module once, so a command missing from the table still runs.
    """

    def __init__(self, loaded: dict, table: dict[str, LazyCommand],
                 load: Callable[[str | None], dict]) -> None:
        self.loaded = dict(loaded)
        self.table = table
        self._load = load

    def __getitem__(self, name: str):
        if name not in self.loaded:
            self.loaded.update(self._load(self.table[name].module if name in self.table
                                          else None))
        return self.loaded[name]

    def __setitem__(self, name: str, command) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self.loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self.loaded
        yield from (name for name in self.table if name not in self.loaded)

    def __len__(self) -> int:
        return len(self.loaded) + sum(name not in self.loaded for name in self.table)

    def __contains__(self, name: object) -> bool:
        return name in self.loaded or name in self.table


class LazyGroup(typer.core.TyperGroup):
    """A Typer group whose commands are a :class:`LazyCommands` of the app's table."""

    table: dict[str, LazyCommand] = {}
    load: Callable[[str | None], dict] = staticmethod(lambda module: {})

    def __init__(self, **attrs) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.commands, self.table, self.load)

    def list_commands(self, ctx) -> list[str]:
        order = list(self.table)
        return sorted(self.commands, key=lambda n: order.index(n) if n in order else len(order))

    def format_commands(self, ctx, formatter) -> None:
        commands: LazyCommands = self.commands  # type: ignore[assignment]
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = commands.loaded.get(name)
            if command is None:  # its module is not imported: the table's line says it
                rows.append((name, make_default_short_help(self.table[name].help, limit)))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def lazy_app(table: list[LazyCommand], package: str, attach: Callable[[object], None],
             **settings) -> typer.Typer:
    """The root Typer app of ``package`` whose commands are listed in ``table``.

    ``attach(module)`` runs once per imported command module, after its import, for
    modules that register their commands through a function rather than on import.
    """
    by_name = {entry.name: entry for entry in table}
    attached: set[str] = set()

    def load(module: str | None) -> dict:
        modules = [module] if module else sorted({entry.module for entry in table})
        for name in modules:
            imported = importlib.import_module(f"{package}.{name}")
            if name not in attached:
                attached.add(name)
                attach(imported)
        fresh = typer.main.get_group(app)
        return dict(fresh.commands.loaded)  # type: ignore[attr-defined]

    group = type("WatchkeeperGroup", (LazyGroup,), {"table": by_name,
                                                    "load": staticmethod(load)})
    app = typer.Typer(cls=group, **settings)
    return app
