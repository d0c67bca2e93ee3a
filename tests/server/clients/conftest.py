"""Fixtures of the client-compatibility suite: the server scripts/client_tests.sh started."""
from collections import namedtuple

import pytest

from expect import env

Server = namedtuple("Server", "url key max_documents")


@pytest.fixture(scope="session")
def server():
    return Server(env("RERANK_SERVER_URL"), env("RERANK_API_KEY"), int(env("RERANK_MAX_DOCUMENTS")))
