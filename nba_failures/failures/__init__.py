"""Typed failure records: what every processor reports for each entity it could not process."""
