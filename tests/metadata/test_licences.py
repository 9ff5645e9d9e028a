"""Licence statements → one id each: SPDX where one applies, all-rights-reserved for copyright."""

from __future__ import annotations

import pytest

from app.demo.corpus import generate_corpus
from metadata.licences import (
    ALL_RIGHTS_RESERVED,
    LicenceInfo,
    licence_info,
    normalise_license,
)
from metadata.profile import License

COPYRIGHT_ONLY = [
    # the demo corpus's forms
    "版权所有 © 2024 东湖财经大学",
    "版权所有，未经许可不得转载",
    "All rights reserved",
    "© 2021 Jianglan University. All rights reserved.",
    # what Chinese platforms write
    "版权所有",
    "版权所有©2023 北辰理工大学 保留所有权利",
    "版權所有 © 2019 國立某大學",
    "保留所有权利",
    "保留一切权利",
    "著作权所有，侵权必究",
    "本课程版权归南屿师范大学所有",
    "未经授权，不得转载、摘编或利用其它方式使用本课程内容",
    "未经书面许可，禁止转载",
    "Copyright © 2022 西岭医科大学 All Rights Reserved",
    "Copyright (c) 2018 Haichuan Vocational and Technical College",
    "(c) 2020 Xinghe College",
    "Copyright",
    "copyright 2001, G. de Jong, B. Nooteboom",
    "©2000 by Jeffrey K. Lew. All rights reserved.",
    "© Copyright 1999: American Meteorological Society",
    "\xa9 2018 Curran Associates Inc.All rights reserved.",
    "Copyright retained by author(s)",
    "In Copyright - Educational Use Permitted",
    "https://rightsstatements.org/vocab/InC/1.0/",
    "ALL RIGHTS RESERVED.",
    "all  rights\nreserved",
    # full-width forms as typed on Chinese keyboards
    "Ｃｏｐｙｒｉｇｈｔ ２０２１ 锦溪机电职业技术学院",
    "（Ｃ）２０２０ 安澜开放大学",
    # other languages in the shared samples
    "Droits réservés à l'éditeur et aux auteurs",
    "Tous droits réservés",
    "Alle Rechte vorbehalten",
    "Todos los derechos reservados",
]


@pytest.mark.parametrize("text", COPYRIGHT_ONLY)
def test_every_copyright_only_line_is_all_rights_reserved(text: str) -> None:
    info = normalise_license(text)
    assert info.id == ALL_RIGHTS_RESERVED
    assert info.open is False
    assert (info.name_zh, info.name_en) == ("版权所有", "All rights reserved")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://creativecommons.org/licenses/by-nc-sa/4.0/", "CC-BY-NC-SA-4.0"),
        ("http://creativecommons.org/licenses/by-nc-sa/4.0/legalcode.zh-Hans", "CC-BY-NC-SA-4.0"),
        ("https://creativecommons.org/licenses/by/4.0/deed.zh", "CC-BY-4.0"),
        ("https://creativecommons.org/licenses/by-sa/3.0/cn/", "CC-BY-SA-3.0"),
        ("https://creativecommons.org/licenses/by-nd-nc/1.0/", "CC-BY-NC-ND-1.0"),
        ("https://creativecommons.org/licenses/by-nc/2.5/", "CC-BY-NC-2.5"),
        ("CC BY-NC-SA 4.0", "CC-BY-NC-SA-4.0"),
        ("cc by-nc-sa 4.0", "CC-BY-NC-SA-4.0"),
        ("CC-BY-NC-SA-4.0", "CC-BY-NC-SA-4.0"),
        ("CC BY 4.0", "CC-BY-4.0"),
        ("ＣＣ ＢＹ－ＳＡ ４.０", "CC-BY-SA-4.0"),
        ("CC BY-NC-ND 3.0 CN", "CC-BY-NC-ND-3.0"),
        ("知识共享署名-非商业性使用-相同方式共享 4.0 国际许可协议", "CC-BY-NC-SA-4.0"),
        ("知识共享署名 4.0 国际许可协议（CC BY 4.0）", "CC-BY-4.0"),
        ("知识共享 署名-禁止演绎 3.0 中国大陆", "CC-BY-ND-3.0"),
        ("署名-非商业性使用 4.0 国际", "CC-BY-NC-4.0"),
        ("創用CC 姓名標示-非商業性-相同方式分享 3.0 台灣", "CC-BY-NC-SA-3.0"),
        ("Creative Commons Attribution-ShareAlike 4.0 International", "CC-BY-SA-4.0"),
        ("Creative Commons Attribution Non Commercial 4.0 International", "CC-BY-NC-4.0"),
        ("Creative Commons Attribution-NonCommercial-NoDerivatives 4.0", "CC-BY-NC-ND-4.0"),
        ("Creative Commons Attribution 1.0 Generic", "CC-BY-1.0"),
        (
            "Creative Commons Paternité-Pas d'Utilisation Commerciale-Pas de Modification "
            "2.5 Canada.",
            "CC-BY-NC-ND-2.5",
        ),
        ("© 2020 Jianglan University. Licensed under CC BY 4.0.", "CC-BY-4.0"),
        ("Some rights reserved: CC BY-SA 4.0", "CC-BY-SA-4.0"),
        ("CC0 1.0", "CC0-1.0"),
        ("Creative Commons Zero v1.0 Universal", "CC0-1.0"),
        ("https://creativecommons.org/publicdomain/zero/1.0/legalcode", "CC0-1.0"),
        ("https://creativecommons.org/publicdomain/mark/1.0/", "CC-PDM-1.0"),
        ("public domain", "CC-PDM-1.0"),
        ("domaine public", "CC-PDM-1.0"),
        ("公有领域", "CC-PDM-1.0"),
        ("EPA's documents are in the public domain and have no copyright.", "CC-PDM-1.0"),
        ("MIT License", "MIT"),
        ("https://opensource.org/licenses/MIT", "MIT"),
        ("Apache License 2.0", "Apache-2.0"),
        ("http://www.apache.org/licenses/LICENSE-2.0", "Apache-2.0"),
        ("BSD 3-Clause Clear License", "BSD-3-Clause-Clear"),
        ("GNU General Public License v3.0", "GPL-3.0-only"),
        ("GPLv2+", "GPL-2.0-or-later"),
        ("https://www.gnu.org/licenses/fdl-1.3.html", "GFDL-1.3-only"),
    ],
)
def test_licence_names_and_urls_give_their_spdx_id(text: str, expected: str) -> None:
    info = normalise_license(text)
    assert info.id == expected
    assert info.open is True


