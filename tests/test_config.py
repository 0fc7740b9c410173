"""Configuration defaults that users rely on."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchyard.config import DEFAULT_LOCAL_MODEL, ConfigError, ModelConfig, Settings, load_settings


def test_zero_config_embedded_model_drops_what_it_cannot_honour() -> None:
    models = {m.name: m for m in Settings().with_default_models().models}
    assert models[DEFAULT_LOCAL_MODEL].drop_params is True


def test_a_declared_model_is_strict_unless_it_says_otherwise() -> None:
    settings = Settings(models=[ModelConfig(name="mine", provider="local")]).with_default_models()
    assert [m.drop_params for m in settings.models] == [False]


def test_redis_budgets_without_redis_url_are_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("metering:\n  budget_store: redis\n")
    with pytest.raises(ConfigError, match="budget_store 'redis' needs redis_url"):
        load_settings(config)


def test_zero_config_serves_speech_both_ways_under_openai_names() -> None:
    models = {m.name: m for m in Settings().with_default_models().models}
    assert (models["whisper-base"].task, models["hibari-tts"].task) == ("transcription", "speech")
    assert "whisper-1" in models["whisper-base"].aliases and "tts-1" in models["hibari-tts"].aliases


def test_files_dir_defaults_under_data_dir_and_is_set_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(data_dir=str(tmp_path)).resolved_files_dir == tmp_path / "files"
    monkeypatch.setenv("SWITCHYARD_FILES_DIR", str(tmp_path / "shared"))
    assert load_settings(data_dir=str(tmp_path)).resolved_files_dir == tmp_path / "shared"


def test_image_only_provider_kinds_refuse_other_tasks(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("models:\n  - {name: imagen, provider: gemini, model: imagen-4.0-generate-001}\n")
    with pytest.raises(ConfigError, match="provider 'gemini' serves task 'image' only"):
        load_settings(config)
    config.write_text("models:\n  - {name: core, provider: stability, task: image}\n")
    assert [m.provider for m in load_settings(config).models] == ["stability"]
