"""Emit OCDS releases inside the act's own transaction, validated before commit."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.db import transaction

from licita.core import clock
from licita.ledger.services import release_logged
from licita.publication.build import build_release, ocid_for
from licita.publication.feed import releases_sequence_after_commit
from licita.publication.merge import Compiler, merge_rules
from licita.publication.models import Record, Release
from licita.publication.schema import release_schema, validate_release

if TYPE_CHECKING:
    import datetime as dt

    from licita.procurement.models import Procedure


@functools.cache
def compiler() -> Compiler:
    """Return the merge compiler for the project's release schema (with its extensions)."""
    return Compiler(merge_rules(release_schema()))


#: The parts of the merge state that the record keeps in columns of their own, not twice.
SPLIT = ("compiled", "versioned")


def _state_of(record: Record) -> dict[str, Any]:
    """Return the record's full merge state: the stored state with its compiled and versioned release."""
    state: dict[str, Any] = record.state
    if all(key not in state for key in SPLIT):
        state = {**state, "compiled": record.compiled, "versioned": record.versioned}
    return state


def release_emit(*, procedure: Procedure, tags: list[str], date: dt.datetime | None = None) -> Release:
    """Publish the procedure's current state as a release tagged `tags`; call it inside the act's transaction.

    The release is validated against the OCDS schema and extensions first: an invalid release raises
    `InvalidRelease` and the whole act is rolled back, so nothing invalid is ever published. The
    compiled and versioned record is updated in the same transaction.
    """
    now = clock.now()
    date = date or clock.act_time()  # when the act happened (inside `clock.recorded_act`, before `now`)
    ocid = ocid_for(procedure)
    record = Record.objects.select_for_update().filter(ocid=ocid).first()
    number = (record.release_count if record else 0) + 1
    data = build_release(procedure, release_id=f"{ocid}-{number:04d}", tags=tags, date=date, published=now)
    validate_release(data)
    release = Release.objects.create(
        ocid=ocid,
        release_id=data["id"],
        procedure=procedure,
        date=date,
        published_at=now,
        tags=tags,
        data=data,
    )
    release_logged(release_data=data)
    transaction.on_commit(releases_sequence_after_commit)
    merger = compiler()

    def history() -> list[dict[str, Any]]:
        """Return the procedure's earlier releases (read only when the merge must start again)."""
        return list(
            Release.objects.filter(ocid=ocid).exclude(pk=release.pk).order_by("id").values_list("data", flat=True)
        )

    state = merger.add(_state_of(record) if record else merger.empty_state(), data, history=history)
    stored = {key: value for key, value in state.items() if key not in SPLIT}
    if record is None:
        Record.objects.create(
            ocid=ocid,
            procedure=procedure,
            compiled=merger.state_compiled(state),
            versioned=merger.state_versioned(state),
            state=stored,
            release_count=1,
            first_published_at=now,
            updated_at=now,
        )
    else:
        record.compiled = merger.state_compiled(state)
        record.versioned = merger.state_versioned(state)
        record.state = stored
        record.release_count = number
        record.updated_at = now
        record.save(update_fields=["compiled", "versioned", "state", "release_count", "updated_at"])
    return release
