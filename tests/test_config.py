"""The strategy configuration: what ships is valid, and mistakes are caught with a clear message."""

import shutil
from pathlib import Path

import pytest

from crimeprev.config import DEFAULT_CONFIG_DIR, ConfigError, load_config

REFERENCE_STRANDS = [
    "knife-crime",
    "rape",
    "night-time-economy",
    "county-lines",
    "serious-organised-crime",
    "cybercrime-fraud",
    "child-abuse-cse",
    "domestic-abuse",
    "drugs-alcohol",
    "mental-health",
    "places",
    "burglary-robbery",
    "prevent",
    "hate-crime",
]


def test_the_shipped_config_has_the_fourteen_strands_in_report_order():
    config = load_config()
    assert [s.id for s in config.strands] == REFERENCE_STRANDS
    assert {s.group for s in config.strands} == {
        "Serious Violence",
        "Organised Crime",
        "Complex Needs",
        "Vulnerabilities",
    }


def test_the_shipped_config_has_fourteen_districts_in_three_lpas():
    config = load_config()
    assert len(config.force_districts) == 14
    assert config.lpas == ("North", "South", "West")
    north = sorted(d.name for d in config.force_districts if d.lpa == "North")
    assert north == ["Braintree", "Colchester", "Tendring", "Uttlesford"]


def test_every_measure_names_its_unit_direction_and_definition():
    for measure in load_config().measures:
        assert measure.improvement in ("up", "down")
        assert measure.definition
        assert measure.rule.describe().startswith(measure.rule.record_kind)


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('flags = ["is_knife_enabled"]', 'flags = ["is_sharp"]', "unknown flag 'is_sharp'"),
        ('crime_types = ["Rape"]', 'crime_types = ["Rapes"]', "unknown crime type 'Rapes'"),
        ('record_kind = "incident"', 'record_kind = "call"', "unknown record kind 'call'"),
        ('improvement = "down"', 'improvement = "sideways"', "improvement must be"),
        ('id = "fraud"', 'id = "cyber-online"', "used twice"),
        ("rule = { record_kind", "rules = { record_kind", "'rule' is missing"),
        ('name = "Knife-enabled crime"', 'name = ""', "'name' is missing or empty"),
    ],
)
def test_mistakes_in_a_measure_are_reported(config_copy, old, new, message):
    _edit(config_copy / "strategy.toml", old, new)
    with pytest.raises(ConfigError, match=message):
        load_config(config_copy)


def test_a_new_measure_is_a_config_change(config_copy):
    text = (config_copy / "strategy.toml").read_text()
    text += (
        '\n  [[strands.measures]]\n  id = "hate-crime-online"\n  name = "Online hate crime"\n'
        '  unit = "crimes"\n  improvement = "up"\n  definition = "Hate crimes committed online."\n'
        '  rule = { record_kind = "crime", flags = ["is_hate_crime", "is_online"] }\n'
    )
    (config_copy / "strategy.toml").write_text(text)
    config = load_config(config_copy)
    assert config.measure("hate-crime-online").strand_id == "hate-crime"
    assert config.fingerprint != load_config().fingerprint


def test_broken_toml_names_the_file(config_copy):
    (config_copy / "strategy.toml").write_text("[[strands]\nid = ")
    with pytest.raises(ConfigError, match="strategy.toml: not valid TOML"):
        load_config(config_copy)


def test_duplicate_district_slug_is_refused(config_copy):
    _edit(config_copy / "districts.csv", "harlow,West", "basildon,West")
    with pytest.raises(ConfigError, match="district slug is used twice"):
        load_config(config_copy)


def test_a_folder_map_section_without_sensitive_strands_keeps_them_protected(config_copy):
    strategy = config_copy / "strategy.toml"
    text = strategy.read_text()
    start = text.index("sensitive_strands")
    strategy.write_text(text[:start] + text[text.index("\n", start) + 1 :])
    assert load_config(config_copy).map.sensitive_strands == (
        "rape",
        "child-abuse-cse",
        "domestic-abuse",
    )
    strategy.write_text(
        text.replace(text[start : text.index("\n", start)], "sensitive_strands = []")
    )
    assert load_config(config_copy).map.sensitive_strands == ()


def test_the_police_uk_profile_extends_the_default_strands(tmp_path: Path):
    config = load_config(DEFAULT_CONFIG_DIR / "profiles" / "police-uk")
    default = load_config(DEFAULT_CONFIG_DIR)
    assert [s.name for s in config.strands] == [s.name for s in default.strands]
    assert config.profile == "police-uk"
    for strand in config.strands:
        assert bool(strand.measures) != bool(strand.not_supported), strand.id
        assert all(m.proxy_note for m in strand.measures), strand.id
