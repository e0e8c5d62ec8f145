"""District data queries, one module per table family. Every function takes a TenantConnection
(so it runs inside the district's transaction, under row-level security) and still filters by
district_id itself.

    transcripts   a student's whole record; the candidates a TranscriptRequest may mean
    disclosures   the FERPA record of disclosures: written, listed, counted
    releases      what a batch release reads (cohorts, known students) and writes once per item
"""
