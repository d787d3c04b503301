"""Four data folders, each built once per test session, for the tests that must hold on any
data: the demo; the demo with two months taken out; the twelve real data.police.uk Essex
months; and a scaled demo holding several forces.

Loaded as a pytest plugin by conftest.py, so `demo_folder`, `gapped_folder`, `police_uk_folder`
and `scaled_folder` are fixtures everywhere, and `data_folder` is each of them in turn for a test
that asks for it by `indirect` parametrisation over `FOLDER_NAMES`.

Every folder is built the way a user builds one: the `crimeprev` command, run in-process.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from crimeprev.aggregate import build_aggregates
from crimeprev.cli.main import main
from crimeprev.config import config_for
from crimeprev.store import REPOSITORY_ROOT, month_partition

RAW = REPOSITORY_ROOT.parent / "shared" / "data" / "raw"
POLICE_UK_FOLDERS = ("policeuk_essex_detective", "policeuk_essex_geoinfo")
LSOA_LOOKUP = RAW / "drkane_geo_lookups" / "derived" / "essex_lsoa_to_lad_lookup.csv"
# Taken out of the demo: one month inside the default period's 12 months, one inside the 12
# before, so both windows of the latest periods are incomplete while earlier ones are whole.
GAP_MONTHS = (date(2021, 6, 1), date(2022, 2, 1))
# The smallest size that is quick to write; every scaled folder holds at least three forces.
SCALE_MILLIONS = 0.1
FOLDER_NAMES = ("demo", "gapped", "police-uk", "scaled")


def _crimeprev(root: Path, *args: str) -> None:
    status = main(["--data-dir", str(root), *args])
    assert status == 0, f"crimeprev {' '.join(args)} failed with status {status}"
    config_for.cache_clear()


def police_uk_files() -> list[Path]:
    """The twelve monthly street files, or a skip saying why they are not here."""
    files = sorted(p for folder in POLICE_UK_FOLDERS for p in (RAW / folder).glob("*-street.csv"))
    if len(files) != 12 or not LSOA_LOOKUP.is_file():
        pytest.skip(
            f"The real data.police.uk extracts are not here ({RAW} is absent or incomplete): "
            "the tests over the imported folder are skipped."
        )
    return files


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo extract, as `crimeprev demo` writes it."""
    root = tmp_path_factory.mktemp("folder-demo")
    _crimeprev(root, "demo")
    return root


@pytest.fixture(scope="session")
def gapped_folder(tmp_path_factory: pytest.TempPathFactory, demo_folder: Path) -> Path:
    """The demo extract with the months of GAP_MONTHS taken out, the monthly tables rebuilt for
    those months as an import rebuilds the months it touched."""
    root = tmp_path_factory.mktemp("folder-gapped") / "data"
    shutil.copytree(demo_folder, root)
    for month in GAP_MONTHS:
        shutil.rmtree(month_partition(root, month))
    build_aggregates(root, months=list(GAP_MONTHS))
    return root


@pytest.fixture(scope="session")
def police_uk_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The twelve real Essex months (2018-01 to 2019-02 without 2018-08 and 2018-09), imported
    with `crimeprev import police-uk` and the LSOA lookup."""
    police_uk_files()
    root = tmp_path_factory.mktemp("folder-police-uk")
    _crimeprev(
        root,
        "import",
        "police-uk",
        *(str(RAW / folder) for folder in POLICE_UK_FOLDERS),
        "--lsoa-lookup",
        str(LSOA_LOOKUP),
        "--format",
        "json",
    )
    return root


@pytest.fixture(scope="session")
def scaled_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`crimeprev demo --scale`: the demo force and synthetic forces in one folder."""
    root = tmp_path_factory.mktemp("folder-scaled")
    _crimeprev(root, "demo", "--scale", str(SCALE_MILLIONS))
    return root


FIXTURE_OF = {
    "demo": "demo_folder",
    "gapped": "gapped_folder",
    "police-uk": "police_uk_folder",
    "scaled": "scaled_folder",
}


@pytest.fixture(scope="session")
def data_folder(request: pytest.FixtureRequest) -> Path:
    """One of the four folders, named by the test's indirect parameter."""
    folder: Path = request.getfixturevalue(FIXTURE_OF[request.param])
    return folder
