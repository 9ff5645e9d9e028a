"""The controlled vocabularies of the profile, each value with its Chinese and English label.

- ``EDUCATION_LEVELS``: the levels of China's education system that the catalogue serves.
- ``RESOURCE_TYPES``: CELTS-41's resource types (media material split by medium).
- ``DISCIPLINE_CATEGORIES`` / ``DISCIPLINES``: the national catalogue of disciplines
  (学科门类 two-digit categories, 一级学科 four-digit first-level disciplines).
"""

from __future__ import annotations

Labels = tuple[str, str]
"""(Chinese label, English label)."""

EDUCATION_LEVELS: dict[str, Labels] = {
    "secondary_vocational": ("中等职业教育", "Secondary vocational education"),
    "higher_vocational": ("高等职业教育", "Higher vocational education"),
    "undergraduate": ("本科教育", "Undergraduate education"),
    "postgraduate": ("研究生教育", "Postgraduate education"),
    "continuing_education": ("继续教育", "Continuing and adult education"),
    "vocational_training": ("职业培训", "Vocational training"),
    "community": ("社区教育", "Community education"),
    "senior": ("老年教育", "Education for older adults"),
    "literacy": ("扫盲教育", "Literacy education"),
}

RESOURCE_TYPES: dict[str, Labels] = {
    "text": ("文本类素材", "Text material"),
    "image": ("图形/图像类素材", "Image material"),
    "audio": ("音频类素材", "Audio material"),
    "video": ("视频类素材", "Video material"),
    "animation": ("动画类素材", "Animation material"),
    "test_item": ("试题", "Test item"),
    "test_paper": ("试卷", "Test paper"),
    "courseware": ("课件", "Courseware"),
    "case": ("案例", "Case"),
    "document": ("文献资料", "Document"),
    "faq": ("常见问题解答", "FAQ"),
    "catalogue_index": ("资源目录索引", "Resource catalogue index"),
    "web_course": ("网络课程", "Web course"),
}

DISCIPLINE_CATALOGUE = "学科专业目录"
"""The scheme name used for discipline codes in LOM classifications and subjects."""

DISCIPLINE_CATEGORIES: dict[str, Labels] = {
    "01": ("哲学", "Philosophy"),
    "02": ("经济学", "Economics"),
    "03": ("法学", "Law"),
    "04": ("教育学", "Education"),
    "05": ("文学", "Literature"),
    "06": ("历史学", "History"),
    "07": ("理学", "Science"),
    "08": ("工学", "Engineering"),
    "09": ("农学", "Agriculture"),
    "10": ("医学", "Medicine"),
    "11": ("军事学", "Military Science"),
    "12": ("管理学", "Management"),
    "13": ("艺术学", "Art"),
    "14": ("交叉学科", "Interdisciplinary Studies"),
}

