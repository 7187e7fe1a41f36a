"""template.yaml passes cfn-lint after the SAM transform, and the check catches what plain cfn-lint misses."""

from __future__ import annotations

from pathlib import Path

from local.template_check import check

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def test_the_template_passes(capsys):
    assert check(TEMPLATE) == 0, capsys.readouterr().out


def test_errors_only_visible_after_the_transform_fail_the_check(tmp_path, capsys):
    text = TEMPLATE.read_text().replace("Runtime: python3.12", "Runtime: python3.99", 1)
    broken = tmp_path / "template.yaml"
    broken.write_text(text)
    assert check(broken) == 1
    assert "E3030" in capsys.readouterr().out
