"""Phase 4: per-day precomputed player and team features in `nba_precompute`."""
