"""The leads' CSV files into the update store once, and out again: the files exported from
what was imported are the source files byte for byte, on SQLite and on PostgreSQL; a wrong row
stops the import with a sentence and writes nothing; the export follows approvals."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from crimeprev.updates import workflow
from crimeprev.updates.content import Commentary
from crimeprev.updates.csvfiles import (
    ACTIONS_FILE,
    COLUMNS,
    COMMENTARY_FILE,
    METRICS_FILE,
    STATUS_FILE,
    ImportRefused,
    export_csv,
    import_csv,
)
from crimeprev.updates.permissions import User
from crimeprev.updates.settings import UpdateSettings
from crimeprev.updates.store import UpdateError, open_store


@pytest.fixture(scope="module")
def leads_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four CSV files the demo writes (records are not needed for them)."""
    from crimeprev.config import load_config
    from crimeprev.demo.generator import (
        _Calibration,
        _write_activity,
        _write_commentary,
        _write_delivery,
    )

    root = tmp_path_factory.mktemp("leads-files")
    calibration = _Calibration.load(load_config())
    _write_delivery(root, calibration, 2022)
    _write_activity(root, calibration)
    _write_commentary(root, calibration)
    return root


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_export_after_import_is_the_source_files_byte_for_byte(
    leads_files: Path, tmp_path: Path, store_url: str
):
    store = open_store(tmp_path, url=store_url)
    try:
        imported = import_csv(store, leads_files, "CSV import")
        out = tmp_path / "exported"
        exported = export_csv(store, out)
    finally:
        store.dispose()
    for name in COLUMNS:
        assert (out / name).read_bytes() == (leads_files / name).read_bytes(), name
    source_rows = {str(name): len(_rows(leads_files / name)) for name in COLUMNS}
    assert imported.rows == exported.rows == source_rows
    # One update per strand and quarter that the files speak of.
    keys = {(r["strand_id"], r["period"]) for r in _rows(leads_files / COMMENTARY_FILE)}
    actions = {r["action_id"]: r["strand_id"] for r in _rows(leads_files / ACTIONS_FILE)}
    keys |= {(actions[r["action_id"]], r["quarter_end"]) for r in _rows(leads_files / STATUS_FILE)}
    keys |= {(r["strand_id"], r["period_end"]) for r in _rows(leads_files / METRICS_FILE)}
    assert imported.updates == len(keys)


def test_import_is_once_and_all_or_nothing(leads_files: Path, tmp_path: Path, store_url: str):
    broken = tmp_path / "broken"
    shutil.copytree(leads_files, broken)
    lines = (broken / STATUS_FILE).read_text().splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ",nearly done"
    lines[7] = "XXX-999," + lines[7].split(",", 1)[1]
    (broken / STATUS_FILE).write_text("\n".join(lines) + "\n")
    store = open_store(tmp_path, url=store_url)
    try:
        with pytest.raises(UpdateError, match="The update store is empty"):
            export_csv(store, leads_files)
        with pytest.raises(ImportRefused) as refused:
            import_csv(store, broken, "CSV import")
        message = str(refused.value)
        assert message.startswith("Nothing was imported:")
        assert "status.csv, line 4: Action" in message and "'nearly done' is not one of" in message
        assert "line 8: action XXX-999 is not in delivery/actions.csv" in message
        assert workflow.quarter_status(store, "2022-09")[0]["state"] == "not started"
        import_csv(store, leads_files, "CSV import")
        with pytest.raises(ImportRefused, match="imported once"):
            import_csv(store, leads_files, "CSV import")
    finally:
        store.dispose()


def test_export_carries_approved_words_until_the_change_is_approved(
    leads_files: Path, tmp_path: Path, store_url: str
):
    settings = UpdateSettings(leads={"rape": ("ray@police.example",)}, approver_role="acc")
    store = open_store(tmp_path, settings=settings, url=store_url)
    ray = User("Ray Lead", claims={"email": "ray@police.example"})
    try:
        import_csv(store, leads_files, "CSV import")
        current = workflow.read_update(store, "rape", "2022-09")
        workflow.save(
            store, ray, "rape", "2022-09", current.row_version, put=[Commentary("New words.")]
        )
        export_csv(store, tmp_path / "approved", "approved")
        export_csv(store, tmp_path / "latest", "latest")
    finally:
        store.dispose()
    assert (tmp_path / "approved" / COMMENTARY_FILE).read_bytes() == (
        leads_files / COMMENTARY_FILE
    ).read_bytes()
    latest = {
        (r["strand_id"], r["period"]): r["commentary"]
        for r in _rows(tmp_path / "latest" / COMMENTARY_FILE)
    }
    assert latest[("rape", "2022-09")] == "New words."


