"""Synthetic North Carolina districts for development, demos, tests and benchmarks.

    generator   whole districts as rows, deterministic from a seed (`district_rows`)
    nc_courses, nc_names, nc_places   the catalogues it draws from
    seed        loads generated districts into the stores with COPY (bypasses RLS by design)

Nothing here serves a request; the gateway's district data core is the rest of `tenants/`.
"""
