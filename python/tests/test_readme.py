"""The README's Python example, run as written."""

from __future__ import annotations

import re

from conftest import ROOT


def test_readme_example_runs_and_finds_neighbours() -> None:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len([line for line in block.splitlines() if line.strip()]) <= 10
    ns: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), ns)
    labels = ns["labels"]
    assert getattr(labels, "shape") == (100, 10)
    recall = ns["recall"]
    assert isinstance(recall, float) and 0.2 <= recall <= 1.0
