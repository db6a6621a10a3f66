"""Models, losses and the training loop shared by every table (Sec. 4-6)."""
