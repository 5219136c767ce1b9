"""Japanese NLP triage for the 福祉まるごと相談 bot: categories, 主訴, risk flags, facts, masking.

    import nlp
    analyzer = nlp.load()
    analysis = analyzer.analyze("母が80代で、兄が8年ひきこもっています")

Stands alone: imports nothing from bot/ or handoff/, no settings, web or database.
"""

from __future__ import annotations

from nlp.analyzer import Analysis, Analyzer, load
from nlp.facts import Facts

__all__ = ["Analysis", "Analyzer", "Facts", "load"]
