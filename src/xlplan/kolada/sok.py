"""Finding Kolada KPI ids by title words (``xlplan kolada sok`` and ``plan check``).

Plans often name a Kolada indicator by its title ("Kolada: Brukarbedömning
hemtjänst äldreomsorg – helhetssyn") instead of its id.  This module matches
such words against Kolada's KPI catalogue (:meth:`KoladaClient.kpi_catalogue`,
fetched once and cached)::

    hits = search(catalogue, "hemtjänst helhetssyn")      # pure: list[Hit], best first
    suggestions = suggest_ids(plan, catalogue)             # pure: per titled indicator
    catalogue, note = load_catalogue(base_url=..., cache_dir=...)   # I/O, never raises

Matching (:func:`search`): case-insensitive, Unicode-normalised (NFC, so a
title typed on a Mac matches), every word of the query must match a word of
the title — the whole word, its beginning, or inside it (Swedish compounds:
``omsorg`` finds *äldreomsorg*; only for words of four letters or more; words
of one or two letters only as whole words); a word typed without å/ä/ö (``aldreomsorg``)
matches too, ranked lower.  A KPI id typed as the query finds that KPI.
Ranking: whole words over beginnings over parts, then shorter titles, then id.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlplan.core.model import Indicator, Plan
from xlplan.kolada.models import KpiMeta

KPI_ID_RE = re.compile(r"^[NU]\d{5}$", re.IGNORECASE)
_WORD = re.compile(r"\w+")
# "Kolada: <title>", "Kolada – <title>", "Kolada (<title>)" in a plan's text.
_TITLED = re.compile(r"\bkolada\b\s*[:\-–—(]\s*(?P<title>[^\n()]+)", re.IGNORECASE)
# Scores per query word, best first.
_WHOLE, _START, _INSIDE, _FOLDED_WHOLE, _FOLDED_START, _FOLDED_INSIDE = 6, 5, 3, 2.5, 2, 1
SUGGEST_LIMIT = 3
CHECK_DEADLINE = 10.0  # seconds plan check waits for Kolada's catalogue at most


def normalize(text: str) -> str:
    """NFC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def fold(word: str) -> str:
    """A word without diacritics (``äldreomsorg`` -> ``aldreomsorg``)."""
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def display_title(title: str) -> str:
    """Kolada's title with its runs of spaces collapsed (``LSS  - Brukaren``)."""
    return " ".join(title.split())


@dataclass(frozen=True)
class Hit:
    """One KPI that matched, with its score (higher is better) and how many
    of the query's words matched (all of them unless ``partial``)."""

    kpi: KpiMeta
    score: float
    matched: int
    asked: int

    @property
    def partial(self) -> bool:
        return self.matched < self.asked

    def to_json(self) -> dict[str, Any]:
        k = self.kpi
        return {
            "id": k.id,
            "titel": display_title(k.title),
            "kon": k.is_divided_by_gender,
            "enhetsdata": k.has_ou_data,
            "publiceringsperiod": k.publ_period,
            "publiceras": k.publication_date.isoformat() if k.publication_date else None,
            "preliminart": k.prel_publication_date.isoformat() if k.prel_publication_date else None,
            "traff": round(self.score, 2),
            "alla_ord": not self.partial,
        }


def _word_score(q: str, title_words: Sequence[str], folded_words: Sequence[str]) -> float:
    """How well query word *q* matches the title's best word (0: not at all).  Words of
    one or two letters (``i``, ``av``) match whole words only, words under four
    letters never match inside a word (``tid`` is not found in *väntetid*)."""
    best = 0.0
    fq = fold(q)
    short, inside = len(q) <= 2, len(q) >= 4
    for w, fw in zip(title_words, folded_words):
        if w == q:
            return _WHOLE
        if not short and w.startswith(q):
            best = max(best, _START)
        elif inside and q in w:
            best = max(best, _INSIDE)
        elif fw == fq:
            best = max(best, _FOLDED_WHOLE)
        elif not short and fw.startswith(fq):
            best = max(best, _FOLDED_START)
        elif inside and fq in fw:
            best = max(best, _FOLDED_INSIDE)
    return best


