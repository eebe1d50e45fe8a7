"""Evaluation protocol, metrics, tables and figures."""
