"""Outgoing vendor connections: test them, and release transcripts through them in batches.

The district data a release reads and writes is `tenants.queries.releases`.

    failures.py   what went wrong with a vendor, as data (pure)          Failure, VendorFailure
    retry.py      backoff with jitter up to a limit (pure)               RetryPolicy
    report.py     the Batch Report: counts and lines (pure) and reads    load_report, list_batches
    client.py     the vendor's HTTP API: token, upload, check; tokens    VendorClient, TokenCache
    probe.py      the connection test, stored and audited                check_connection
    batches.py    queue, claim, lease, settle: the control-plane SQL     queue_batch, BatchRequest
    delivery.py   one item: read, render, upload, disclose, settle       Delivery
    worker.py     slots that claim and deliver; the lease sweeper        Worker, WorkerConfig

Import from the module that owns a name (this package re-exports nothing). For the web pages:

    result = await check_connection(svc.stores.control, svc.settings.master_keys, id, actor)
    report = await load_report(conn, batch_id, district_id=None or the user's district)
    rows = await list_batches(conn, district_id=...)
    batch = await queue_batch(conn, svc.stores, district, BatchRequest(...), actor)
"""
