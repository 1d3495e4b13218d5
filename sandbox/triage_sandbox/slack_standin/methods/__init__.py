"""Slack Web API methods, one function each, grouped by family (``chat``, ``conversations``,
...). Importing this package registers every module in it with
:func:`triage_sandbox.slack_standin.webapi.web_api`: a new family is a new module here."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
