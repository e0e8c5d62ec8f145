"""District directory and data-store routing.

The only door to district data is `tenant_transaction(stores, district)`: it picks the pool of
the district's store, opens a transaction and names the district in it, so that row-level
security admits that district's rows and no others.
"""

from tenants.directory import District, DistrictDirectory
from tenants.stores import MAIN_STORE, StoreRegistry
from tenants.transaction import TenantConnection, tenant_transaction

__all__ = [
    "MAIN_STORE",
    "District",
    "DistrictDirectory",
    "StoreRegistry",
    "TenantConnection",
    "tenant_transaction",
]
