"""validate, diff, schemas: reviewing assistant changes."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
