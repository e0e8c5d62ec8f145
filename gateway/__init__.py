"""The eTranscript gateway: the HTTP edge, OAuth2 server, PESC rendering, web, CLI."""
