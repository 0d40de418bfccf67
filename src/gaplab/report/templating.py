"""The Jinja2 environments the Markdown and HTML reports are rendered with.

Templates live in `gaplab/report/templates/`. Both environments escape every `{{ }}`
output by default, so text from a run (a summary quoting an answer, a fault description)
can never become markup: HTML with Jinja's autoescape, Markdown with `markdown_text` as the
finalizer. The filters are gaplab.report.figures, so numbers read the same in every format.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from gaplab import __version__
from gaplab.report import figures

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~$])")
_URL_SCHEME = re.compile(r"(?i)\b(https?|ftp|file|data|javascript):(//)?")
_WWW = re.compile(r"(?i)\bwww\.")


def markdown_text(value: Any) -> str:
    """`value` as literal GitHub-flavoured Markdown: special characters escaped (tables keep
    their columns, nothing turns into markup or math) and URLs defanged (`https[:]//`), since
    GitHub links bare URLs and a report has no links."""
    if isinstance(value, Markup):  # trusted output of a filter, already literal
        return str(value)
    text = "" if value is None else str(value)
    text = _URL_SCHEME.sub(lambda m: f"{m.group(1)}[:]" + ("//" if m.group(2) else ""), text)
    text = _WWW.sub("www[.]", text)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("\r", " ").replace("\n", " ")


def _filters(env: Environment) -> None:
    env.filters.update(
        duration=figures.duration,
        usd=figures.usd,
        share=figures.share,
        number=figures.number,
        ratio=figures.ratio,
        score=figures.score,
        margin=figures.margin,
        verdict=lambda v: figures.VERDICT_LABEL.get(v, v),
    )
    env.globals.update(
        figures=figures,
        version=__version__,
        fault_cells=figures.fault_cells,
        ordered_checks=figures.ordered_checks,
        attention=figures.attention,
        evidence_numbers=figures.numbers,
    )


@cache
def html_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("gaplab.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    _filters(env)
    return env


@cache
def markdown_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("gaplab.report", "templates"),
        autoescape=False,
        finalize=markdown_text,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    _filters(env)
    return env
