"""Read an SCDL table from uploaded bytes (CSV in any usual encoding/delimiter, or JSON records). Owner: helper A."""