DISCIPLINES: dict[str, Labels] = {
    "0101": ("哲学", "Philosophy"),
    "0201": ("理论经济学", "Theoretical Economics"),
    "0202": ("应用经济学", "Applied Economics"),
    "0301": ("法学", "Law"),
    "0302": ("政治学", "Political Science"),
    "0303": ("社会学", "Sociology"),
    "0304": ("民族学", "Ethnology"),
    "0305": ("马克思主义理论", "Marxist Theory"),
    "0401": ("教育学", "Education"),
    "0402": ("心理学", "Psychology"),
    "0403": ("体育学", "Sport Science"),
    "0501": ("中国语言文学", "Chinese Language and Literature"),
    "0502": ("外国语言文学", "Foreign Languages and Literatures"),
    "0503": ("新闻传播学", "Journalism and Communication"),
    "0601": ("考古学", "Archaeology"),
    "0602": ("中国史", "Chinese History"),
    "0603": ("世界史", "World History"),
    "0701": ("数学", "Mathematics"),
    "0702": ("物理学", "Physics"),
    "0703": ("化学", "Chemistry"),
    "0704": ("天文学", "Astronomy"),
    "0705": ("地理学", "Geography"),
    "0706": ("大气科学", "Atmospheric Science"),
    "0707": ("海洋科学", "Marine Science"),
    "0708": ("地球物理学", "Geophysics"),
    "0709": ("地质学", "Geology"),
    "0710": ("生物学", "Biology"),
    "0711": ("系统科学", "Systems Science"),
    "0712": ("科学技术史", "History of Science and Technology"),
    "0713": ("生态学", "Ecology"),
    "0714": ("统计学", "Statistics"),
    "0801": ("力学", "Mechanics"),
    "0802": ("机械工程", "Mechanical Engineering"),
    "0803": ("光学工程", "Optical Engineering"),
    "0804": ("仪器科学与技术", "Instrument Science and Technology"),
    "0805": ("材料科学与工程", "Materials Science and Engineering"),
    "0806": ("冶金工程", "Metallurgical Engineering"),
    "0807": ("动力工程及工程热物理", "Power Engineering and Engineering Thermophysics"),
    "0808": ("电气工程", "Electrical Engineering"),
    "0809": ("电子科学与技术", "Electronic Science and Technology"),
    "0810": ("信息与通信工程", "Information and Communication Engineering"),
    "0811": ("控制科学与工程", "Control Science and Engineering"),
    "0812": ("计算机科学与技术", "Computer Science and Technology"),
    "0813": ("建筑学", "Architecture"),
    "0814": ("土木工程", "Civil Engineering"),
    "0815": ("水利工程", "Hydraulic Engineering"),
    "0816": ("测绘科学与技术", "Surveying and Mapping"),
    "0817": ("化学工程与技术", "Chemical Engineering and Technology"),
    "0823": ("交通运输工程", "Transportation Engineering"),
    "0825": ("航空宇航科学与技术", "Aeronautical and Astronautical Science and Technology"),
    "0827": ("核科学与技术", "Nuclear Science and Technology"),
    "0828": ("农业工程", "Agricultural Engineering"),
    "0830": ("环境科学与工程", "Environmental Science and Engineering"),
    "0831": ("生物医学工程", "Biomedical Engineering"),
    "0832": ("食品科学与工程", "Food Science and Engineering"),
    "0833": ("城乡规划学", "Urban and Rural Planning"),
    "0835": ("软件工程", "Software Engineering"),
    "0839": ("网络空间安全", "Cyberspace Security"),
    "0901": ("作物学", "Crop Science"),
    "0902": ("园艺学", "Horticulture"),
    "0904": ("植物保护", "Plant Protection"),
    "0905": ("畜牧学", "Animal Science"),
    "0906": ("兽医学", "Veterinary Medicine"),
    "0907": ("林学", "Forestry"),
    "1001": ("基础医学", "Basic Medicine"),
    "1002": ("临床医学", "Clinical Medicine"),
    "1003": ("口腔医学", "Stomatology"),
    "1004": ("公共卫生与预防医学", "Public Health and Preventive Medicine"),
    "1005": ("中医学", "Traditional Chinese Medicine"),
    "1007": ("药学", "Pharmacy"),
    "1008": ("中药学", "Chinese Materia Medica"),
    "1010": ("医学技术", "Medical Technology"),
    "1011": ("护理学", "Nursing"),
    "1201": ("管理科学与工程", "Management Science and Engineering"),
    "1202": ("工商管理", "Business Administration"),
    "1203": ("农林经济管理", "Agricultural and Forestry Economics and Management"),
    "1204": ("公共管理", "Public Administration"),
    "1205": ("信息资源管理", "Information Resources Management"),
    "1301": ("艺术学", "Art Studies"),
    "1302": ("音乐与舞蹈学", "Music and Dance"),
    "1303": ("戏剧与影视学", "Theatre, Film and Television"),
    "1304": ("美术学", "Fine Arts"),
    "1305": ("设计学", "Design"),
    "1401": ("集成电路科学与工程", "Integrated Circuit Science and Engineering"),
    "1402": ("国家安全学", "National Security Studies"),
}


def discipline_labels(code: str) -> dict[str, str]:
    """Bilingual labels of a discipline code (first-level, else its category), or ``{}``."""
    labels = DISCIPLINES.get(code[:4]) if len(code) >= 4 else None
    if labels is None:
        labels = DISCIPLINE_CATEGORIES.get(code[:2])
    return {"zh": labels[0], "en": labels[1]} if labels else {}


def labels_of(vocabulary: dict[str, Labels], value: str | None) -> dict[str, str]:
    """``{"zh": ..., "en": ...}`` for a controlled value, ``{}`` when unknown or None."""
    if value is None or value not in vocabulary:
        return {}
    zh, en = vocabulary[value]
    return {"zh": zh, "en": en}
