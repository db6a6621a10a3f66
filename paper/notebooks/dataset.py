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
# # The dataset: Tables 1-2 and Figures 1-5 (Sec. 3 of the paper)
#
# Executed by `snakemake paper` (rule `notebook`) on the files its rule declares; open it in Jupyter
# with jupytext to explore. Every number and figure here comes from `results/`; the tables put the
# paper's numbers beside ours, and their captions say at what scale ours were made.

# %% tags=["parameters"]
# Defaults for running by hand from the workflow's folder; the rule replaces them with its inputs.
inputs = {
    "table1_csv": "results/tables/table1.csv", "table1_md": "results/tables/table1.md",
    "table2_csv": "results/tables/table2.csv", "table2_md": "results/tables/table2.md",
    "dataset": "results/dataset/noisyactions.parquet", "entities": "results/dataset/entities.parquet",
    "figure3": "results/figures/figure3.png", "figure5": "results/figures/figure5.png",
}
scale = "embedded synthetic world"

# %%
from pathlib import Path

import pyarrow.parquet as pq
from IPython.display import Image, Markdown, display

from noisyactions.dataset import figures
from noisyactions.dataset.comparison import our_row_label
from noisyactions.paper.display import show_figure
from noisyactions.paper.table_cells import WrittenTable

# only the columns Figures 1 and 4 read: at paper scale the table is 2M rows of text
table = pq.read_table(inputs["dataset"], columns=sorted({*figures.FIGURE_COLUMNS["figure1"], *figures.FIGURE_COLUMNS["figure4"]}))
entities = pq.read_table(inputs["entities"])
print(f"{table.num_rows:,} videos in the dataset table ({scale})")

# %% [markdown]
# ## Table 1: datasets for video understanding
# Our row is counted from the dataset table; the others are the paper's.

# %%
display(Markdown(Path(inputs["table1_md"]).read_text()))
ours = WrittenTable(inputs["table1_csv"]).row(our_row_label(scale))
print(f"ours: {ours['# Videos']} videos, {ours['# Classes']} classes")

# %% [markdown]
# ## Table 2: statistics of the dataset

# %%
display(Markdown(Path(inputs["table2_md"]).read_text()))
statistics = WrittenTable(inputs["table2_csv"])
countries = statistics.cell("Total number of Countries")
print(f"countries: {countries.ours} (paper: {countries.paper})")

# %% [markdown]
# ## Figure 1: distribution of labels and videos (log scale)

# %%
show_figure(figures.figure1_label_distribution(table, scale))

# %% [markdown]
# ## Figure 2: entity types in the metadata

# %%
show_figure(figures.figure2_entities(entities, scale))

# %% [markdown]
# ## Figure 3: frames from some videos, with their metadata
# Drawn by the `figure` rule, which reads the videos themselves.

# %%
display(Image(filename=inputs["figure3"]))

# %% [markdown]
# ## Figure 4: country distribution of the videos

# %%
show_figure(figures.figure4_countries(table, scale))

# %% [markdown]
# ## Figure 5: frames of videos from several classes

# %%
display(Image(filename=inputs["figure5"]))
