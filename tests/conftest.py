import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import postgres

# The tests choose their database themselves: a developer's own DATABASE_URL must never reach them,
# nor the servers they start (which inherit this environment).
os.environ.pop("DATABASE_URL", None)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL for the session (tests/postgres.py): TEST_DATABASE_URL, or a cluster started here."""
    with postgres.server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A DATABASE_URL whose tables start empty (a schema of its own), for one test."""
    with postgres.fresh_schema(postgres_server) as url:
        yield url
