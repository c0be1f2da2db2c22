"""Phase 5: predictions from the feature store, with their failures in nba_processing.prediction_failures."""
