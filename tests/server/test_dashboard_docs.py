"""docs/dashboard.md is part of the product: every ``curl`` example runs against the
project the dashboard tests build, and answers with the keys the page shows."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

from dashboard_project import TOKEN

DOC = Path(__file__).resolve().parents[2] / "docs" / "dashboard.md"


def _examples() -> list[tuple[str, str]]:
    """``(command, shown answer)`` of every ``$ curl`` line in a console block."""
    out = []
    for block in re.findall(r"```console\n(.*?)```", DOC.read_text(), flags=re.S):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("$ curl "):
                out.append((line[2:], lines[i + 1]))
    return out


def _request(client, command: str):
    words = shlex.split(command.replace("$WK_SERVER_TOKEN", TOKEN))
    method, headers, body, url = "GET", {}, None, None
    i = 1
    while i < len(words):
        word = words[i]
        if word == "-X":
            method, i = words[i + 1], i + 2
        elif word == "-H":
            name, _, value = words[i + 1].partition(":")
            headers[name.strip()], i = value.strip(), i + 2
        elif word == "-d":
            body, i = words[i + 1], i + 2
        elif word.startswith("-"):
            i += 1
        else:
            url, i = word, i + 1
    parts = urlsplit(url)
    assert (parts.hostname, parts.port) == ("127.0.0.1", 8765), "wk serve's defaults"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.request(method, path, headers=headers, content=body)


def _same_keys(answer, shown, where="") -> None:
    if isinstance(shown, dict):
        assert isinstance(answer, dict) and set(answer) == set(shown), where
        for key, value in shown.items():
            _same_keys(answer[key], value, f"{where}.{key}")
    elif isinstance(shown, list) and shown and answer:
        _same_keys(answer[0], shown[0], f"{where}[0]")


PIPELINE_PATHS = ("/api/models", "/api/lineage", "/api/trace")


def test_every_curl_example_answers_as_shown(client, pipeline_client):
    """Models and lineage examples run against the project with a trained pipeline."""
    examples = _examples()
    assert len(examples) >= 12
    for command, shown in examples:
        pipeline = any(f"8765{p}" in command for p in PIPELINE_PATHS)
        response = _request(pipeline_client if pipeline else client, command)
        expected = json.loads(shown)
        if "detail" in expected:
            assert response.status_code == 401 and response.json() == expected, command
            continue
        assert response.status_code == 200, (command, response.text)
        _same_keys(response.json(), expected, command)
        if "total" in expected:
            assert response.json()["total"] == expected["total"], command
    status = client.get("/api/incidents/1").json()["status"]
    assert status == "false_positive"  # the documented POST did what it says


def test_python_examples_run(project):
    """Every python block runs in the project folder; the last one's result renders."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/dashboard.md", "exec"), namespace)  # noqa: S102
    assert "Check of orders" in namespace["result"]._repr_html_()
