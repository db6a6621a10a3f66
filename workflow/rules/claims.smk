# The paper's Sec. 6 comparisons (workflow/claims.yaml) checked on the tables this config ran: each with
# its two numbers, their difference and a 95% CI over repeats, and a verdict.


rule claims:
    input:
        claims=workflow.source_path("../claims.yaml"),
        results=[path for name in result_tables.RESULT_TABLES for path in table_results(name)],
    output:
        md=claims_files()["md"],
        json=claims_files()["json"],
        html=report(claims_files()["html"], caption="../report/claims.rst", category=CLAIMS_SECTION, labels={"artefact": "Claims", "kind": "table"}),
    log:
        "logs/claims.log",
    params:
        tables=config["training"]["tables"],
        label_noise=config["robustness"]["label_noise"],
        seeds=SEEDS,
        scale=config["label"],
    conda:
        "../../envs/plots.yaml"
    script:
        "../../scripts/claims.py"
