"""Typer commands. Each module registers its commands on ``nsshutdown.app.app`` when imported."""
