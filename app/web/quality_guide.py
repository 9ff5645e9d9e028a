"""What the quality page (``/quality``) explains, as data: issue codes, the score, fields.

For every code of ``metadata.issue_codes`` (which gives its severity and short name) a
``Guide`` says what it means and how a college fixes it, with a small example of the fix
in IEEE LOM and in oai_dc: the XML as it was and as it should be.  Tests read each example
with our readers, so an example that stops showing its issue (or its fix) fails.

Texts are English msgids marked with ``N_`` and translated by the page through the Babel
catalogue (``app/web/locale``); the XML is the same in both languages.  ``SCORED_FIELDS``
names, for each field the quality score counts (``metadata.validate.RECOMMENDED``), where
LOM and Dublin Core put it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["fragment", "metadata", "record"]


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue; the page translates it when it renders."""
    return message


@dataclass(frozen=True)
class Example:
    """One format's example: the XML as it was (``before``, None when the problem is an
    element left out) and as it should be (``after``).

    ``kind`` says what the XML is: ``fragment`` (elements inside ``<lom>`` or
    ``<oai_dc:dc>``), ``metadata`` (the whole content of ``<metadata>``) or ``record``
    (an OAI-PMH ``<record>``).  ``arises`` is False when records in this format never
    carry the issue (the example then shows how the format says it right); ``note``
    explains why.
    """

    after: str
    before: str | None = None
    kind: Kind = "fragment"
    arises: bool = True
    note: str | None = None


@dataclass(frozen=True)
class Guide:
    """One issue code: what it means, how to fix it, the fix in LOM and in oai_dc (None:
    records in that format never carry it)."""

    code: str
    meaning: str
    fix: str
    lom: Example | None
    dc: Example | None


CF = 'xmlns:cf="https://coursefed.org/ns/lom-extension/1.0"'
LOM_NS = "http://ltsc.ieee.org/xsd/LOM"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"

_LOM_RECORD = f"""<lom xmlns="{LOM_NS}">
  <general>
    <title><string language="zh">数据结构</string></title>
  </general>
</lom>"""
_DC_RECORD = f"""<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}"
           xmlns:dc="{DC_NS}">
  <dc:title xml:lang="zh">数据结构</dc:title>
</oai_dc:dc>"""
_HEADER = """  <header>
    <identifier>oai:mooc.example.edu.cn:ds2026</identifier>
    <datestamp>2026-03-01</datestamp>
  </header>"""


def _in_record(metadata: str) -> str:
    inner = "\n".join("    " + line for line in metadata.splitlines())
    return f"<record>\n{_HEADER}\n  <metadata>\n{inner}\n  </metadata>\n</record>"


_URL_LOM = Example(
    before="""<technical>
  <location>www.example.edu.cn/courses/ds</location>
</technical>""",
    after="""<technical>
  <location>https://www.example.edu.cn/courses/ds</location>
</technical>""",
)
_URL_DC = Example(
    before="<dc:identifier>//mooc.example.edu.cn/course/ds</dc:identifier>",
    after="<dc:identifier>https://mooc.example.edu.cn/course/ds</dc:identifier>",
)
_READ_AS_URL_NOT_HTTP = N_(
    "Our readers drop such a URL from this format and report url_not_http instead; "
    "the fix is the same."
)

