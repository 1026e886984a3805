"""The status words users see, defined once: :class:`xlplan.core.status.Status` labels them with these,
and the flag codes that name a status (:mod:`xlplan.core.codes`) use the same words. A module of its own
because ``codes`` sits below ``status`` (``status`` → ``targets`` → ``numbers`` → ``codes``)."""

UPPFYLLT = "Uppfyllt"
DELVIS = "Delvis uppfyllt"
EJ = "Ej uppfyllt"
UTFALL_SAKNAS = "Utfall saknas"
JAMFORELSEVARDE_SAKNAS = "Jämförelsevärde saknas"
MALVARDE_SAKNAS = "Målvärde saknas"
MANUELL = "Bedöms manuellt"
REDOVISAS = "Redovisas"
