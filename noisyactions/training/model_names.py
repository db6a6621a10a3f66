"""The two video models by config name, with the paper's names; apart from models.py so the Snakefile,
the tables and the claims can name them without importing torch."""

MODEL_NAMES = {"r3d": "R3D-18", "r2plus1d": "R(2+1)D-18"}
