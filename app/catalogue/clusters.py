"""Course clusters: the records of one course, one search hit with every provenance.

Two live, publishable resources are one course when they share a match key
(``metadata.matching``: an identifier of one course, or title + school + course code),
or when an administrator merged them; a resource an administrator split out joins no
cluster by its keys (an explicit merge still holds).  A cluster's canonical member is its
richest record (quality), then the first harvested, then the smallest id; every member's
``cluster_id`` names it, a resource alone has none.

Clusters are computed in the transaction that stores the records (``Batch.flush``), and
every resource whose cluster changed is journalled, so the search index follows (the
indexer keeps the canonical member's document, with all provenances, and drops the
others).  Our OAI-PMH provider and the change feed are untouched: they expose every
record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session

from app.catalogue import repository
from app.catalogue.models import Resource
from app.clock import utcnow
from metadata.matching import match_keys
from metadata.profile import ResourceRecord

SPLIT = "split"
MERGE = "merge"


class ClusterError(ValueError):
    """An administrator's request on clusters that cannot be done; the message says why."""


class UnknownResource(ClusterError):
    """No resource has this id."""


def keys_of(resource: Resource) -> list[str]:
    """The match keys of a stored resource (none unless live and publishable)."""
    if resource.deleted or not resource.publishable:
        return []
    return match_keys(ResourceRecord.model_validate(resource.record), resource.institution_id)


@dataclass
class _Overrides:
    split: set[str] = field(default_factory=set)
    merged_with: dict[str, set[str]] = field(default_factory=dict)


def _overrides(session: Session) -> _Overrides:
    found = _Overrides()
    for override in repository.cluster_overrides(session):
        if override.kind == SPLIT:
            found.split.add(override.resource_id)
        elif override.kind == MERGE and override.other_id:
            found.merged_with.setdefault(override.resource_id, set()).add(override.other_id)
            found.merged_with.setdefault(override.other_id, set()).add(override.resource_id)
    return found


def _reach(
    session: Session, seeds: set[str], overrides: _Overrides, known: Mapping[str, list[str]]
) -> tuple[dict[str, repository.ClusterState], list[set[str]]]:
    """Every resource the seeds' clusters may hold, before and after: their current
    clusters, their merges and who shares their keys, to the end.  Returns their states
    and the groups of resources sharing each key (``known``: keys of some, not read)."""
    seen = set(seeds)
    states: dict[str, repository.ClusterState] = {}
    holders: dict[str, set[str]] = {}  # key → resources holding it
    asked: set[str] = set()
    frontier = set(seen)
    while frontier:
        found = repository.cluster_states(session, sorted(frontier))
        states.update({row[0]: row for row in found})
        reached = set(repository.ids_in_clusters(session, sorted({r[1] for r in found if r[1]})))
        for resource_id in frontier:
            reached |= overrides.merged_with.get(resource_id, set())
        linkable = [r[0] for r in found if r[0] not in overrides.split]
        keys = {key for rid in linkable if rid in known for key in known[rid]}
        unknown = sorted(rid for rid in linkable if rid not in known)
        keys |= {key for _, key in repository.match_keys_of(session, unknown)}
        keys -= asked
        asked |= keys
        for resource_id, key in repository.holders_of_keys(session, sorted(keys)):
            if resource_id not in overrides.split:
                holders.setdefault(key, set()).add(resource_id)
                reached.add(resource_id)
        frontier = reached - seen
        seen |= frontier
    return states, list(holders.values())


def _clusters(
    states: dict[str, repository.ClusterState], links: Iterable[set[str]]
) -> dict[str, str | None]:
    """Each resource's canonical member (None alone): the linked searchable resources."""
    parent = {rid: rid for rid, state in states.items() if state[2]}

    def find(rid: str) -> str:
        while parent[rid] != rid:
            parent[rid] = parent[parent[rid]]
            rid = parent[rid]
        return rid

    for linked in links:
        present = sorted(rid for rid in linked if rid in parent)
        for other in present[1:]:
            parent[find(other)] = find(present[0])
    groups: dict[str, list[str]] = {}
    for rid in parent:
        groups.setdefault(find(rid), []).append(rid)
    cluster_of: dict[str, str | None] = dict.fromkeys(states)
    for members in groups.values():
        if len(members) > 1:
            canonical = min(members, key=lambda r: (-states[r][3], states[r][4], r))
            cluster_of.update(dict.fromkeys(members, canonical))
    return cluster_of


def _membership(clusters: dict[str, str | None]) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for rid, cluster in clusters.items():
        if cluster is not None:
            found.setdefault(cluster, set()).add(rid)
    return {cluster: frozenset(members) for cluster, members in found.items()}


