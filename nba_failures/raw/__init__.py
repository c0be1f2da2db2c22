"""Phase 2: raw landing files copied into `nba_raw`, exactly as landed."""
