"""Where the tests find the real public data beside the project (../shared/data: council minutes, SCDL
files, PDFs; its README gives sources and licences). One definition for every test module."""

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
AVRANCHES = SHARED_DATA / "proces-verbaux"  # real minutes of Avranches (text)
COUTHENANS = SHARED_DATA / "pdf-couthenans"  # real minutes of Couthenans (PDF)
SCDL = SHARED_DATA / "scdl"  # real SCDL registers (Rennes, Saint-Étienne Métropole…)
