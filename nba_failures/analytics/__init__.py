"""Phase 3: typed per-game analytics in `nba_analytics`."""
