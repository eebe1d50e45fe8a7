"""Tier 2: the expert skill library and state-aware fusion into a reference action."""
