"""The raw landing directory: the contract between the feeds and the pipeline."""
