"""The change feed: an opaque cursor in commit order that never skips or repeats a release."""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client

from licita.procurement.models import Procedure
from licita.publication.models import Release
from licita.publication.selectors import cursor_encode
from licita.publication.services import release_emit
from tests import factories


def _crawl(client: Client, cursor: str | None = None, limit: int = 7) -> tuple[list[str], str | None]:
    seen: list[str] = []
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/ocds/feed", params).json()
        seen += [r["id"] for r in body["releases"]]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return seen, cursor


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_feed_returns_every_release_once_across_pages(frozen_clock):
    office = factories.make_office()
    for _ in range(5):
        factories.publish(office, factories.make_procedure(office))
    client = Client()

    seen, cursor = _crawl(client, limit=2)
    factories.publish(office, factories.make_procedure(office))
    more, _cursor = _crawl(client, cursor)

    assert seen == list(Release.objects.order_by("id").values_list("release_id", flat=True))[:5]
    assert len(more) == 1
    assert more[0] not in seen


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", ["not-a-cursor", "djEuMS4x", cursor_encode(1)[:-2] + "AA"])
def test_malformed_or_tampered_cursor_is_a_clear_400(cursor):
    response = Client().get("/api/ocds/feed", {"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"
    assert response.json()["detail"]["field"] == "cursor"


@pytest.mark.django_db
def test_cursor_from_the_future_is_a_clear_400():
    response = Client().get("/api/ocds/feed", {"cursor": cursor_encode(10**12)})

    assert response.status_code == 400
    assert response.json()["detail"]["rule"] == "future"


@pytest.mark.django_db
def test_limit_out_of_range_is_refused():
    response = Client().get("/api/ocds/feed", {"limit": 0})

    assert response.status_code == 422


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_feed_never_skips_a_release_while_many_writers_commit_out_of_order(frozen_clock):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL: the in-memory SQLite test database has one writer at a time")
    office = factories.make_office()
    procedures = [factories.publish(office, factories.make_procedure(office)) for _ in range(8)]
    writes_per_thread = 12
    errors: list[BaseException] = []
    stop = threading.Event()
    crawled: list[str] = []

    def writer(procedure_pk: int, seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(writes_per_thread):
                with transaction.atomic():
                    procedure = Procedure.objects.select_for_update().get(pk=procedure_pk)
                    release_emit(procedure=procedure, tags=["tenderUpdate"])
                    time.sleep(rng.uniform(0, 0.02))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def crawler() -> None:
        client = Client()
        cursor = None
        try:
            while not stop.is_set():
                seen, cursor = _crawl(client, cursor, limit=5)
                crawled.extend(seen)
                time.sleep(0.003)
            seen, cursor = _crawl(client, cursor, limit=5)
            crawled.extend(seen)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    initial = list(Release.objects.order_by("id").values_list("release_id", flat=True))
    watcher = threading.Thread(target=crawler)
    writers = [threading.Thread(target=writer, args=(p.pk, i)) for i, p in enumerate(procedures)]
    watcher.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    watcher.join()

    committed = list(Release.objects.values_list("release_id", flat=True))
    assert errors == []
    assert len(committed) == len(initial) + len(procedures) * writes_per_thread
    assert len(crawled) == len(set(crawled))
    assert set(crawled) == set(committed)


@pytest.mark.django_db
def test_packages_name_the_extensions_the_platform_serves():
    listing = Client().get("/api/ocds/extensions/licita_mexico/extension.json")
    schema = Client().get("/api/ocds/extensions/licita_mexico/release-schema.json")
    escape = Client().get("/api/ocds/extensions/licita_mexico/../../schema.py")

    body = b"".join(listing.streaming_content)
    listing.close()
    schema.close()

    assert listing.status_code == 200
    assert body.startswith(b"{")
    assert schema.status_code == 200
    assert escape.status_code == 404


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_release_that_missed_its_sequencer_is_numbered_by_the_next_run(frozen_clock):
    from licita.publication.feed import releases_sequence  # noqa: PLC0415

    office = factories.make_office()
    factories.publish(office, factories.make_procedure(office))
    factories.publish(office, factories.make_procedure(office))
    last = Release.objects.order_by("-id").first()
    Release.objects.filter(pk=last.pk).update(seq=None)
    client = Client()

    before, cursor = _crawl(client)
    numbered = releases_sequence()
    after, _cursor = _crawl(client, cursor)

    assert last.release_id not in before
    assert (numbered, after) == (1, [last.release_id])
