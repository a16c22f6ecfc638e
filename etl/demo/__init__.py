"""A deterministic synthetic company's billing exports, in each provider's native format (clearly synthetic)."""
