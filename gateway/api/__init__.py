"""The consumer API: eTranscripts by district, as PESC XML or JSON, each disclosure recorded."""
