"""spaCy registry entries used by nlp/configs/*.cfg (imported before loading the model)."""

from __future__ import annotations
