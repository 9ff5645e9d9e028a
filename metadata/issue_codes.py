"""What each validation issue code means, and how a college fixes it, in Chinese and English.

Readers and ``validate`` emit ``Issue`` values with a ``code``; ``ISSUE_CODES`` holds one
``IssueCode`` per code they can emit (a test keeps the table complete).  Reports, the
source health API and the source pages show these words next to the counts, so a college
reads "no licence" rather than ``missing_license``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from metadata.urls import URL_NOT_HTTP

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class IssueCode:
    """One kind of issue: its severity, what it means and how to fix it."""

    code: str
    severity: Severity | None  # None: a code this table does not know
    meaning_zh: str | None = None
    meaning_en: str | None = None
    fix_zh: str | None = None
    fix_en: str | None = None


def _code(
    code: str, severity: Severity, meaning: tuple[str, str], fix: tuple[str, str]
) -> IssueCode:
    return IssueCode(code, severity, meaning[0], meaning[1], fix[0], fix[1])


ISSUE_CODES: dict[str, IssueCode] = {
    c.code: c
    for c in (
        # --- errors: the record is not published (but for values already dropped) --------
        _code(
            "missing_title",
            "error",
            ("没有标题", "no title"),
            (
                "在 LOM 的 general/title 或 oai_dc 的 dc:title 中填写课程名称。",
                "Give the course's name in LOM general/title or oai_dc dc:title.",
            ),
        ),
        _code(
            "invalid_vocabulary",
            "error",
            (
                "受控字段的值不在规范词表中",
                "a controlled field holds a value outside its vocabulary",
            ),
            (
                "教育层次和资源类型使用规范词表中的值（见元数据规范）。",
                "Use the profile's values for education level and resource type.",
            ),
        ),
        _code(
            "invalid_url",
            "error",
            ("记录中含有不是 http(s) 的网址", "a URL in the record is not an absolute http(s) URL"),
            (
                "只使用以 http:// 或 https:// 开头的完整网址。",
                "Use only complete URLs starting with http:// or https://.",
            ),
        ),
        _code(
            URL_NOT_HTTP,
            "error",
            (
                "不是 http(s) 的网址已被删除，记录仍然发布",
                "a URL that is not absolute http(s) was dropped;"
                " the record is published without it",
            ),
            (
                "把 LOM technical/location 或 dc:identifier 中的网址"
                "改为以 http:// 或 https:// 开头的完整网址。",
                "Make the URL in LOM technical/location or dc:identifier a complete"
                " http:// or https:// URL.",
            ),
        ),
        _code(
            "unreadable_record",
            "error",
            ("记录无法读取", "the record could not be read"),
            (
                "检查记录是否为格式良好的 XML，并含有 <metadata>。",
                "Check that the record is well-formed XML with a <metadata> element.",
            ),
        ),
        _code(
            "unsupported_format",
            "error",
            ("元数据格式不受支持", "the metadata format is not one we can read"),
            (
                "提供 oai_dc 或 LOM 格式的记录。",
                "Offer the records as oai_dc or LOM.",
            ),
        ),
        # --- warnings: published, but less useful to learners ------------------------------
        _code(
            "missing_language",
            "warning",
            ("没有说明资源的语言", "the language of the resource is not given"),
            (
                "在 LOM 的 general/language 或 oai_dc 的 dc:language 中填写语言，如 zh 或 en。",
                "Give the language in LOM general/language or oai_dc dc:language, e.g. zh or en.",
            ),
        ),
        _code(
            "unknown_language",
            "warning",
            ("语言无法识别", "the language is not a recognisable tag or name"),
            (
                "使用语言代码（zh、en）或语言名称（中文、英语）。",
                "Use a language tag (zh, en) or a language's name (中文, English).",
            ),
        ),
        _code(
            "missing_description",
            "warning",
            ("没有简介", "no description"),
            (
                "在 LOM 的 general/description 或 oai_dc 的 dc:description 中介绍课程。",
                "Describe the course in LOM general/description or oai_dc dc:description.",
            ),
        ),
        _code(
            "missing_license",
            "warning",
            ("没有许可或版权声明", "no licence or rights statement"),
            (
                "在 LOM 的 rights/description 或 oai_dc 的 dc:rights 中写明许可，"
                "如 https://creativecommons.org/licenses/by/4.0/。",
                "State the licence in LOM rights/description or oai_dc dc:rights, e.g."
                " https://creativecommons.org/licenses/by/4.0/.",
            ),
        ),
        _code(
            "unknown_license",
            "warning",
            ("许可无法识别", "the licence is not recognised"),
            (
                "使用知识共享许可的网址或 SPDX 标识（如 CC-BY-4.0）。",
                "Use a Creative Commons licence URL or an SPDX id (e.g. CC-BY-4.0).",
            ),
        ),
        _code(
            "unmapped_vocabulary",
            "warning",
            (
                "类型、层次或学科的值无法对应到规范词表",
                "a type, level or context value maps to no value of the profile's vocabularies",
            ),
            (
                "使用元数据规范列出的资源类型、教育层次和学科代码。",
                "Use the resource types, education levels and discipline codes the profile lists.",
            ),
        ),
        _code(
            "invalid_duration",
            "warning",
            ("学习时长不是 ISO 8601 时长", "the learning time is not an ISO 8601 duration"),
            (
                "用 ISO 8601 时长填写学习时长，如 PT45M 或 PT32H。",
                "Write the learning time as an ISO 8601 duration, e.g. PT45M or PT32H.",
            ),
        ),
        _code(
            "invalid_number",
            "warning",
            ("应为数字的字段中没有数字", "a field that holds a number holds none"),
            (
                "在学时、学分等字段中只填写数字。",
                "Write only a number in fields such as hours and credits.",
            ),
        ),
        _code(
            "invalid_size",
            "warning",
            ("文件大小不是字节数", "a file size is not a number of bytes"),
            (
                "LOM 的 technical/size 只填写字节数，如 1048576。",
                "Write LOM technical/size as a number of bytes, e.g. 1048576.",
            ),
        ),
        _code(
            "invalid_vcard",
            "warning",
            (
                "贡献者的 vCard 中没有姓名或机构",
                "a contributor's vCard holds no name or organisation",
            ),
            (
                "在 LOM 的 contribute/entity 的 vCard 中填写 FN 或 ORG。",
                "Give FN or ORG in the vCard of LOM contribute/entity.",
            ),
        ),
        _code(
            "unknown_cost",
            "warning",
            ("费用既不是 yes 也不是 no", "the cost is neither yes nor no"),
            (
                "LOM 的 rights/cost 填写 yes 或 no。",
                "Write LOM rights/cost as yes or no.",
            ),
        ),
        _code(
            "no_dc_elements",
            "warning",
            ("记录中没有都柏林核心元素", "the record holds no Dublin Core elements"),
            (
                "在 oai_dc:dc 中使用 http://purl.org/dc/elements/1.1/ 命名空间的元素。",
                "Put elements of the http://purl.org/dc/elements/1.1/ namespace in oai_dc:dc.",
            ),
        ),
        _code(
            "no_lom",
            "warning",
            ("记录中没有 <lom> 元素", "the record holds no <lom> element"),
            (
                "在 <metadata> 中放入 LOM 记录的 <lom> 根元素。",
                "Put the LOM record's <lom> root element inside <metadata>.",
            ),
        ),
    )
}
"""Every issue code the readers and ``validate`` emit, by code."""


def issue_code(code: str) -> IssueCode:
    """What ``code`` means; a code this table does not know gets no words and no severity."""
    return ISSUE_CODES.get(code) or IssueCode(code, None)
