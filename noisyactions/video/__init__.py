"""Video files: writing them (the embedded world, the training cache) and reading them back."""
