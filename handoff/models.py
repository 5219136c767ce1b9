"""Staff-side tables (written by the handoff issue)."""
