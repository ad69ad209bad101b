"""Fixtures of the detection tests."""

import pytest
from detect_histories import make_history


@pytest.fixture
def history():
    return make_history()