@pytest.mark.parametrize(
    "text",
    [
        "info:eu-repo/semantics/openAccess",
        "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
        "Copyright and Other Restrictions Information is Unknown.",
        "Other (Not Open)",
        "open to the general public",
        "Jilin University 2021",
        "",
        "   ",
    ],
)
def test_statements_that_name_no_licence_are_unknown(text: str) -> None:
    assert normalise_license(text) == LicenceInfo(id=None, open=None)


def test_a_cc_licence_without_its_version_is_open_but_has_no_id() -> None:
    info = normalise_license("Creative Commons Attribution-Noncommercial-Share Alike")
    assert (info.id, info.open, info.short) == (None, True, "CC BY-NC-SA")
    assert normalise_license(None, "https://creativecommons.org/licenses/by-sa/").open is True


def test_a_copyright_mark_does_not_hide_the_public_domain_claim_it_outweighs() -> None:
    text = "© 1999 Example. Parts of this site are in the public domain; all rights reserved."
    assert normalise_license(text).id == ALL_RIGHTS_RESERVED


def test_the_url_is_read_before_the_text_and_a_declared_id_wins() -> None:
    by_url = normalise_license("版权所有", "https://creativecommons.org/licenses/by/4.0/")
    assert by_url.id == "CC-BY-4.0"
    assert normalise_license("CC BY 4.0", spdx="cc-by-sa-4.0").id == "CC-BY-SA-4.0"
    assert normalise_license("CC BY 4.0", spdx="not-a-licence").id == "CC-BY-4.0"


def test_every_licence_of_the_demo_corpus_is_recognised() -> None:
    found = {}
    for record in generate_corpus(400):
        info = normalise_license(record.license)
        assert info.id is not None, record.license
        found[info.id] = info.open
    assert found == {
        "CC-BY-4.0": True,
        "CC-BY-SA-4.0": True,
        "CC-BY-NC-SA-4.0": True,
        ALL_RIGHTS_RESERVED: False,
    }


def test_a_cc_licence_has_names_a_meaning_and_its_deed_in_both_languages() -> None:
    info = licence_info("CC-BY-NC-SA-4.0")
    assert info == LicenceInfo(
        id="CC-BY-NC-SA-4.0",
        open=True,
        name_zh="知识共享 署名-非商业性使用-相同方式共享 4.0 国际（CC BY-NC-SA 4.0）",
        name_en="Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International "
        "(CC BY-NC-SA 4.0)",
        meaning_zh="可分享和改编，须署名，不得用于商业目的，改编作品须以相同许可发布。",
        meaning_en="Share and adapt it, crediting the author, non-commercially; "
        "adaptations carry the same licence.",
        deed_url="https://creativecommons.org/licenses/by-nc-sa/4.0/",
        short="CC BY-NC-SA 4.0",
    )
    assert licence_info("CC-BY-ND-3.0").name_en == (  # type: ignore[union-attr]
        "Creative Commons Attribution-NoDerivs 3.0 Unported (CC BY-ND 3.0)"
    )
    assert licence_info("CC-BY-SA-3.0-DE").deed_url == (  # type: ignore[union-attr]
        "https://creativecommons.org/licenses/by-sa/3.0/de/"
    )


def test_software_licences_take_their_names_and_openness_from_the_spdx_list() -> None:
    mit = licence_info("MIT")
    assert mit is not None
    assert (mit.open, mit.name_en, mit.name_zh) == (True, "MIT License", "MIT 许可证")
    assert mit.deed_url == "https://spdx.org/licenses/MIT.html"
    assert licence_info("Elastic-2.0").open is False  # type: ignore[union-attr]
    assert licence_info("no-such-licence") is None
    assert licence_info(ALL_RIGHTS_RESERVED).deed_url is None  # type: ignore[union-attr]


def test_the_profile_licence_carries_the_open_flag_of_its_id() -> None:
    assert License(spdx="CC-BY-4.0", text="CC BY 4.0").open is True
    assert License(spdx=ALL_RIGHTS_RESERVED, text="版权所有").open is False
    assert License(text="something else").open is None
    assert License(spdx="CC-BY-4.0", text="x", open=False).open is False  # as stored
