"""The institution authority on SQLite and PostgreSQL: seeding from records, curation by an
administrator (service and CLI), re-harvests, and the migration that made it."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import select

from app import migrate
from app.catalogue import repository as catalogue_repository
from app.catalogue import service as catalogue
from app.catalogue.models import Resource
from app.db import session_scope
from app.institutions import service as institutions
from app.institutions.models import InstitutionAlias
from app.settings import Settings
from tests.app.records import store_course as store
from tests.conftest import CommandLine

DONGHU_ZH = "东湖财经大学"
DONGHU_EN = "Donghu University of Finance and Economics"


def school_of(engine: Engine, resource_id: str) -> str | None:
    with session_scope(engine) as session:
        resource = catalogue.get_resource(session, resource_id)
        assert resource is not None
        return resource.institution_id


def counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return {row.id: row.count for row in institutions.list_institutions(session)}


def last_serial(engine: Engine) -> int:
    with session_scope(engine) as session:
        return catalogue_repository.last_serial(session)


def test_a_school_is_seeded_from_the_first_record_that_names_it(engine: Engine) -> None:
    first = store(engine, 1, DONGHU_ZH)
    second = store(engine, 2, "东湖 财经大学")  # another spelling, the same key
    school = school_of(engine, first)
    assert school == school_of(engine, second) == "dong-hu-cai-jing-da-xue"
    with session_scope(engine) as session:
        found = institutions.get_institution(session, "dong-hu-cai-jing-da-xue")
    assert found is not None
    assert (found.name_zh, found.name_en, found.count) == (DONGHU_ZH, None, 2)
    assert found.aliases == [DONGHU_ZH]


def test_names_a_record_gives_together_make_one_school_for_records_in_either_language(
    engine: Engine,
) -> None:
    both = {"zh": DONGHU_ZH, "en": DONGHU_EN}
    zh = [store(engine, n, DONGHU_ZH) for n in range(2)]  # seeded before any evidence
    paired = store(engine, 10, DONGHU_EN, paired=both)
    en = [store(engine, n, DONGHU_EN) for n in range(20, 23)]
    schools = {school_of(engine, rid) for rid in [*zh, paired, *en]}
    assert len(schools) == 1
    (school,) = schools
    assert counts(engine) == {school: 6}
    with session_scope(engine) as session:
        found = institutions.get_institution(session, str(school))
        assert found is not None
        assert (found.name_zh, found.name_en) == (DONGHU_ZH, DONGHU_EN)
        assert institutions.resolve(session, "DONGHU UNIVERSITY OF FINANCE & ECONOMICS") == school


def test_two_known_schools_are_not_merged_by_a_record(engine: Engine) -> None:
    a = store(engine, 1, "江澜大学")
    b = store(engine, 2, "Beichen University of Technology")
    c = store(
        engine, 3, "江澜大学", paired={"zh": "江澜大学", "en": "Beichen University of Technology"}
    )
    assert school_of(engine, c) == school_of(engine, a) != school_of(engine, b)


def test_an_admin_alias_joins_two_spellings_and_journals_the_courses_it_moves(
    engine: Engine,
) -> None:
    zh = [store(engine, n, DONGHU_ZH) for n in range(3)]
    en = [store(engine, n, DONGHU_EN) for n in range(10, 12)]
    zh_school, en_school = school_of(engine, zh[0]), school_of(engine, en[0])
    assert zh_school != en_school
    before = last_serial(engine)
    with session_scope(engine) as session:
        moved = institutions.add_alias(session, DONGHU_EN, str(zh_school))
    assert moved == 2
    assert {school_of(engine, rid) for rid in [*zh, *en]} == {zh_school}
    assert counts(engine) == {zh_school: 5}, "the English-named school is gone"
    with session_scope(engine) as session:
        journalled = {
            e.resource_id for e in catalogue_repository.journal_since(session, before, 100)
        }
    # The moved courses, and every course of the school, which now has an English name.
    assert journalled == {*zh, *en}
    with session_scope(engine) as session:
        found = institutions.get_institution(session, str(zh_school))
        assert found is not None
        assert found.name_en == DONGHU_EN, "the absorbed school's English name is kept"
        alias = session.get(InstitutionAlias, "donghu university of finance and economics")
        assert alias is not None and alias.origin == "admin"


def test_merge_folds_a_school_into_another_and_survives_reharvest(engine: Engine) -> None:
    zh = store(engine, 1, DONGHU_ZH)
    en = store(engine, 2, DONGHU_EN)
    source, target = school_of(engine, en), school_of(engine, zh)
    assert source and target
    with session_scope(engine) as session:
        assert institutions.merge(session, source, target) == 1
        assert institutions.get_institution(session, source) is None
    assert school_of(engine, en) == target
    # The source sends the record again, changed, and a new one in English: both resolve
    # through the merged aliases.
    store(engine, 2, DONGHU_EN, title="新版", revision=1)
    new = store(engine, 3, "DONGHU UNIVERSITY OF FINANCE & ECONOMICS")
    assert school_of(engine, en) == school_of(engine, new) == target
    assert counts(engine) == {target: 3}


def test_curation_refuses_what_would_be_wrong(engine: Engine) -> None:
    store(engine, 1, DONGHU_ZH)
    with session_scope(engine) as session:
        school = institutions.resolve(session, DONGHU_ZH)
        assert school is not None
        with pytest.raises(institutions.InstitutionError, match="already leads to"):
            institutions.add_institution(session, name_zh=DONGHU_ZH)
        with pytest.raises(institutions.InstitutionError, match="not a Chinese name"):
            institutions.add_institution(session, name_zh="Donghu")
        with pytest.raises(institutions.InstitutionError, match="is not an id"):
            institutions.add_institution(session, name_en="Nanyu College", institution_id="Bad Id")
        with pytest.raises(institutions.UnknownInstitution):
            institutions.add_alias(session, "Donghu", "no-such-school")
        with pytest.raises(institutions.InstitutionError, match="into itself"):
            institutions.merge(session, school, school)


def test_an_institution_added_by_an_admin_takes_the_records_that_name_it(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        added = institutions.add_institution(
            session,
            name_zh=DONGHU_ZH,
            name_en=DONGHU_EN,
            institution_id="donghu-finance",
            aliases=["东湖财大", "DUFE"],
        )
        assert added.id == "donghu-finance"
    rids = [store(engine, 1, DONGHU_ZH), store(engine, 2, DONGHU_EN), store(engine, 3, "dufe")]
    assert {school_of(engine, rid) for rid in rids} == {"donghu-finance"}


def test_seed_gives_courses_stored_before_the_authority_their_school(engine: Engine) -> None:
    rids = [store(engine, 1, DONGHU_ZH), store(engine, 2, "江澜大学"), store(engine, 3, None)]
    with engine.begin() as connection:  # as rows stored before migration 0007 are
        connection.execute(sa.text("UPDATE resources SET institution_id = NULL"))
        connection.execute(sa.text("DELETE FROM institution_aliases"))
        connection.execute(sa.text("DELETE FROM institutions"))
    with session_scope(engine) as session:
        assert institutions.seed(session) == 2
    assert school_of(engine, rids[0]) == "dong-hu-cai-jing-da-xue"
    assert school_of(engine, rids[1]) == "jiang-lan-da-xue"
    assert school_of(engine, rids[2]) is None
    with session_scope(engine) as session:
        assert institutions.seed(session) == 0, "nothing left to resolve"


# --- the command line ----------------------------------------------------------------------


def test_institutions_from_the_command_line(engine: Engine, coursefed: CommandLine) -> None:
    store(engine, 1, DONGHU_ZH)
    store(engine, 2, DONGHU_EN)
    code, out, _ = coursefed("institutions", "list")
    assert code == 0
    assert "dong-hu-cai-jing-da-xue" in out and "donghu-university-of-finance-and-economics" in out
    assert out.rstrip().endswith("2 institutions")

    code, out, _ = coursefed(
        "institutions", "merge", "donghu-university-of-finance-and-economics",
        "dong-hu-cai-jing-da-xue",
    )  # fmt: skip
    assert (code, out.strip()) == (
        0,
        "donghu-university-of-finance-and-economics merged into dong-hu-cai-jing-da-xue; "
        "1 courses moved",
    )
    code, out, _ = coursefed("institutions", "show", "dong-hu-cai-jing-da-xue")
    assert code == 0
    assert f"{DONGHU_ZH} / {DONGHU_EN}" in out and "2 courses" in out

    code, out, _ = coursefed(
        "institutions", "add", "--zh", "江澜大学", "--en", "Jianglan University"
    )
    assert (code, out.strip()) == (
        0,
        "institution jianglan-university added: 江澜大学 / Jianglan University",
    )
    code, out, _ = coursefed("institutions", "alias", "JLU", "jianglan-university")
    assert code == 0 and "0 courses moved" in out
    code, out, _ = coursefed(
        "institutions", "rename", "jianglan-university", "--en", "Jianglan Univ."
    )
    assert code == 0 and "Jianglan Univ." in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("institutions", "merge", "nope", "dong-hu-cai-jing-da-xue"),
            "no institution with id 'nope'",
        ),
        (("institutions", "alias", "X", "nope"), "no institution with id 'nope'"),
        (("institutions", "add"), "give the institution's Chinese name, English name or both"),
        (("institutions", "add", "--zh", DONGHU_ZH), "already leads to institution"),
        (("institutions", "show", "nope"), "no institution with id 'nope'"),
    ],
)
def test_bad_institution_commands_say_why_and_fail(
    engine: Engine, coursefed: CommandLine, args: tuple[str, ...], message: str
) -> None:
    store(engine, 1, DONGHU_ZH)
    code, out, err = coursefed(*args)
    assert code == 1
    assert message in err
    assert "Traceback" not in out + err


# --- the migration -------------------------------------------------------------------------


def test_migration_0007_up_and_down_keeps_the_catalogue(settings: Settings, engine: Engine) -> None:
    rid = store(engine, 1, DONGHU_ZH)
    config = migrate.alembic_config(settings)
    command.downgrade(config, "0006")
    check = sa.create_engine(settings.resolved_database_url)
    try:
        with check.connect() as connection:
            tables = sa.inspect(connection).get_table_names()
            columns = {c["name"] for c in sa.inspect(connection).get_columns("resources")}
            assert connection.execute(sa.text("SELECT count(*) FROM resources")).scalar_one() == 1
        assert "institutions" not in tables and "institution_aliases" not in tables
        assert "institution_id" not in columns
        command.upgrade(config, "head")
        with check.connect() as connection:
            row = connection.execute(sa.text("SELECT id, institution_id FROM resources")).one()
        assert tuple(row) == (rid, None)
    finally:
        check.dispose()
    with session_scope(engine) as session:
        assert institutions.seed(session) == 1
        rows = session.exec(select(Resource.institution_id)).all()
    assert rows == ["dong-hu-cai-jing-da-xue"]


def test_two_harvests_seeding_one_school_at_once_share_it(engine: Engine) -> None:
    """Two transactions add the same new school: the second waits for the first and
    finds its row instead of failing the harvest on the primary key."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: its transactions never overlap")
    from app.institutions import repository  # noqa: PLC0415

    added: list[str] = []
    with session_scope(engine) as first:
        repository.add_institution(first, "jianglan-university", "江澜大学", None)
        second = threading.Thread(
            target=lambda: added.append(_add_in_own_transaction(engine)), daemon=True
        )
        second.start()
        second.join(timeout=1)
        assert second.is_alive(), "the second insert waits for the first transaction"
    second.join(timeout=30)
    assert added == ["江澜大学"], "the second finds the first's school"
    with session_scope(engine) as session:
        assert [row.id for row in institutions.list_institutions(session)] == [
            "jianglan-university"
        ]


def _add_in_own_transaction(engine: Engine) -> str:
    from app.institutions import repository  # noqa: PLC0415

    with session_scope(engine) as session:
        school = repository.add_institution(session, "jianglan-university", None, "Jianglan")
        return school.name_zh or ""
