"""Shared helpers of the subject-routing tests: real Rennes rows with their true matière, embeddings
computed once per test process, deliberations created with them. (Named test_* so it sits beside the
tests; it holds no test itself.)"""

import datetime
import json
import uuid

import numpy as np
import pytest

from apps.deliberations import nomenclature
from apps.deliberations.models import Deliberation
from apps.deliberations.vectors import embedding_text_for
from apps.documents.embeddings import get_embedder
from apps.tenants.context import tenant_context
from tests.paths import SHARED_DATA

RENNES = SHARED_DATA / "scdl" / "deliberations-ville-de-rennes-extrait-152.json"
_VECTORS: dict[str, np.ndarray] = {}


def rennes_rows() -> list[dict]:
    """The 152 rows, oldest id first, with the true level-2 code resolved from the label (7.1 → 7.10)."""
    rows = []
    for row in sorted(json.loads(RENNES.read_text(encoding="utf-8")), key=lambda r: r["delib_id"]):
        matiere = nomenclature.match_label(row["delib_matiere_nom"])
        assert matiere is not None and matiere.code in nomenclature.candidates_for_number(row["delib_matiere_code"])
        rows.append(
            {"delib_id": row["delib_id"], "objet": row["delib_objet"], "code": matiere.code, "date": row["delib_date"]}
        )
    return rows


def split_rows(train_size: int, test_size: int) -> tuple[list[dict], list[dict]]:
    """Every 15th row held out (at most test_size), the first train_size of the others for training:
    a deterministic spread over the extract's dates and matières."""
    rows = rennes_rows()
    held_out = [row for i, row in enumerate(rows) if i % 15 == 7][:test_size]
    training = [row for row in rows if row not in held_out][::2][:train_size]
    return training, held_out


def vectors_for(texts: list[str]) -> list[np.ndarray]:
    """Embeddings as `ensure_embeddings` computes them, each text embedded once per test process."""
    missing = [t for t in dict.fromkeys(texts) if t not in _VECTORS]
    if missing:
        for text, vector in zip(missing, get_embedder().embed_passages(missing), strict=True):
            _VECTORS[text] = vector
    return [_VECTORS[t] for t in texts]


def add_deliberation(
    authority,
    objet: str,
    code: str = "",
    *,
    embed: bool = True,
    published: bool = False,
    delib_id: str = "",
    suggestions=None,
    **fields,
) -> Deliberation:
    """A deliberation of `authority`, with its embedding already computed unless embed=False."""
    vector = vectors_for([embedding_text_for(objet)])[0] if embed else None
    with tenant_context(authority.pk):
        return Deliberation.objects.create(
            authority=authority,
            coll_nom=authority.name,
            coll_siret="21350238800019",
            delib_id=delib_id or uuid.uuid4().hex[:12],
            delib_date=fields.pop("delib_date", datetime.date(2023, 5, 15)),
            objet=objet,
            matiere_code=code,
            matiere_nom=nomenclature.label_path(code) if code else "",
            published=published,
            embedding=vector,
            embedding_model=get_embedder().model_id if embed else "",
            matiere_suggestions=suggestions or [],
            **fields,
        )


def add_rows(authority, rows: list[dict], **fields) -> list[Deliberation]:
    vectors_for([embedding_text_for(r["objet"]) for r in rows])  # one batch
    return [add_deliberation(authority, r["objet"], r["code"], delib_id=r["delib_id"], **fields) for r in rows]


def level2_codes(suggestions: list[dict]) -> list[str]:
    return [s["code"] for s in suggestions if s["level"] == 2]


def level1_codes(suggestions: list[dict]) -> list[str]:
    return [s["code"] for s in suggestions if s["level"] == 1]


def suggestion(code: str, score: float, level: int = 2) -> dict:
    """A stored suggestion as the classifier writes it, for page tests that need no embedding."""
    return {"code": code, "label": nomenclature.get(code).label, "level": level, "score": score, "source": "classifier"}


def rows_fixture(train_size: int, test_size: int):
    """A module-scoped fixture giving (training, held_out) rows: resolving labels reads the nomenclature
    in the test database."""

    @pytest.fixture(scope="module")
    def rows(django_db_setup, django_db_blocker):
        with django_db_blocker.unblock():
            return split_rows(train_size, test_size)

    return rows
