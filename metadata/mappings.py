"""Crosswalk tables from the values sources send to the profile's controlled vocabularies.

Every reader maps through these functions, so one value means the same thing whether it
came in LOM, oai_dc or qualified DC.  A value that maps to nothing returns ``None``; the
reader keeps it as received and reports it (``unmapped_vocabulary`` warning).
Licences are recognised by ``metadata.readers.recognise_license``.
"""

from __future__ import annotations

import re
import unicodedata

# --- resource types (CELTS-41) ------------------------------------------------------------

# Keys are matched after ``_key`` folding (lower case, separators removed).
_RESOURCE_TYPE_VALUES: dict[str, tuple[str, ...]] = {
    "web_course": (
        "web course",
        "webcourse",
        "online course",
        "course",
        "mooc",
        "网络课程",
        "在线课程",
        "课程",
        "lecture series",
        "coursematerial",
    ),
    "courseware": (
        "courseware",
        "web courseware",
        "课件",
        "网络课件",
        "slide",
        "slides",
        "presentation",
        "lecture",
        "interactive resource",
        "interactiveresource",
        "simulation",
        "instructional material",
        "interactive simulation",
        # French labels of LOMv1.0 values and NORMETIC (Québec) values, as LOM sends them
        "diapositive",
        "exposé",
        "tutoriel",
        "tutorial",
    ),
    "video": (
        "video",
        "moving image",
        "movingimage",
        "视频",
        "视频素材",
        "视频类素材",
        "video material",
    ),
    "audio": ("audio", "sound", "音频", "音频素材", "音频类素材", "podcast", "audio material"),
    "image": (
        "image",
        "still image",
        "stillimage",
        "figure",
        "diagram",
        "graph",
        "diagramme",
        "graphique",
        "图像",
        "图片",
        "图形/图像类素材",
        "图形图像类素材",
        "image material",
    ),
    "animation": ("animation", "动画", "动画类素材", "animation material"),
    "text": (
        "text",
        "narrative text",
        "narrativetext",
        "文本",
        "文本类素材",
        "table",
        "text material",
        "texte",
        "texte narratif",
        "tableau",
        "texte document informatif",
    ),
    "test_item": (
        "test item",
        "exercise",
        "problem statement",
        "problemstatement",
        "questionnaire",
        "self assessment",
        "selfassessment",
        "试题",
        "习题",
        "练习",
        "exercice",
        "autoévaluation",
        "énoncé de problème",
    ),
    "test_paper": (
        "test paper",
        "exam",
        "assessment",
        "试卷",
        "考试",
        "测验",
        "examen",
        "évaluation",
        "evaluation",
    ),
    "case": ("case", "case study", "experiment", "案例", "实验", "expérimentation"),
    "document": (
        "document",
        "article",
        "book",
        "report",
        "thesis",
        "dataset",
        "文献",
        "文献资料",
        "教材",
        "文档",
        "conference paper",
        "conferencepaper",
        "conference proceedings",
        "conferenceproceedings",
        "preprint",
        "working paper",
        "technical report",
        "technical documentation",
        "technicaldocumentation",
        "book chapter",
        "printed serial",
        "publication en série imprimée",
    ),
    "faq": ("faq", "frequently asked questions", "常见问题", "常见问题解答"),
    "catalogue_index": (
        "index",
        "catalogue",
        "catalog",
        "collection",
        "资源目录索引",
        "目录",
        "resource catalogue index",
    ),
}


def _key(value: str) -> str:
    folded = unicodedata.normalize("NFKC", value).casefold().strip()
    # DCMI type URIs and LOM vocabulary URIs: keep the last path segment.
    folded = folded.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return re.sub(r"[\s_\-]+", " ", folded).strip()


_RESOURCE_TYPES = {
    _key(alias): value for value, aliases in _RESOURCE_TYPE_VALUES.items() for alias in aliases
}


def resource_type(value: str) -> str | None:
    """The CELTS-41 type of a LOM ``learningResourceType`` or DC ``type`` value."""
    key = _key(value)
    return _RESOURCE_TYPES.get(key) or _RESOURCE_TYPES.get(key.replace(" ", ""))


# --- education levels --------------------------------------------------------------------

_LEVEL_VALUES: dict[str, tuple[str, ...]] = {
    "secondary_vocational": (
        "secondary vocational",
        "secondary vocational education",
        "中职",
        "中等职业教育",
        "中等职业学校",
        "中专",
        "技工学校",
        "vocational upper secondary",
    ),
    "higher_vocational": (
        "higher vocational",
        "higher vocational education",
        "高职",
        "高等职业教育",
        "高职高专",
        "专科",
        "大专",
        "associate degree",
    ),
    "undergraduate": (
        "undergraduate",
        "undergraduate education",
        "higher education",
        "本科",
        "本科教育",
        "本科生",
        "bachelor",
        "university",
        "college",
        "grades 13 14",
        "undergraduate lower division",
        "undergraduate upper division",
        # LOMv1.0 in French and NORMETIC (Québec) contexts, as LOM records send them
        "éducation supérieure",
        "universite premier cycle",
        "université premier cycle",
    ),
    "postgraduate": (
        "postgraduate",
        "postgraduate education",
        "graduate",
        "graduate professional",
        "研究生",
        "研究生教育",
        "硕士",
        "博士",
        "master",
        "doctoral",
        "universite second cycle",
        "université second cycle",
        "universite deuxieme cycle",
        "université deuxième cycle",
        "universite troisieme cycle",
        "université troisième cycle",
    ),
    "continuing_education": (
        "continuing education",
        "continuing",
        "adult education",
        "adult",
        "继续教育",
        "成人教育",
        "成人高等教育",
        "成人学历教育",
        "开放教育",
        "continuing and adult education",
        "formation continue",
        "éducation permanente",
    ),
    "vocational_training": (
        "vocational training",
        "training",
        "professional development",
        "职业培训",
        "职业技能培训",
        "培训",
        "在职培训",
        "formation en entreprise",
        "formation professionnelle",
    ),
    "community": ("community", "community education", "社区教育", "社区"),
    "senior": (
        "senior",
        "older adults",
        "elderly",
        "老年教育",
        "老年大学",
        "老年",
        "education for older adults",
    ),
    "literacy": ("literacy", "literacy education", "扫盲", "扫盲教育"),
}

_LEVELS = {_key(alias): value for value, aliases in _LEVEL_VALUES.items() for alias in aliases}


def education_level(value: str) -> str | None:
    """The profile's education level of a LOM ``context``, DC audience or level value."""
    return _LEVELS.get(_key(value))
