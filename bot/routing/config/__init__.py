"""The routing config file (YAML): which team owns which errors, where they alert, and when.

Validated with pydantic at start-up and by `triage-bot check-config FILE`. Every problem is
reported at once, each with the line of the bad value, its path (`routes[2].match.service`),
what is wrong and a concrete fix. `triage.example.yml` at the repo root documents every key.

Durations are strings of digits and units, largest first: "30s", "15m", "1h30m", "2d".
They are held as seconds (float) once validated.
"""

from bot.durations import parse_duration
from bot.routing.config.cli import add_arguments_check_config, cmd_check_config
from bot.routing.config.loader import ConfigError, Problem, check_config, load_config, parse_config
from bot.routing.config.model import (
    Config,
    DefaultRoute,
    Defaults,
    ErrorReportingConfig,
    Match,
    Route,
    Team,
)

__all__ = [
    "Config",
    "ConfigError",
    "DefaultRoute",
    "Defaults",
    "ErrorReportingConfig",
    "Match",
    "Problem",
    "Route",
    "Team",
    "add_arguments_check_config",
    "check_config",
    "cmd_check_config",
    "load_config",
    "parse_config",
    "parse_duration",
]
