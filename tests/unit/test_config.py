from pathlib import Path

import pytest

from storage.config import ConfigError, load_config


def write(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "finops-tui.toml").write_text(text, encoding="utf-8")
    return home


def test_defaults_without_a_file(tmp_path: Path) -> None:
    cfg = load_config(tmp_path)
    assert cfg.taxonomy.allocation_key == "team"
    assert cfg.taxonomy.keys == ("team", "environment", "service", "cost-center", "owner")
    assert cfg.taxonomy.canonical_key(" Env ") == "environment"
    assert cfg.targets.allocation_pct == 90.0
    assert cfg.source is None


def test_user_values_override_and_merge(tmp_path: Path) -> None:
    write(tmp_path, '[taxonomy]\nallocation_key = "Business_Unit"\n[taxonomy.aliases]\nBU = "business_unit"\n'
                    '[targets]\nallocation_pct = 95\n[general]\ncurrency = "eur"\n')
    cfg = load_config(tmp_path)
    assert cfg.taxonomy.allocation_key == "business_unit"
    assert cfg.taxonomy.canonical_key("bu") == "business_unit"
    assert cfg.taxonomy.canonical_key("env") == "environment"  # the shipped aliases are kept
    assert cfg.targets.allocation_pct == 95.0
    assert cfg.currency == "EUR"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[targets]\nallocation_pc = 90\n", "targets.allocation_pc"),
        ("[taxonomy]\nallocation_key = 3\n", "taxonomy.allocation_key"),
        ("[calendar]\nsweep_weekday = 9\n", "calendar.sweep_weekday"),
        ("[general]\ntimezone = \"Mars/Olympus\"\n", "general.timezone"),
        ("[shared_costs]\nmethod = \"random\"\n", "shared_costs.method"),
        ("[nonsense]\nx = 1\n", "nonsense"),
        ("[targets]\nallocation_pct = 140\n", "targets.allocation_pct"),
    ],
)
def test_a_bad_key_is_named_with_the_file(tmp_path: Path, text: str, named: str) -> None:
    path = write(tmp_path, text) / "finops-tui.toml"
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert named in str(err.value)
    assert str(path) in str(err.value)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    write(tmp_path, "[targets\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path)


def test_ui_theme_and_keymap(tmp_path: Path) -> None:
    assert load_config(tmp_path).theme == "dark" and load_config(tmp_path).keys == {}
    write(tmp_path, '[ui]\ntheme = "high-contrast"\n[keys]\nstepper-next = " n , right "\ntable-export = "x"\n')
    cfg = load_config(tmp_path)
    assert cfg.theme == "high-contrast"
    assert cfg.keys == {"stepper-next": "n,right", "table-export": "x"}


@pytest.mark.parametrize(("text", "named"), [
    ('[ui]\ntheme = "sepia"\n', "ui.theme"),
    ('[keys]\nstepper-next = 3\n', "keys.stepper-next"),
    ('[keys]\nstepper-next = "n,,b"\n', "keys.stepper-next"),
    ('[ui]\ncolour = "dark"\n', "ui.colour"),
])
def test_bad_ui_and_keys_are_named(tmp_path: Path, text: str, named: str) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")) as err:
        load_config(tmp_path)
    assert "finops-tui.toml" in str(err.value)
