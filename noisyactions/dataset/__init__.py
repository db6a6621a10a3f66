"""From the crawl to the NoisyActions2M dataset: the dataset table, its statistics, figures and splits."""
