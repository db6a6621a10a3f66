# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Robustness: Tables 6-7 (Sec. 6.3 of the paper)
#
# Fine-tuning on UCF101 with noisy training labels (Table 6) and with corrupted video files (Table 7),
# with and without pretraining on the noisy split. First what the noise and the corruption did to the
# data, then the tables, drawn with every repeat, and the paper's claims about them.

# %% tags=["parameters"]
# Defaults for running by hand from the workflow's folder; the rule replaces them with its inputs.
inputs = {
    "table6_csv": "results/tables/table6.csv", "table6_md": "results/tables/table6.md", "table6_runs": "results/figures/table6_runs.png",
    "table7_csv": "results/tables/table7.csv", "table7_md": "results/tables/table7.md", "table7_runs": "results/figures/table7_runs.png",
    "claims": "results/claims.json",
    "ucf101_noise40_report": "results/robustness/label_noise/ucf101_noise40/report.json",
    "ucf101_noise80_report": "results/robustness/label_noise/ucf101_noise80/report.json",
    "corruption": "results/robustness/corruption/report.csv",
}
scale = "embedded synthetic world"

# %%
import json
from pathlib import Path

import pandas as pd
from IPython.display import display

from noisyactions.paper.display import show_result_table

claims = json.loads(Path(inputs["claims"]).read_text())
print(f"Ours: {scale}")


# %% [markdown]
# ## The label noise: how many training labels each copy of UCF101 flipped

# %%
noise = pd.DataFrame([{"copy": key.removesuffix("_report"), **json.loads(Path(path).read_text())}
                      for key, path in inputs.items() if key.endswith("_report")])
display(noise.drop(columns=[c for c in noise.columns if isinstance(noise[c].iloc[0], (dict, list))]).style.hide(axis="index"))

# %% [markdown]
# ## Table 6: label noise (Sec. 6.3)

# %%
show_result_table("table6", inputs, claims)

# %% [markdown]
# ## The corruption: which videos still decode

# %%
display(pd.read_csv(inputs["corruption"]).style.hide(axis="index"))

# %% [markdown]
# ## Table 7: corrupted video files (Sec. 6.3)

# %%
show_result_table("table7", inputs, claims)
