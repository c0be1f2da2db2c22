"""nba_failures: an NBA stats pipeline whose every entity-level failure is typed, stored and retried."""
