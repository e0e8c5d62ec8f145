"""`gateway data template` and `gateway data load`: the README's way of loading a district."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from tenants.loading.columns import TABLES
from tenants.loading.docs import render
from tests.cli.conftest import Invoke, as_json
from tests.conftest import REPO, unique_lea


async def test_an_operator_loads_the_example_bundle_from_the_cli(
    gateway_cli: Invoke, tmp_path: Path
) -> None:
    lea = unique_lea()
    await gateway_cli("district", "add", "--lea", lea, "--name", "Example County Schools")
    folder = tmp_path / "example"
    written = as_json(
        await gateway_cli("data", "template", "--dir", str(folder), "--example", "--json")
    )
    assert written["files"] == [t.file_name for t in TABLES]

    dry = as_json(
        await gateway_cli("data", "load", "--district", lea, str(folder), "--dry-run", "--json")
    )
    assert dry["status"] == "validated" and dry["counts"]["rows"]["students"] == 3

    loaded = as_json(await gateway_cli("data", "load", "--district", lea, str(folder), "--json"))
    assert loaded["status"] == "succeeded"
    assert loaded["counts"]["students_current"] == 3 and loaded["refreshed_at"]

    again = await gateway_cli("data", "load", "--district", lea, str(folder))
    assert "unchanged" in again.stdout and "same source" in again.stdout


async def test_a_nightly_merge_and_pesc_transcripts_load_from_the_cli(
    gateway_cli: Invoke, tmp_path: Path, samples: Path
) -> None:
    lea = unique_lea()
    await gateway_cli("district", "add", "--lea", lea, "--name", "Merge County Schools")
    folder = tmp_path / "nightly"
    await gateway_cli("data", "template", "--dir", str(folder), "--example")
    merged = as_json(
        await gateway_cli(
            "data", "load", "--district", lea, str(folder), "--mode", "merge", "--json"
        )
    )
    assert merged["status"] == "succeeded" and merged["counts"]["students_listed"] == 3
    archive = tmp_path / "transcripts.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(samples / "SampleHighSchoolTranscript_v1.3.0.utf16.xml", "john-student.xml")
    pesc = as_json(
        await gateway_cli(
            "data",
            "load",
            "--district",
            lea,
            str(archive),
            "--format",
            "pesc",
            "--mode",
            "merge",
            "--json",
        )
    )
    assert pesc["status"] == "succeeded", pesc["errors"][:3]
    assert pesc["format"] == "pesc" and pesc["counts"]["rows"]["course_records"] == 51
    assert pesc["counts"]["students_current"] == 4


async def test_a_rejected_load_exits_1_and_lists_the_errors(
    gateway_cli: Invoke, tmp_path: Path
) -> None:
    lea = unique_lea()
    await gateway_cli("district", "add", "--lea", lea, "--name", "Broken County Schools")
    folder = tmp_path / "empty"
    await gateway_cli("data", "template", "--dir", str(folder))
    (folder / "students.csv").write_text("student_id,nickname\n1,Ace\n", encoding="utf-8")
    result = await gateway_cli("data", "load", "--district", lea, str(folder), "--json", ok=False)
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["status"] == "rejected"
    reasons = {(e["file"], e["column"], e["reason"]) for e in body["errors"]}
    assert any(c == "nickname" and r.startswith("unknown column") for _f, c, r in reasons)
    assert ("students.csv", "birth_date", "missing required column") in reasons
    people = await gateway_cli("data", "load", "--district", lea, str(folder), ok=False)
    assert "nothing was written" in people.stdout and "students.csv" in people.stdout


async def test_template_refuses_to_overwrite(gateway_cli: Invoke, tmp_path: Path) -> None:
    await gateway_cli("data", "template", "--dir", str(tmp_path))
    again = await gateway_cli("data", "template", "--dir", str(tmp_path), ok=False)
    assert again.exit_code == 1 and "exists" in again.output


async def test_data_help_teaches_with_examples(gateway_cli: Invoke) -> None:
    load = await gateway_cli("data", "load", "--help")
    for words in ("--mode", "snapshot", "merge", "--dry-run", "Exit status", "XPath"):
        assert words in load.stdout
    template = await gateway_cli("data", "template", "--help")
    assert "gateway data template --dir example --example" in template.stdout


def test_the_data_formats_document_is_generated_from_the_columns() -> None:
    committed = (REPO / "docs" / "data-formats.md").read_text(encoding="utf-8")
    assert committed == render(), "run: python -m tenants.loading.docs > docs/data-formats.md"
    for table in TABLES:
        for column in table.columns:
            assert f"| `{column.name}` |" in committed
