"""The eTranscript gateway: the HTTP edge, OAuth2 server, PESC rendering, web, CLI."""

# The one place the version is written: the package metadata (pyproject.toml reads it here,
# through hatch), the OpenAPI document's info.version, `gateway --version`, the logs and the
# gateway_build_info metric all take it from here. CHANGELOG.md names the same release.
__version__ = "0.2.0"
