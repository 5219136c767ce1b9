"""The つなぐシート categories. Ids are fixed (../shared/domain.md); labels are the sheet's wording."""

from __future__ import annotations

CATEGORIES: dict[str, str] = {
    "medical_welfare": "医療、福祉の相談",
    "income": "収入の相談",
    "work": "仕事の相談",
    "family": "家庭の相談",
    "parenting": "子育ての相談",
    "housing": "住まいの相談",
    "other": "その他の相談",
}

SUBCATEGORIES: dict[str, tuple[str, str]] = {
    "illness": ("medical_welfare", "病名・医療"),
    "mental_health": ("medical_welfare", "メンタルヘルス"),
    "nursing_care": ("medical_welfare", "介護"),
    "disability": ("medical_welfare", "障害"),
    "living_expenses": ("income", "生活費"),
    "debt": ("income", "債務(借金)"),
    "arrears": ("income", "滞納"),
    "tax": ("income", "税金"),
    "labor": ("work", "労務"),
    "job_change": ("work", "転職・求職"),
    "job_content": ("work", "仕事内容"),
    "workplace_relations": ("work", "人間関係"),
    "family": ("family", "家族"),
    "dv_abuse": ("family", "DV・虐待"),
    "hikikomori": ("family", "ひきこもり"),
    "family_care": ("family", "家族介護"),
    "childcare": ("parenting", "育児"),
    "pregnancy": ("parenting", "妊娠"),
    "childbirth": ("parenting", "出産"),
    "development": ("parenting", "発達"),
    "school_refusal": ("parenting", "不登校"),
    "learning_support": ("parenting", "学習支援"),
    "school_progression": ("parenting", "進学"),
    "education_funds": ("parenting", "教育資金"),
    "rent": ("housing", "家賃"),
    "dwelling": ("housing", "住居"),
    "guarantor": ("housing", "保証人"),
    "rights_protection": ("other", "権利保護"),
    "community": ("other", "地域関係"),
    "agriculture": ("other", "農林支援"),
    "misc": ("other", "その他"),
}

RISK_FLAGS: dict[str, str] = {
    "suicide_risk": "自殺の危険",
    "violence_risk": "暴力の危険",
    "medical_emergency": "救急",
}


def parent_of(subcategory: str) -> str:
    return SUBCATEGORIES[subcategory][0]


def subcategories_of(category: str) -> list[str]:
    return [sub for sub, (parent, _) in SUBCATEGORIES.items() if parent == category]
