"""Which fine-tuning epochs are evaluated on the test list, apart from the trainer so the cost estimate
counts them without torch."""


def evaluation_epochs(epochs: int, every: int) -> list[int]:
    """Every `every`-th epoch and always the last one. The paper evaluates after every epoch and reports
    the best (every = 1); at paper scale that is a third of the GPU time (README, What paper scale costs),
    and evaluating less often trades it for a best epoch picked among fewer."""
    if every < 1:
        raise ValueError(f"training.finetune.evaluate_every = {every}: must be at least 1")
    return [epoch for epoch in range(epochs) if (epoch + 1) % every == 0 or epoch == epochs - 1]
