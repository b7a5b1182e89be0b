"""The project's configuration: policies, strategies, authority, templates and scenarios
(files in this folder), and the settings read from the environment and the desk's file
(``config.settings``)."""

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent
"""This folder: every file of configuration the backend and the desk read from here."""
