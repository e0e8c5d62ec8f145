"""Deliver one leased item: read, render, upload, then record what happened.

An attempt ends in one of four outcomes, and each is settled in this order, so that a crash
between two steps never loses a disclosure nor delivers twice:

    Accepted  the vendor took it: the disclosure row is written in the district's store
              (once per item, see `releases.record_once`), then the item is marked delivered.
              A crash in between leaves the item leased; after the lease it is tried again
              with the same Idempotency-Key, the vendor answers with its first reference, and
              the existing disclosure row is found rather than written twice.
    Held      an active hold: a `refused_hold` row (FERPA records requests too), then failed
              with reason "hold". Nothing is sent.
    Refused   not the vendor's doing (suspended district, student gone, a record that does not
              render or validate): failed, nothing sent, not retried.
    Failed    the vendor or the network failed: retried after a backoff while the policy
              allows, else failed. Before failing for good, the district's log is checked: if
              an earlier attempt was accepted (its worker died before marking it), the item is
              delivered, not failed.

The upload carries the bearer token from the cache; a 401 means it expired (RFC 6750 §3.1):
the token is refreshed once and the upload repeated (same Idempotency-Key, so safe).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import structlog

from gateway.errors import StoreUnavailable
from gateway.metrics import DISCLOSURES, RELEASE_OUTCOMES, VENDOR_LATENCY
from gateway.outgoing import batches
from gateway.outgoing.batches import Claimed
from gateway.outgoing.client import TokenCache, VendorClient
from gateway.outgoing.failures import Failure, VendorFailure, classify_upload_status
from gateway.outgoing.retry import RetryPolicy
from gateway.pesc import Party, SchemaName, render_transcript, transcript_version, validate
from gateway.pesc.hs_transcript import TranscriptVersion
from tenants.queries import releases, transcripts
from tenants.queries.disclosures import DisclosureRow
from tenants.stores import StoreRegistry
from tenants.transaction import tenant_transaction

log = structlog.stdlib.get_logger("gateway.outgoing")

HOLD = "hold"
_STORE_ERRORS = (StoreUnavailable, OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
# The settled status as a metric's outcome: an item queued again is a retry.
_OUTCOME_OF_STATUS = {"queued": "retry"}


@dataclass(frozen=True)
class Accepted:
    reference: str | None
    sha256: str


@dataclass(frozen=True)
class Held:
    hold_types: tuple[str, ...]


@dataclass(frozen=True)
class Refused:
    kind: str
    message: str


@dataclass(frozen=True)
class Failed:
    failure: Failure
    sha256: str | None


Outcome = Accepted | Held | Refused | Failed


def recipient(item: Claimed) -> str:
    """Who received it, for the disclosure log: the vendor, by connection name and host."""
    return f"{item.endpoint.name} via {urlsplit(item.endpoint.upload_url).hostname}"


def disclosure_row(item: Claimed, event: str, **fields: str | None) -> DisclosureRow:
    return DisclosureRow(
        student_id=item.student_id,
        event=event,
        channel="batch",
        consumer_id=None,
        consumer_name=item.endpoint.name,
        client_id=None,
        recipient=recipient(item),
        purpose=item.purpose,
        legal_basis=item.legal_basis,
        request_tracking_id=item.tracking_id,
        **fields,
    )


_SCHEMAS: dict[TranscriptVersion, SchemaName] = {
    "1.3.0": "HighSchoolTranscript 1.3.0",
    "1.5.0": "HighSchoolTranscript 1.5.0",
}


@dataclass
class Delivery:
    """Everything one worker needs to deliver items; `handle` never raises for an item."""

    stores: StoreRegistry
    client: VendorClient
    tokens: TokenCache
    policy: RetryPolicy
    owner: str
    # When set, every transcript is validated against the PESC schema before it leaves.
    pesc_dir: Path | None = None
    rand: Callable[[], float] = random.random

    async def handle(self, item: Claimed) -> str:
        """Attempt and settle `item`; its new status (or 'lost' if the lease went elsewhere)."""
        started = time.perf_counter()
        if self.policy.exhausted(item.attempts):
            outcome: Outcome = Failed(
                Failure(
                    "lease_expired",
                    f"Gave up after {item.attempts - 1} attempts that ended without an answer"
                    " (the workers delivering it stopped)",
                ),
                None,
            )
        else:
            try:
                outcome = await self.attempt(item)
            except _STORE_ERRORS as exc:
                # Nothing was sent (the vendor is called last); try again later.
                outcome = Failed(
                    Failure(
                        "store",
                        f"The district's data store did not answer ({type(exc).__name__})",
                        retryable=True,
                    ),
                    None,
                )
        status = await self.settle(item, outcome)
        RELEASE_OUTCOMES.labels(_OUTCOME_OF_STATUS.get(status, status)).inc()
        log.debug(
            "release_item",
            batch_id=item.batch_id,
            item_no=item.item_no,
            attempt=item.attempts,
            outcome=type(outcome).__name__,
            status=status,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        if status in ("delivered", "failed"):
            async with self.stores.control.acquire() as conn:
                closed = await batches.finish_if_done(conn, item.batch_id)
            if closed is not None:
                log.info("release_batch_finished", **closed)
        return status

    # --- attempt ---------------------------------------------------------------------------

    async def attempt(self, item: Claimed) -> Outcome:
        if not item.district.active:
            return Refused(
                "suspended", f"District {item.district.lea_code} is suspended: nothing is released"
            )
        async with tenant_transaction(self.stores, item.district, readonly=True) as tx:
            record = await transcripts.student_record(tx, item.student_id)
        if record is None:
            return Refused("not_found", "The district no longer has this student")
        if record.on_hold:
            return Held(tuple(sorted({h.hold_type for h in record.active_holds})))
        try:
            # Checked when queued; a value that is not a version refuses, never falls back.
            version = transcript_version(item.pesc_version)
            body = render_transcript(
                record,
                version=version,
                document_id=item.document_id,
                # Fixed at the first attempt, so a retry renders the same bytes.
                created_at=item.document_created_at,
                destination=Party(name=item.endpoint.name),
                request_tracking_id=item.tracking_id,
            )
        except ValueError:
            return Refused("render", "The student's record cannot be rendered as a transcript")
        if self.pesc_dir is not None:
            errors = validate(self.pesc_dir, _SCHEMAS[version], body)
            if errors:
                # Only where: a schema message may quote the record's values.
                return Refused(
                    "invalid_document",
                    f"The transcript fails the PESC {version} schema"
                    f" ({len(errors)} errors, first at line {errors[0].line})",
                )
        sha256 = hashlib.sha256(body).hexdigest()
        asked = time.perf_counter()
        try:
            reference = await self._upload(item, body)
        except VendorFailure as failed:
            VENDOR_LATENCY.labels("failed").observe(time.perf_counter() - asked)
            return Failed(failed.failure, sha256)
        VENDOR_LATENCY.labels("accepted").observe(time.perf_counter() - asked)
        return Accepted(reference, sha256)

    async def _upload(self, item: Claimed, body: bytes) -> str | None:
        endpoint = item.endpoint
        token = await self.tokens.get(endpoint)
        answer = await self.client.upload(endpoint, token, body, item.document_id)
        if answer.status == 401:
            self.tokens.invalidate(endpoint, token)
            token = await self.tokens.get(endpoint)
            answer = await self.client.upload(endpoint, token, body, item.document_id)
        failure = classify_upload_status(answer.status, answer.retry_after)
        if failure is not None:
            raise VendorFailure(failure)
        return answer.reference

    # --- settle ----------------------------------------------------------------------------

    async def settle(self, item: Claimed, outcome: Outcome) -> str:
        if isinstance(outcome, Accepted):
            return await self._delivered(item, outcome.reference, outcome.sha256)
        if isinstance(outcome, Held):
            await self.disclose(
                item, disclosure_row(item, "refused_hold", detail=",".join(outcome.hold_types))
            )
            return await self._failed(item, HOLD, HOLD)
        if isinstance(outcome, Refused):
            return await self._failed(item, outcome.kind, outcome.message)
        failure = outcome.failure
        delay = self.policy.next_delay(failure, item.attempts, self.rand())
        if delay is not None:
            async with self.stores.control.acquire() as conn:
                kept = await batches.reschedule(
                    conn, item, self.owner, delay, failure, outcome.sha256
                )
            log.info(
                "release_item_retry",
                batch_id=item.batch_id,
                item_no=item.item_no,
                attempt=item.attempts,
                kind=failure.kind,
                delay_s=round(delay, 3),
            )
            return "queued" if kept else "lost"
        async with tenant_transaction(self.stores, item.district, readonly=True) as tx:
            earlier = await releases.recorded_event(tx, item.student_id, item.tracking_id)
        if earlier == "disclosed":
            return await self._mark_delivered(item, None, outcome.sha256)
        log.info(
            "release_item_failed",
            batch_id=item.batch_id,
            item_no=item.item_no,
            attempt=item.attempts,
            kind=failure.kind,
        )
        return await self._failed(item, failure.kind, failure.message, outcome.sha256)

    async def disclose(self, item: Claimed, row: DisclosureRow) -> None:
        """Write the item's disclosure row in the district's store, unless it has one."""
        async with tenant_transaction(self.stores, item.district) as tx:
            written = await releases.record_once(tx, row)
        if written:
            DISCLOSURES.labels(row.event, "batch").inc()

    async def _delivered(self, item: Claimed, reference: str | None, sha256: str) -> str:
        detail = f"Vendor reference {reference}" if reference else None
        await self.disclose(
            item,
            disclosure_row(
                item,
                "disclosed",
                document_id=item.document_id,
                document_sha256=sha256,
                pesc_version=item.pesc_version,
                detail=detail,
            ),
        )
        return await self._mark_delivered(item, reference, sha256)

    async def _mark_delivered(
        self, item: Claimed, reference: str | None, sha256: str | None
    ) -> str:
        async with self.stores.control.acquire() as conn:
            await batches.deliver(conn, item, reference, sha256)
        return "delivered"

    async def _failed(
        self, item: Claimed, kind: str, message: str, sha256: str | None = None
    ) -> str:
        async with self.stores.control.acquire() as conn:
            kept = await batches.fail(conn, item, self.owner, kind, message, sha256)
        if not kept:
            log.warning("release_lease_lost", batch_id=item.batch_id, item_no=item.item_no)
        return "failed" if kept else "lost"
