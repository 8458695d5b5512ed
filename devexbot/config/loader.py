"""Reading the YAML file into a `BotConfig`; errors name the file and line."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from devexbot.config.bot import BotConfig
from devexbot.config.suggest import nearest_key
from devexbot.config.yaml_lines import dotted, line_of
from devexbot.errors import ConfigError


def load_config(path: Path, *, required: bool = False) -> BotConfig:
    """Read and validate the config; a missing file means defaults unless `required`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: no such file") from None
        return BotConfig()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_config(text, source=str(path), base_dir=path.parent.resolve())


def parse_config(text: str, *, source: str = "<config>", base_dir: Path | None = None
                 ) -> BotConfig:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}:1: the config must be a mapping of sections")
    base_dir = base_dir if base_dir is not None else Path.cwd()
    try:
        return _placed(BotConfig.model_validate(raw), source, root, base_dir)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            line = line_of(root, error["loc"])
            where = f"{source}:{line}" if line else source
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "extra_forbidden" and \
                    (meant := nearest_key(BotConfig, error["loc"])) is not None:
                message += f" (did you mean `{meant}`?)"
            problems.append(f"{where}: {dotted(error['loc'])}: {message}")
        failed = {error["loc"][0] for error in exc.errors() if error["loc"]}
        raise ConfigError(problems[0], problems=problems,
                          valid_part=_valid_part(raw, failed, source, root, base_dir)) from None


def _placed(config: BotConfig, source: str, root: yaml.Node | None, base_dir: Path
            ) -> BotConfig:
    config._source, config._root, config._base_dir = source, root, base_dir
    return config


def _valid_part(raw: dict[str, object], failed: set[int | str], source: str,
                root: yaml.Node | None, base_dir: Path) -> BotConfig | None:
    """The config without the sections that have mistakes, when that much is valid: so a
    check can also look at the rest (the runbooks, say) instead of stopping at the first
    section's mistakes."""
    try:
        valid = BotConfig.model_validate({k: v for k, v in raw.items() if k not in failed})
    except ValidationError:
        return None  # the rest leans on a section that failed
    return _placed(valid, source, root, base_dir)