GUIDES: tuple[Guide, ...] = (
    # --- errors --------------------------------------------------------------------------
    Guide(
        code="missing_title",
        meaning=N_(
            "The record has no title in any language. A course without a name cannot be "
            "listed or found, so the record is not published."
        ),
        fix=N_(
            "Give the course's name in LOM general/title (one string per language) or in "
            "dc:title (one element per language, with xml:lang)."
        ),
        lom=Example(
            after="""<general>
  <title>
    <string language="zh">数据结构</string>
    <string language="en">Data Structures</string>
  </title>
</general>"""
        ),
        dc=Example(
            after="""<dc:title xml:lang="zh">数据结构</dc:title>
<dc:title xml:lang="en">Data Structures</dc:title>"""
        ),
    ),
    Guide(
        code="unreadable_record",
        meaning=N_(
            "An OAI-PMH record came without metadata, or with metadata that could not be "
            "read. Nothing of it can be published."
        ),
        fix=N_(
            "Send every record that is not deleted with its metadata inside <metadata>, as "
            'well-formed XML. Mark a withdrawn course as deleted (status="deleted" in the '
            "record's header) instead of sending it empty."
        ),
        lom=Example(
            kind="record",
            before=f"<record>\n{_HEADER}\n</record>",
            after=_in_record(_LOM_RECORD),
        ),
        dc=Example(
            kind="record",
            before=f"<record>\n{_HEADER}\n</record>",
            after=_in_record(_DC_RECORD),
        ),
    ),
    Guide(
        code="unsupported_format",
        meaning=N_(
            "The record is in a metadata format we cannot read: the format it was harvested "
            "in is not one of ours, and its root element is neither LOM nor Dublin Core."
        ),
        fix=N_(
            "Offer your records as lom or oai_dc (your repository's ListMetadataFormats "
            "answer lists them) and ask for them to be harvested in that format."
        ),
        lom=Example(
            kind="metadata",
            before="""<course xmlns="http://example.edu.cn/ns/course">
  <name>数据结构</name>
</course>""",
            after=_LOM_RECORD,
        ),
        dc=Example(
            kind="metadata",
            before="""<course xmlns="http://example.edu.cn/ns/course">
  <name>数据结构</name>
</course>""",
            after=_DC_RECORD,
        ),
    ),
    Guide(
        code="invalid_vocabulary",
        meaning=N_(
            "An education level or resource type is given as one of the profile's own "
            "values (in our LOM extension, cf:educationLevel or cf:resourceType, or by "
            "another coursefed node) but is not one of them. The record is not published."
        ),
        fix=N_(
            "Use a value from the lists at the end of this page, or leave the extension out "
            "and give the level and type in LOM educational/context and "
            "educational/learningResourceType, which we map to the profile's values."
        ),
        lom=Example(
            before=f"""<educational>
  <cf:educationLevel {CF}>大专</cf:educationLevel>
</educational>""",
            after=f"""<educational>
  <cf:educationLevel {CF}>higher_vocational</cf:educationLevel>
</educational>""",
        ),
        dc=Example(
            arises=False,
            note=N_(
                "oai_dc values are mapped to the profile's lists; a value that maps to none is "
                "the warning unmapped_vocabulary, never this error. An education level can be "
                "given in dc:coverage:"
            ),
            after="<dc:coverage>高等职业教育</dc:coverage>",
        ),
    ),
    Guide(
        code="url_not_http",
        meaning=N_(
            "A URL is not a complete http:// or https:// address: a web address without its "
            "scheme (www.…), a path on your server (/courses/…), //host, ftp:, file: or "
            "javascript:. We drop the value and publish the record without it, so learners "
            "lose that link or file."
        ),
        fix=N_(
            "Write every address of a course page or a file in full, with http:// or "
            "https:// and the host: in LOM technical/location, in dc:identifier."
        ),
        lom=_URL_LOM,
        dc=_URL_DC,
    ),
    Guide(
        code="invalid_url",
        meaning=N_(
            "The record as stored still holds a URL that is not an absolute http(s) URL. "
            "Records we read from LOM or oai_dc never carry this issue (their readers drop "
            "such a URL and report url_not_http), so it comes from records copied from "
            "another coursefed node. The record is not published."
        ),
        fix=N_("Correct the URL where the record was made, as for url_not_http."),
        lom=Example(
            before=_URL_LOM.before, after=_URL_LOM.after, arises=False, note=_READ_AS_URL_NOT_HTTP
        ),
        dc=Example(
            before=_URL_DC.before, after=_URL_DC.after, arises=False, note=_READ_AS_URL_NOT_HTTP
        ),
    ),
    # --- warnings ------------------------------------------------------------------------
    Guide(
        code="missing_description",
        meaning=N_(
            "The record has no description. Learners see only a title among the results, "
            "and searches find fewer words to match."
        ),
        fix=N_(
            "Describe the course in a few sentences (its content, aims and audience) in LOM "
            "general/description or in dc:description."
        ),
        lom=Example(
            after="""<general>
  <description>
    <string language="zh">线性表、树、图等基本数据结构及其算法。</string>
  </description>
</general>"""
        ),
        dc=Example(
            after="""<dc:description xml:lang="zh">
  线性表、树、图等基本数据结构及其算法。
</dc:description>"""
        ),
    ),
    Guide(
        code="missing_language",
        meaning=N_(
            "The record does not say which language the course is taught in. Learners "
            "cannot choose courses by language."
        ),
        fix=N_(
            "Give a language tag such as zh or en in LOM general/language or in dc:language; "
            "repeat the element for a course taught in two languages."
        ),
        lom=Example(
            after="""<general>
  <language>zh</language>
</general>"""
        ),
        dc=Example(after="<dc:language>zh</dc:language>"),
    ),
    Guide(
        code="unknown_language",
        meaning=N_(
            "A language is neither a language tag nor a language name we recognise, such as "
            "双语 (bilingual). It is kept as written, but the course cannot be found by "
            "language."
        ),
        fix=N_(
            "Give one element per language, each with a tag (zh, en) or a name (中文, English)."
        ),
        lom=Example(
            before="""<general>
  <language>双语</language>
</general>""",
            after="""<general>
  <language>zh</language>
  <language>en</language>
</general>""",
        ),
        dc=Example(
            before="<dc:language>双语</dc:language>",
            after="""<dc:language>zh</dc:language>
<dc:language>en</dc:language>""",
        ),
    ),
    Guide(
        code="missing_license",
        meaning=N_(
            "The record states no licence and no rights. Learners and teachers cannot tell "
            'whether they may reuse the course, and it never appears under "open licences '
            'only".'
        ),
        fix=N_(
            "State the licence in LOM rights/description or in dc:rights. A Creative Commons "
            "licence's URL is recognised best; its name in Chinese or English and SPDX ids "
            "(CC-BY-4.0) are recognised too. A copyright line alone (版权所有) is read as "
            "all rights reserved."
        ),
        lom=Example(
            after="""<rights>
  <copyrightAndOtherRestrictions>
    <source>LOMv1.0</source>
    <value>yes</value>
  </copyrightAndOtherRestrictions>
  <description>
    <string language="zh">知识共享署名-非商业性使用-相同方式共享 4.0 国际许可协议</string>
    <string language="en">https://creativecommons.org/licenses/by-nc-sa/4.0/</string>
  </description>
</rights>"""
        ),
        dc=Example(
            after="<dc:rights>https://creativecommons.org/licenses/by-nc-sa/4.0/</dc:rights>"
        ),
    ),
    Guide(
        code="unknown_license",
        meaning=N_(
            "The record has a rights statement, but it names no licence we recognise, so "
            "learners are not told what they may do with the course. Open access "
            "(info:eu-repo/semantics/openAccess, 开放获取) says who may read a course, not "
            "what they may do with it: it is no licence."
        ),
        fix=N_(
            "Name the licence beside the statement: a Creative Commons licence's URL or "
            "name, an SPDX id, or a copyright line. A licence named in the same record wins "
            "over a statement we cannot read."
        ),
        lom=Example(
            before="""<rights>
  <description>
    <string language="zh">开放获取</string>
  </description>
</rights>""",
            after="""<rights>
  <description>
    <string language="zh">开放获取</string>
    <string language="en">https://creativecommons.org/licenses/by/4.0/</string>
  </description>
</rights>""",
        ),
        dc=Example(
            before="<dc:rights>info:eu-repo/semantics/openAccess</dc:rights>",
            after="""<dc:rights>info:eu-repo/semantics/openAccess</dc:rights>
<dc:rights>https://creativecommons.org/licenses/by/4.0/</dc:rights>""",
        ),
    ),
    Guide(
        code="unmapped_vocabulary",
        meaning=N_(
            "A resource type, education level or LOM context maps to none of the profile's "
            "values. It is kept as you sent it, but learners cannot find the course by type "
            "or level."
        ),
        fix=N_(
            "Use a resource type and an education level from the lists at the end of this "
            "page, by their Chinese or English names, or a LOM value that maps to one."
        ),
        lom=Example(
            before="""<educational>
  <learningResourceType>
    <source>LOMv1.0</source>
    <value>微课</value>
  </learningResourceType>
</educational>""",
            after="""<educational>
  <learningResourceType>
    <source>CELTS-41</source>
    <value>视频类素材</value>
  </learningResourceType>
</educational>""",
        ),
        dc=Example(
            before="<dc:type>课程资料包</dc:type>",
            after="<dc:type>课件</dc:type>",
        ),
    ),
    Guide(
        code="invalid_duration",
        meaning=N_(
            "The learning time is not an ISO 8601 duration, so it cannot be shown in hours "
            "or compared. It is left out."
        ),
        fix=N_(
            "Write the typical learning time as an ISO 8601 duration: PT32H for 32 hours, "
            "PT45M for 45 minutes, P8W for eight weeks."
        ),
        lom=Example(
            before="""<educational>
  <typicalLearningTime>
    <duration>32小时</duration>
  </typicalLearningTime>
</educational>""",
            after="""<educational>
  <typicalLearningTime>
    <duration>PT32H</duration>
  </typicalLearningTime>
</educational>""",
        ),
        dc=Example(
            arises=False,
            note=N_(
                "In oai_dc a learning time is an ISO 8601 duration in dc:format; other text "
                "there is kept as a format, without an issue."
            ),
            after="<dc:format>PT32H</dc:format>",
        ),
    ),
    Guide(
        code="invalid_number",
        meaning=N_("Class hours or credits hold no number (三十二, 待定), so they are left out."),
        fix=N_("Write only the number, in digits: 32, 2.5."),
        lom=Example(
            before=f"""<educational>
  <cf:classHours {CF}>三十二</cf:classHours>
</educational>""",
            after=f"""<educational>
  <cf:classHours {CF}>32</cf:classHours>
</educational>""",
        ),
        dc=None,
    ),
    Guide(
        code="invalid_size",
        meaning=N_(
            "A file's size in LOM technical/size is not a number of bytes (12MB), so it is "
            "left out."
        ),
        fix=N_("Write the size in bytes, in digits only: 12582912."),
        lom=Example(
            before="""<technical>
  <size>12MB</size>
</technical>""",
            after="""<technical>
  <size>12582912</size>
</technical>""",
        ),
        dc=None,
    ),
    Guide(
        code="invalid_vcard",
        meaning=N_(
            "A contributor in LOM lifeCycle/contribute/entity has a vCard without a name "
            "(FN or N) or an organisation (ORG), so the contributor is left out."
        ),
        fix=N_(
            "Give each entity a vCard with FN, the person's or the school's name, and ORG "
            "for the school."
        ),
        lom=Example(
            before="""<lifeCycle>
  <contribute>
    <role><source>LOMv1.0</source><value>author</value></role>
    <entity>BEGIN:VCARD
VERSION:3.0
EMAIL:zhang@example.edu.cn
END:VCARD</entity>
  </contribute>
</lifeCycle>""",
            after="""<lifeCycle>
  <contribute>
    <role><source>LOMv1.0</source><value>author</value></role>
    <entity>BEGIN:VCARD
VERSION:3.0
FN:张三
ORG:东湖大学
EMAIL:zhang@example.edu.cn
END:VCARD</entity>
  </contribute>
</lifeCycle>""",
        ),
        dc=None,
    ),
    Guide(
        code="unknown_cost",
        meaning=N_(
            "LOM rights/cost is neither yes nor no, so learners are not told whether the "
            "course costs money."
        ),
        fix=N_("Write yes or no. 收费 and 免费 are read as yes and no."),
        lom=Example(
            before="""<rights>
  <cost>
    <source>LOMv1.0</source>
    <value>部分免费</value>
  </cost>
</rights>""",
            after="""<rights>
  <cost>
    <source>LOMv1.0</source>
    <value>no</value>
  </cost>
</rights>""",
        ),
        dc=None,
    ),
    Guide(
        code="no_lom",
        meaning=N_(
            "A record harvested as LOM holds no <lom> element, so nothing of it is read: it "
            "has no title and is not published."
        ),
        fix=N_("Put the LOM record, with <lom> as its root element, inside <metadata>."),
        lom=Example(
            kind="metadata",
            before="""<course xmlns="http://example.edu.cn/ns/course">
  <name>数据结构</name>
</course>""",
            after=_LOM_RECORD,
        ),
        dc=None,
    ),
    Guide(
        code="no_dc_elements",
        meaning=N_(
            "An oai_dc record holds no element of the Dublin Core namespace, so nothing of "
            "it is read: it has no title and is not published. Often the namespace is "
            "misspelt, for example without its final slash."
        ),
        fix=N_(
            'Declare xmlns:dc="http://purl.org/dc/elements/1.1/" exactly, final slash '
            "included, and put the Dublin Core elements inside oai_dc:dc."
        ),
        lom=None,
        dc=Example(
            kind="metadata",
            before=f"""<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}"
           xmlns:dc="http://purl.org/dc/elements/1.1">
  <dc:title xml:lang="zh">数据结构</dc:title>
</oai_dc:dc>""",
            after=_DC_RECORD,
        ),
    ),
)
"""Every issue code explained, errors first, in the order the page shows them."""

