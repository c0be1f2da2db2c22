"""`classified_failures`: the completeness resource, the asset that classifies and stores every failure, its checks."""
