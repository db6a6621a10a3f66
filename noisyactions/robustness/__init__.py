"""Robustness experiments of the paper (Sec. 4.3, App. B.2): training on corrupted labels and videos."""