GUIDE: dict[str, Guide] = {guide.code: guide for guide in GUIDES}


@dataclass(frozen=True)
class ScoredField:
    """A field the quality score counts (a ``RECOMMENDED`` name), in words and where
    LOM and Dublin Core put it."""

    name: str  # as metadata.validate.RECOMMENDED names it
    label: str  # msgid
    lom: str
    dc: str


SCORED_FIELDS: tuple[ScoredField, ...] = (
    ScoredField("title", N_("Title"), "general/title", "dc:title"),
    ScoredField("description", N_("Description"), "general/description", "dc:description"),
    ScoredField("languages", N_("Languages"), "general/language", "dc:language"),
    ScoredField(
        "subjects or keywords",
        N_("Disciplines or keywords"),
        "classification/taxonPath, general/keyword",
        "dc:subject",
    ),
    ScoredField("license", N_("A licence we recognise"), "rights/description", "dc:rights"),
    ScoredField(
        "contributors",
        N_("Contributors"),
        "lifeCycle/contribute/entity",
        "dc:creator, dc:contributor",
    ),
    ScoredField(
        "institution",
        N_("Institution"),
        "lifeCycle/contribute (role publisher, vCard ORG)",
        "dc:publisher",
    ),
    ScoredField("url", N_("Course page (http or https)"), "technical/location", "dc:identifier"),
    ScoredField("created", N_("Date created"), "lifeCycle/contribute/date", "dc:date"),
    ScoredField(
        "resource_type", N_("Resource type"), "educational/learningResourceType", "dc:type"
    ),
    ScoredField(
        "education_level",
        N_("Education level"),
        "educational/context, classification (educational level)",
        "dc:subject, dc:coverage",
    ),
    ScoredField(
        "learning_time",
        N_("Learning time"),
        "educational/typicalLearningTime",
        "dc:format (PT32H)",
    ),
    ScoredField(
        "objects", N_("Files (http or https)"), "technical/location", "dc:identifier (.pdf, .mp4 …)"
    ),
)
"""The fields the quality score counts, in ``RECOMMENDED`` order."""
