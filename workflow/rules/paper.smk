# The paper itself: the notebooks (paper/notebooks/*.py, jupytext py:percent) executed on the results,
# and the manuscript (paper/manuscript.md, a Jinja2 template) filled from them and rendered to HTML.
# Each notebook declares the results/ files it reads (common.smk: notebook_inputs), so an edit to a
# table re-runs only the notebooks that show it, and the manuscript. The paper's rules run seconds each:
# they are local rules, on the submitting machine, under --profile slurm.

NOTEBOOK_SOURCES = {name: workflow.source_path(f"../../paper/notebooks/{name}.py") for name in NOTEBOOKS}


rule notebook:
    # runs where only its declared inputs exist: a notebook that reads an undeclared file fails here, not
    # silently later when that file changes and the notebook is not re-run
    shadow:
        "minimal"
    localrule: True
    input:
        unpack(notebook_inputs),
    output:
        ipynb=notebook_files("{notebook}")["ipynb"],
        html=report(notebook_files("{notebook}")["html"], caption="../report/notebook.rst", category=PAPER_SECTION,
                    labels={"artefact": "notebook: {notebook}", "kind": "notebook"}),
    log:
        "logs/paper/notebook_{notebook}.log",
    params:
        scale=config["label"],
    conda:
        "../../envs/plots.yaml"
    script:
        "../../scripts/execute_notebook.py"


rule manuscript:
    localrule: True
    input:
        template=workflow.source_path("../../paper/manuscript.md"),
        tables=[table_files(name)["csv"] for name in PAPER_TABLES],
        table_text=[table_files(name)["md"] for name in PAPER_TABLES],
        figures=[figure_files(f"figure{n}")["png"] for n in range(1, 6)] + [figure_files(f"{name}_runs")["png"] for name in result_tables.RESULT_TABLES],
        claims=claims_files()["json"],
        notebooks=[notebook_files(name)["html"] for name in NOTEBOOKS],
    output:
        md=manuscript_files()["md"],
        html=report(manuscript_files()["html"], caption="../report/manuscript.rst", category=PAPER_SECTION,
                    labels={"artefact": "manuscript", "kind": "manuscript"}),
    log:
        "logs/paper/manuscript.log",
    params:
        scale=config["label"],
        config=config,  # the prose quotes settings (epochs, repeats, clip size): a change re-renders it
    conda:
        "../../envs/plots.yaml"
    script:
        "../../scripts/render_manuscript.py"


rule paper:
    input:
        paper_outputs(),


rule paper_pdf:
    """The manuscript printed by headless Chromium (Debian's chromium package): no TeX engine needed. Local:
    compute nodes rarely have a browser."""
    localrule: True
    input:
        manuscript_files()["html"],
    output:
        f"{PAPER}/manuscript.pdf",
    log:
        "logs/paper/manuscript_pdf.log",
    conda:
        "../../envs/plots.yaml"
    script:
        "../../scripts/print_pdf.py"