def search(catalogue: Sequence[KpiMeta], text: str, limit: int | None = 20,
           *, min_share: float = 1.0) -> list[Hit]:
    """KPIs whose title matches the words of *text*, best first.

    Every word must match unless *min_share* < 1 (then at least that share of
    the words, as for suggestions from a plan's wording).  A query that is a
    KPI id finds that KPI only.
    """
    query = words(text)
    if not query:
        return []
    if len(query) == 1 and KPI_ID_RE.match(query[0]):
        wanted = query[0].upper()
        return [Hit(k, _WHOLE, 1, 1) for k in catalogue if k.id.upper() == wanted]
    need = max(1, -(-len(query) * min_share // 1))  # ceil
    hits: list[tuple[tuple[int, float, int, str], Hit]] = []
    for kpi in catalogue:
        title_words = words(kpi.title)
        folded = [fold(w) for w in title_words]
        scores = [_word_score(q, title_words, folded) for q in query]
        matched = sum(1 for s in scores if s > 0)
        if matched < need:
            continue
        hit = Hit(kpi, sum(scores), matched, len(query))
        hits.append(((-matched, -hit.score, len(title_words), kpi.id), hit))
    hits.sort(key=lambda pair: pair[0])
    ranked = [h for _, h in hits]
    return ranked if limit is None else ranked[:limit]


def format_hit(hit: Hit) -> list[str]:
    """Two Swedish lines for one hit: id and title, then gender, unit data and publication."""
    k = hit.kpi
    gender = "ja (Totalt, Kvinnor, Män)" if k.is_divided_by_gender else "nej (bara totalt)"
    ou = "ja" if k.has_ou_data else "nej"
    return [f"{k.id}  {display_title(k.title)}",
            f"        Kön: {gender} · Enhetsdata (ou): {ou} · {publication_text(k)}"]


def publication_text(k: KpiMeta) -> str:
    """``Publicering: 2024-10-04 (avser 2024)``; Kolada's dates are the *next* expected ones."""
    period = f" (avser {k.publ_period})" if k.publ_period else ""
    parts = []
    if k.prel_publication_date is not None:
        parts.append(f"preliminärt {k.prel_publication_date.isoformat()}")
    if k.publication_date is not None:
        parts.append(f"{'slutligt ' if parts else ''}{k.publication_date.isoformat()}")
    return f"Publicering: {', '.join(parts) or 'inget datum i Kolada'}{period}"


# -- plan check: indicators named by a Kolada title ------------------------------------------------
def kolada_title(ind: Indicator) -> str | None:
    """The Kolada title an indicator without a Kolada id names, or None.

    Read from *Källa*, *Uppföljning* or the indicator's name: the text after
    ``Kolada:`` (or ``Kolada –``).  A *Källa* that is just ``Kolada`` means the
    indicator's own name is the title.
    """
    if ind.kolada:
        return None
    for text in (ind.source, ind.description, ind.name):
        if text and (m := _TITLED.search(text)):
            title = m.group("title").strip(" \"'”“.")
            if words(title):
                return title
    if ind.source and normalize(ind.source) == "kolada":
        return ind.name
    return None


@dataclass(frozen=True)
class Suggestion:
    indicator: str
    name: str
    title: str
    hits: tuple[Hit, ...]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.indicator, "namn": self.name, "titel": self.title,
                "forslag": [h.to_json() for h in self.hits]}

    def lines(self) -> list[str]:
        head = f"  {self.indicator} {self.name}: Kolada-titeln '{self.title}'"
        if not self.hits:
            return [f"{head} finns inte i Koladas katalog; sök med xlplan kolada sok."]
        unsure = " (inte alla ord stämmer)" if self.hits[0].partial else ""
        out = [f"{head} – föreslagna Kolada-id{unsure}:"]
        for hit in self.hits:
            out.append(f"      {hit.kpi.id}  {display_title(hit.kpi.title)}")
        return out


def titled_indicators(plan: Plan) -> list[tuple[Indicator, str]]:
    return [(ind, title) for ind in plan.indicators if (title := kolada_title(ind)) is not None]


def suggest_ids(plan: Plan, catalogue: Sequence[KpiMeta], limit: int = SUGGEST_LIMIT) -> list[Suggestion]:
    """For each indicator that names a Kolada title but no id, the best-matching KPIs.

    All the title's words first; failing that, KPIs matching two thirds of them
    (plans paraphrase), marked as partial.
    """
    out = []
    for ind, title in titled_indicators(plan):
        hits = search(catalogue, title, limit) or search(catalogue, title, limit, min_share=2 / 3)
        out.append(Suggestion(ind.id, ind.name, title, tuple(hits)))
    return out


def load_catalogue(
    *, base_url: str | None = None, cache_dir: Path | None = None, offline: bool = False,
    refresh: bool = False, deadline: float | None = None, max_retries: int = 3, progress: Any = None,
) -> tuple[list[KpiMeta] | None, list[str]]:
    """The catalogue (cached, else from Kolada) and Swedish notes; ``None`` and a
    note when neither the cache nor Kolada has it.  Never raises for Kolada."""
    from xlplan.core.errors import KoladaUnavailable
    from xlplan.kolada.cache import KoladaCache
    from xlplan.kolada.client import KoladaClient

    cache = KoladaCache(cache_dir) if cache_dir is not None else KoladaCache()
    try:
        with KoladaClient(base_url=base_url, cache=cache, offline=offline, deadline=deadline,
                          max_retries=max_retries, progress=progress) as client:
            catalogue = client.kpi_catalogue(refresh=refresh)
            return catalogue, list(client.warnings)
    except KoladaUnavailable as exc:
        return None, [f"Koladas nyckeltalskatalog kunde inte läsas ur cachen eller hämtas från Kolada: {exc}"]
