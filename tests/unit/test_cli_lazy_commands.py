"""The command line imports a command's module only when it runs, so its name is derived from the module's
name: every module in COMMANDS must define exactly the command it is listed under."""

from __future__ import annotations

import importlib

import click

from finops_tui.cli import COMMANDS, command_name, main


def test_every_listed_module_defines_the_command_its_name_gives() -> None:
    for module in COMMANDS:
        command = importlib.import_module(f"finops_tui.commands.{module}").command
        assert command.name == command_name(module), module


def test_help_lists_every_command_and_an_unknown_one_is_refused() -> None:
    ctx = click.Context(main)
    assert main.list_commands(ctx) == sorted(command_name(m) for m in COMMANDS)
    assert main.get_command(ctx, "people") is not None and main.get_command(ctx, "no-such") is None
