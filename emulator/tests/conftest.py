"""Fixtures for the emulator's own tests: an in-process emulator on a free port."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The emulator is a standalone script, not a package: make it importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flashback_emulator import Emulator  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def emulator():
    """A running plain-HTTP emulator with DEFAULT_SEED, stopped after the test."""
    emu = Emulator()
    emu.start()
    yield emu
    emu.stop()
