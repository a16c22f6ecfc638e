"""Billing exports of every provider, normalised to FOCUS columns. One adapter module per export format."""
