"""SCDL imports: a file, a URL or API records read, validated and written in one job with a French report;
then the acts' PDFs fetched from their DELIB_URL."""
