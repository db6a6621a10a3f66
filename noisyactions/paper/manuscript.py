"""The manuscript: paper/manuscript.md, a Jinja2 template, filled from the results the workflow wrote.

Tables and figures are included from the generated files and every number in the prose is a template
expression over them ("{{ cell('table6', 'Asymmetric 80%', column='With Pretraining') }}"), so the text
cannot drift from the results. An undefined name, a row or column a table does not have, or any
template field left in the output is an error naming the template and its line: a manuscript is never
written with a blank where a number should be.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Mapping

import jinja2

from noisyactions.atomic import atomic_write_text
from noisyactions.claims import claims_table_markdown
from noisyactions.html_pages import markdown_page
from noisyactions.paper.table_cells import WrittenTable

UNFILLED = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")


class ManuscriptError(ValueError):
    pass


class Results:
    """What the template may quote: tables (by name), figures, notebooks, the claims and the provenance."""

    def __init__(self, tables: Mapping[str, Path], figures: Mapping[str, Path], notebooks: Mapping[str, Path], claims: Path | None, page_folder: Path):
        self.tables = {name: Path(path) for name, path in tables.items()}
        self.figures = {name: Path(path) for name, path in figures.items()}
        self.notebooks = {name: Path(path) for name, path in notebooks.items()}
        self.claims = json.loads(Path(claims).read_text()) if claims else []
        self.page_folder = Path(page_folder)
        self._read: dict[str, WrittenTable] = {}

    def _named(self, kind: str, known: Mapping[str, Path], name: str) -> Path:
        if name not in known:
            raise KeyError(f"no {kind} {name!r} among this manuscript's inputs ({', '.join(sorted(known)) or 'none'})")
        return known[name]

    def _relative(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.page_folder)).as_posix()

    def written(self, name: str) -> WrittenTable:
        if name not in self._read:
            self._read[name] = WrittenTable(self._named("table", self.tables, name))
        return self._read[name]

    def table(self, name: str) -> str:
        """The table as written (its Markdown: caption with provenance, then the table)."""
        return self._named("table", self.tables, name).with_suffix(".md").read_text().strip()

    def cell(self, name: str, *labels: str, column: str | None = None):
        return self.written(name).cell(*labels, column=column)

    def rows(self, name: str) -> list[tuple[str, ...]]:
        """Each row's labels: prose over rows the config decides (Table 6's noise rates)."""
        written = self.written(name)
        return [tuple(row) for row in written.frame[written.label_columns].itertuples(index=False)]

    def value(self, name: str, *labels: str, column: str) -> str:
        return self.written(name).value(*labels, column=column)

    def figure(self, name: str, caption: str) -> str:
        path = self._relative(self._named("figure", self.figures, name))
        return f"![{caption}]({path})\n\n*{caption}*"

    def notebook(self, name: str, text: str | None = None) -> str:
        return f"[{text or name}]({self._relative(self._named('notebook', self.notebooks, name))})"

    def claim(self, claim_id: str) -> dict:
        for record in self.claims:
            if record["id"] == claim_id:
                return record
        raise KeyError(f"no claim {claim_id!r} in the claims' results")

    def verdicts(self) -> Counter:
        return Counter(record["verdict"] for record in self.claims)

    def namespace(self) -> dict:
        return {"table": self.table, "cell": self.cell, "value": self.value, "rows": self.rows, "figure": self.figure, "notebook": self.notebook,
                "claim": self.claim, "claims": self.claims, "verdicts": self.verdicts(), "claims_table": lambda: claims_table_markdown(self.claims).strip()}


def _not_none(value):
    """A field that is None (a config key left null, a cell without a value) must not print "None"."""
    if value is None:
        raise ValueError("a template field is None (a null config value or an empty result): quote what it stands for instead")
    return value


def _located(template: Path, error: Exception, lineno: int | None) -> ManuscriptError:
    where = f"{template}, line {lineno}" if lineno else str(template)
    return ManuscriptError(f"{where}: {type(error).__name__}: {error}")


def fill(template: Path, results: Results, values: Mapping[str, object]) -> str:
    """The template with every field filled; `values` are plain names (scale, provenance, config)."""
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False, finalize=_not_none)
    try:
        compiled = environment.from_string(Path(template).read_text())
        text = compiled.render(**results.namespace(), **values)
    except jinja2.TemplateSyntaxError as error:
        raise _located(template, error, error.lineno) from None
    except Exception as error:  # whatever a template expression raised: say where in the template
        raise _located(template, error, _template_line(error)) from None
    for number, line in enumerate(text.splitlines(), 1):
        if UNFILLED.search(line):
            raise ManuscriptError(f"{template}: the filled manuscript's line {number} still has a template field: {line.strip()[:120]}")
    return text


def _template_line(error: Exception) -> int | None:
    """The template line a render error came from (Jinja marks its frames with the template's name)."""
    trace, line = error.__traceback__, None
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def template_values(scale: str, config: Mapping) -> dict:
    """The plain names the template may use besides the results: the scale, provenance and settings."""
    from noisyactions.dataset.comparison import our_row_label
    from noisyactions.paper.provenance import code_version, config_digest, provenance
    from noisyactions.training.geometry import clip_geometry
    from noisyactions.training.model_names import MODEL_NAMES

    return {"scale": scale, "config": config, "provenance": provenance(scale, config), "config_digest": config_digest(config),
            "code_version": code_version(), "models": MODEL_NAMES, "clip": clip_geometry(config["video"], config["training"]),
            "table1_ours": our_row_label(scale)}


def write_manuscript(template: Path, results: Results, values: Mapping[str, object], md_path: Path, html_path: Path, title: str) -> None:
    """The filled Markdown and its HTML (figures embedded), both beside each other in results.page_folder."""
    text = fill(template, results, values)
    atomic_write_text(Path(md_path), text)
    atomic_write_text(Path(html_path), markdown_page(text, title, images_from=Path(md_path).parent))
