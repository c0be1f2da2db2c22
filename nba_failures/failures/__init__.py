"""The failure core: typed failure records, their classification and prerequisites, the failure store and its views,
retry planning. Pure functions and warehouse reads: no Dagster, no pipeline phase."""
