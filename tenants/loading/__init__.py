"""Loading a district's real records from its SIS exports (CSV bundles, PESC transcripts).

sources        file, folder or zip; the source digest
csv_bundle     the CSV bundle reader          pesc_documents   the PESC transcript reader
columns        what every column is            validator        row checks, into staging
staging        spool files for COPY            replace          the one-transaction apply
load           one load, start to finish, recorded in the control plane
template       `gateway data template`         docs             docs/data-formats.md
"""

from tenants.loading.load import FORMATS, LoadRequest, LoadResult, load_district, start_load

__all__ = ["FORMATS", "LoadRequest", "LoadResult", "load_district", "start_load"]