def update(
    session: Session,
    seeds: Iterable[str] | Mapping[str, list[str]],
    journalled: Iterable[str] = (),
) -> None:
    """Recompute the clusters the ``seeds`` belonged to or now belong to, after their
    match keys were written; journal each live resource whose cluster changed (unless in
    ``journalled``, already journalled by the caller).  ``seeds`` may map each id to its
    keys, as just written: they are not read again."""
    known = dict(seeds) if isinstance(seeds, Mapping) else {}
    seeds = set(seeds)
    if not seeds:
        return
    # Two transactions storing two records of one course take turns from here, and the
    # second reads the first's keys (PostgreSQL reads committed rows per statement).
    repository.lock_journal(session)
    session.flush()
    overrides = _overrides(session)
    states, holders = _reach(session, seeds, overrides, known)
    merges = [{a, *others} for a, others in overrides.merged_with.items()]
    cluster_of = _clusters(states, [*holders, *merges])
    before = {rid: state[1] for rid, state in states.items()}
    repository.set_cluster_ids(
        session, {rid: cluster for rid, cluster in cluster_of.items() if before[rid] != cluster}
    )
    old, new = _membership(before), _membership(cluster_of)
    # A cluster's document is its canonical member's (``app.search.indexer``): a record
    # whose cluster changed is journalled, and so is the canonical member of a cluster
    # that gained or lost one, never all its members (a repository listing one course a
    # thousand times would journal it a million times).
    regrouped = {
        cluster for cluster in old.keys() | new.keys() if old.get(cluster) != new.get(cluster)
    }
    skip = set(journalled)
    now = utcnow()
    entries = [
        # The record's own hash: a mirror sees nothing new in it.
        {"resource_id": rid, "op": "upsert", "content_hash": state[5], "created_at": now}
        for rid, state in sorted(states.items())
        if state[2]
        and rid not in skip
        and (before[rid] != cluster_of[rid] or (rid == cluster_of[rid] and rid in regrouped))
    ]
    if entries:
        repository.append_journal_entries(session, entries)


def refresh(
    session: Session, resources: Sequence[Resource], journalled: Iterable[str] = ()
) -> None:
    """Write the match keys of stored resources again (their school changed, or the
    matching rules did), then their clusters."""
    if not resources:
        return
    repository.replace_match_keys(session, {r.id: keys_of(r) for r in resources})
    update(session, [r.id for r in resources], journalled)


def members(session: Session, resource: Resource) -> list[Resource]:
    """The resources of the resource's cluster, canonical first, then by id (itself
    alone when it has none)."""
    if resource.cluster_id is None:
        return [resource]
    found = [r for r in repository.cluster_members(session, [resource.cluster_id]) if not r.deleted]
    return sorted(found, key=lambda r: (r.id != resource.cluster_id, r.id))


def members_of_clusters(session: Session, cluster_ids: Iterable[str]) -> dict[str, list[Resource]]:
    """Cluster id → its live members, canonical first, then by id."""
    wanted = sorted(set(cluster_ids))
    found: dict[str, list[Resource]] = {}
    for row in repository.cluster_members(session, wanted):
        if row.cluster_id is not None and not row.deleted:
            found.setdefault(row.cluster_id, []).append(row)
    return {
        cluster: sorted(rows, key=lambda r: (r.id != cluster, r.id))
        for cluster, rows in found.items()
    }


# --- an administrator's decisions ------------------------------------------------------------


def _existing(session: Session, resource_id: str) -> Resource:
    resource = repository.get_resource(session, resource_id)
    if resource is None:
        raise UnknownResource(f"no resource with id {resource_id!r}")
    return resource


def split(session: Session, resource_id: str) -> None:
    """Take a resource out of its cluster, for good: its match keys join it to no other
    record (re-harvests included), and the merges naming it are forgotten."""
    _existing(session, resource_id)
    repository.remove_cluster_overrides(session, resource_id, kinds=[SPLIT, MERGE])
    repository.add_cluster_override(session, SPLIT, resource_id)
    update(session, [resource_id])


def merge(session: Session, resource_id: str, other_id: str) -> None:
    """Make two resources one course whatever their match keys say (a split of either
    stays: neither joins others by its keys)."""
    if resource_id == other_id:
        raise ClusterError("a resource cannot be merged with itself")
    for rid in (resource_id, other_id):
        resource = _existing(session, rid)
        if resource.deleted or not resource.publishable:
            raise ClusterError(f"resource {rid!r} is not in the public catalogue")
    first, second = sorted((resource_id, other_id))
    repository.remove_cluster_overrides(session, first, kinds=[MERGE], other_id=second)
    repository.add_cluster_override(session, MERGE, first, second)
    update(session, [first, second])


def rebuild(session: Session, *, after: str = "", limit: int = 500) -> str | None:
    """Write the match keys and clusters of the ``limit`` resources after ``after`` (in id
    order) again; returns the last id done, None past the end.  For a catalogue stored
    before clusters existed, or after the matching rules changed."""
    ids = repository.resource_ids_after(session, after, limit)
    if not ids:
        return None
    refresh(session, repository.get_resources(session, ids))
    return ids[-1]