def test_the_command_line_imports_reports_and_exports(
    leads_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    from crimeprev.cli.main import main

    data = tmp_path / "data"
    shutil.copytree(leads_files, data)
    monkeypatch.delenv("CRIMEPREV_DATABASE_URL", raising=False)
    monkeypatch.setenv("CRIMEPREV_DATA_DIR", str(data))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["updates", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    code, out, err = run("import-csv")
    assert code == 0, err
    assert f"Imported 583 rows: {data / ACTIONS_FILE}" in out
    assert (data / "updates.db").is_file()
    code, out, err = run("import-csv")
    assert code == 2 and err.startswith("crimeprev: The update store already holds")
    assert "imported once" in err and "Traceback" not in err
    code, out, err = run("status", "--quarter", "2022-03", "--format", "csv")
    assert code == 0, err
    rows = {r["strand_id"]: r for r in csv.DictReader(out.splitlines())}
    commented = {
        r["strand_id"] for r in _rows(leads_files / COMMENTARY_FILE) if r["period"] == "2022-03"
    }
    assert commented == {
        "knife-crime",
        "night-time-economy",
        "domestic-abuse",
        "burglary-robbery",
        "hate-crime",
    }
    assert all(rows[s]["state"] == "approved" for s in commented)
    code, out, err = run("status", "--quarter", "2022-08")
    assert code == 2 and "does not end a quarter" in err
    code, out, err = run("export-csv", "--out", str(tmp_path / "out"))
    assert code == 0, err
    for name in COLUMNS:
        assert (tmp_path / "out" / name).read_bytes() == (leads_files / name).read_bytes()


QUARTERS = ("2021-12", "2022-03", "2022-06", "2022-09")
STRANDS = ("knife-crime", "rape", "hate-crime", "prevent")
STATUSES = ("complete", "ongoing", "at risk", "not started")


def _write_csv(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _leads_content():
    """Random content for the four files, written the way the demo writes them."""
    from hypothesis import strategies as st

    words = (
        st.text(
            alphabet=st.characters(
                blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\x85"
            )
            | st.sampled_from(",\"';|/\n "),
            min_size=1,
            max_size=40,
        )
        .map(lambda t: " ".join(t.split()))
        .filter(bool)
    )
    prose = st.lists(words, min_size=0, max_size=3).map("\n\n".join)
    value = st.one_of(
        st.integers(0, 10**9).map(str),
        st.integers(1, 10**6).map(lambda n: f"{n}.{n % 97 + 1:02d}".rstrip("0")),
    )
    months = st.sampled_from([f"2022-{m:02d}" for m in range(1, 10)] + ["2021-12"])

    @st.composite
    def content(draw):
        commentary = draw(
            st.lists(
                st.tuples(st.sampled_from(STRANDS), st.sampled_from(QUARTERS), prose),
                max_size=6,
                unique_by=lambda r: r[:2],
            )
        )
        metrics = draw(
            st.lists(
                st.tuples(st.sampled_from(STRANDS), words, words, months, words, value, words),
                max_size=6,
                unique_by=lambda r: (
                    r[0],
                    r[1],
                    r[2],
                    r[4],
                    r[3][:5] + str((int(r[3][5:]) + 2) // 3),
                ),
            )
        )
        action_ids = draw(
            st.lists(st.from_regex(r"[A-Z]{3}-[0-9]{3}", fullmatch=True), max_size=6, unique=True)
        )
        actions, statuses = [], []
        for action_id in action_ids:
            completed = draw(st.one_of(st.just(""), months))
            actions.append(
                [action_id, draw(st.sampled_from(STRANDS)), draw(words), draw(months), completed]
            )
            for quarter in sorted(draw(st.sets(st.sampled_from(QUARTERS)))):
                statuses.append([action_id, quarter, draw(st.sampled_from(STATUSES))])
        return [list(r) for r in commentary], [list(r) for r in metrics], actions, statuses

    return content()


def test_any_valid_files_come_back_byte_for_byte(tmp_path_factory: pytest.TempPathFactory):
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_leads_content())
    def round_trip(files) -> None:
        commentary, metrics, actions, statuses = files
        folder = tmp_path_factory.mktemp("round-trip")
        for name, rows in zip(COLUMNS, (commentary, metrics, actions, statuses), strict=True):
            _write_csv(folder / name, COLUMNS[name], rows)
        store = open_store(folder, url=f"sqlite:///{folder / 'updates.db'}")
        try:
            import_csv(store, folder, "CSV import")
            if not any(files):
                with pytest.raises(UpdateError, match="is empty"):
                    export_csv(store, folder / "out")
                return
            export_csv(store, folder / "out")
        finally:
            store.dispose()
        for name in COLUMNS:
            assert (folder / "out" / name).read_bytes() == (folder / name).read_bytes(), name

    round_trip()


def test_a_repeated_row_is_refused_not_doubled(leads_files: Path, tmp_path: Path):
    folder = tmp_path / "files"
    shutil.copytree(leads_files, folder)
    with (folder / METRICS_FILE).open("a", encoding="utf-8") as handle:
        handle.write((folder / METRICS_FILE).read_text().splitlines()[1] + "\n")
    with (folder / ACTIONS_FILE).open("a", encoding="utf-8") as handle:
        handle.write((folder / ACTIONS_FILE).read_text().splitlines()[1] + "\n")
    store = open_store(tmp_path, url=f"sqlite:///{tmp_path / 'updates.db'}")
    try:
        with pytest.raises(ImportRefused) as refused:
            import_csv(store, folder, "CSV import")
    finally:
        store.dispose()
    assert "metrics.csv, line 36: repeats line 2" in str(refused.value)
    assert "actions.csv, line 585: the action id KNF-001 is already used on line 2" in str(
        refused.value
    )
