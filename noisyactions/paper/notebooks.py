"""Execute a jupytext notebook the way a rule needs it: parameters in, an executed .ipynb and HTML out.

Notebooks stay py:percent text in git (diffs a reviewer can read); the rule turns one into an .ipynb,
puts the rule's inputs into it after the cell tagged "parameters" (as papermill does, so the notebook
reads exactly the files the rule declares and Snakemake knows when to run it again), runs every cell
in a fresh kernel of this Python, and writes the executed notebook and its HTML.
"""

from __future__ import annotations

import os
import pprint
import re
import sys
from pathlib import Path
from typing import Mapping

import jupytext
import nbformat

from noisyactions.atomic import atomic_write_text
from noisyactions.paper.provenance import CHECKOUT

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"


class NotebookError(RuntimeError):
    pass


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def inject_parameters(notebook: nbformat.NotebookNode, values: Mapping[str, object], name: str) -> None:
    """A code cell setting `values` (as Python literals) right after the "parameters" cell."""
    tagged = [index for index, cell in enumerate(notebook.cells) if PARAMETERS_TAG in _tags(cell)]
    if len(tagged) != 1:
        raise ValueError(f"{name}: needs exactly one cell tagged {PARAMETERS_TAG!r} (found {len(tagged)}): "
                         f"write `# %% tags=[\"{PARAMETERS_TAG}\"]` above the cell with the defaults")
    lines = ["# Parameters set by the workflow (the rule's inputs and params)"]
    lines += [f"{key} = {pprint.pformat(value, width=100, sort_dicts=True)}" for key, value in values.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": [INJECTED_TAG]})
    notebook.cells.insert(tagged[0] + 1, cell)


def kernel_env() -> dict[str, str]:
    """The kernel imports this checkout's noisyactions, also in a conda env where it is not installed."""
    path = os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def _this_python_kernel():
    """A kernel of this interpreter, whatever kernelspecs the machine has registered: the notebook must
    see the packages of the rule that runs it, not those of some other "python3"."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import KernelManager

    class ThisPythonKernel(KernelManager):
        @property
        def kernel_spec(self) -> KernelSpec:
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name=f"Python {sys.version_info.major}.{sys.version_info.minor}", language="python")

    return ThisPythonKernel()


def execute(source: Path, values: Mapping[str, object], workdir: Path, timeout: int = 1800) -> nbformat.NotebookNode:
    """Run every cell in a new kernel of this interpreter, in `workdir`; a failing cell raises an error
    naming the notebook and showing the cell's traceback."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebook = jupytext.read(source)
    inject_parameters(notebook, values, str(source))
    client = NotebookClient(notebook, km=_this_python_kernel(), timeout=timeout, resources={"metadata": {"path": str(workdir)}})
    try:
        client.execute(env=kernel_env(), cwd=str(workdir))
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        raise NotebookError(f"{source}: {_failed_cell(notebook)} failed: {type(error).__name__}\n{error}") from None
    return notebook


def _failed_cell(notebook: nbformat.NotebookNode) -> str:
    """Which cell stopped the run, as a reader finds it in the .py file: its first line of code."""
    for number, cell in enumerate(notebook.cells, 1):
        if any(output.get("output_type") == "error" for output in cell.get("outputs", [])):
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            return f"cell {number} ({first.strip()[:80]!r})"
    return "a cell (the kernel stopped before reporting which)"


def to_html(notebook: nbformat.NotebookNode) -> str:
    """Self-contained HTML (figures are inline PNG outputs already); no script is fetched from the web."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.mathjax_url = exporter.require_js_url = ""
    body, _ = exporter.from_notebook_node(notebook)
    return re.sub(r'<script src="">\s*</script>\n?', "", body)  # what the emptied urls leave


def run_notebook(source: Path, values: Mapping[str, object], ipynb: Path, html: Path, workdir: Path) -> None:
    notebook = execute(Path(source), values, Path(workdir))
    atomic_write_text(Path(ipynb), nbformat.writes(notebook))
    atomic_write_text(Path(html), to_html(notebook))
