"""Problem and flag codes: one code, one meaning, its severity and what to do.

Every :class:`~xlplan.core.errors.Problem` (and every flag of an indicator row)
carries a :class:`Code`.  The code's value is the stable string that the JSON
reports and the Kontroll sheet show (``rad_saknas``); its severity, a short
Swedish label and the fix (*Åtgärd*) are defined here once, and
``docs/problem-codes.md`` is generated from this table
(``python -m xlplan.core.codes > docs/problem-codes.md``; a test keeps the two equal).

To add a code: add one member below (value, severity, label, fix), keep the
value unique and lower case, and regenerate the document.  A code never
changes meaning; a new meaning gets a new code.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from xlplan.core import words

__all__ = ["Code", "Severity", "SEVERITY_WORDS", "markdown_table"]

Severity = Literal["fel", "varning", "info"]
SEVERITY_WORDS: dict[str, str] = {"fel": "Fel", "varning": "Varning", "info": "Information"}

_REFILL = "Fyll filen på nytt med xlplan fill --update (det som skrivits i filen behålls)."
_PLAN = "Rätta cellen i planens arbetsbok och kör igen."


class Code(str, Enum):
    """A problem or flag code (the value is the stable string in reports)."""

    severity: Severity
    label: str
    fix: str

    def __new__(cls, value: str, severity: Severity, label: str, fix: str) -> Code:
        member = str.__new__(cls, value)
        member._value_ = value
        member.severity = severity
        member.label = label
        member.fix = fix
        return member

    @classmethod
    def of(cls, value: str) -> Code:
        """The code of a value (``'rad_saknas'`` → ``Code.RAD_SAKNAS``); ValueError for an unknown one.

        A value an earlier xlplan wrote for a code since renamed reads as the code it became.
        """
        member = cls._value2member_map_.get(_RENAMED.get(value, value))
        if not isinstance(member, cls):
            raise ValueError(f"unknown problem code {value!r}: add it to xlplan.core.codes.Code")
        return member

    def __hash__(self) -> int:  # as its value, so that 'rad_saknas' and Code.RAD_SAKNAS are one key in a set
        return str.__hash__(self)

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    # ---------------------------------------------------------- indicator rows: status and flags
    MAL_EJ_UPPFYLLT = ("mal_ej_uppfyllt", "varning", "Målet ej uppfyllt",
                       "Beskriv orsaken och åtgärderna i Kommentar och Åtgärder.")
    MAL_DELVIS_UPPFYLLT = ("mal_delvis_uppfyllt", "varning", "Målet delvis uppfyllt",
                           "Beskriv läget och åtgärderna i Kommentar och Åtgärder.")
    MALVARDE_SAKNAS = ("malvarde_saknas", "varning", words.MALVARDE_SAKNAS,
                       "Be nämndens controller lägga in målvärdet för året i planen.")
    UTFALL_SAKNAS = ("utfall_saknas", "varning", words.UTFALL_SAKNAS,
                     "Skriv utfallet i kolumnen Utfall, eller hämta det med Hämta utfall.")
    UTFALL_UPPGIFT_SAKNAS = ("utfall_uppgift_saknas", "varning", "Uppgift saknas",
                             "Avdelningen har skrivit att uppgift saknas (t.ex. – eller i.u.). Skriv utfallet om "
                             "det finns; annars förklara i Kommentar / analys varför. Hindrar inte inlämningen.")
    BEDOMNING_SAKNAS = ("bedomning_saknas", "varning", "Egen bedömning saknas",
                        "Välj Uppfyllt, Delvis uppfyllt eller Ej uppfyllt i kolumnen Egen bedömning.")
    BEDOMNING_OGILTIG = ("bedomning_ogiltig", "varning", "Ogiltig bedömning",
                         "Välj ett ord ur listan i kolumnen Egen bedömning.")
    JAMFORELSEVARDE_SAKNAS = ("jamforelsevarde_saknas", "varning", words.JAMFORELSEVARDE_SAKNAS,
                              "Skriv föregående utfall i kolumnen Jämförelsevärde, be controllern skriva Nuläge "
                              "i planen, eller hämta Koladas värde för året innan med Hämta värden.")
    ANDRA_GRANSEN_PASSERAD = ("andra_gransen_passerad", "varning", "Andra gränsen passerad",
                              "Kommentera varför utfallet passerat målets andra gräns och vad som görs.")
    FEL_RIKTNING = ("fel_riktning", "varning", "Fel riktning",
                    "Kommentera varför utfallet gått åt fel håll jämfört med nuläget.")
    INTE_TAL = ("inte_tal", "fel", "Utfallet är inget tal",
                "Skriv bara talet i Utfall, t.ex. 48,5 (enheten står i kolumnen Enhet).")
    FORMELFEL = ("formelfel", "fel", "Formelfel",
                 "Rätta formeln i cellen eller skriv värdet direkt.")
    FORMEL_RAKNAS_I_EXCEL = ("formel_raknas_i_excel", "varning", "Formeln räknas i Excel",
                             "Öppna filen i Excel, spara den och kör igen (formeln behålls).")
    UTFALL_ENHET = ("utfall_enhet", "fel", "Fel enhet i utfallet",
                    "Skriv utfallet i indikatorns enhet (kolumnen Enhet), utan enhet i cellen.")
    UTFALL_ORIMLIGT = ("utfall_orimligt", "fel", "Orimligt utfall",
                       "Kontrollera värdet; det ligger utanför Min/Max i planen.")
    ANDEL_SOM_BRAK = ("andel_som_brak", "varning", "Andel skriven som bråk",
                      "Skriv andelen i procent (58 i stället för 0,58) om det var menat.")
    UTFALL_OMRAKNAT = ("utfall_omraknat", "info", "Utfallet omräknat",
                       "Inget att göra; kontrollera att omräkningen stämmer.")
    UTFALL_AR = ("utfall_ar", "info", "Utfallets år",
                 "Inget att göra om året är rätt; annars skriv utfallet för rätt år.")
    UTFALL_PROCENTFORMAT = ("utfall_procentformat", "info", "Procentformat",
                            "Inget att göra; cellen visar procent och läses som procent.")
    JAMFORELSEVARDE_TEXT = ("jamforelsevarde_text", "varning", "Jämförelsevärde som text",
                            "Skriv bara talet i Jämförelsevärde.")
    UTFALL_TEXT = ("utfall_text", "info", "Tal skrivet som text",
                   "Inget att göra; skriv gärna talet som tal nästa gång.")
    STATUS_AVVIKER = ("status_avviker", "fel", "Statusformeln avviker",
                      "Statusformeln kan vara överskriven. " + _REFILL)
    STATUS_OMRAKNAD = ("status_omraknad", "varning", "Statusen i filen räknades om",
                       "Inget att göra här: den räknade statusen används. Be avdelningen fylla filen på nytt "
                       "(xlplan fill --update) så att statusformeln visar rätt.")
    PLANRAD_SAKNAS = ("planrad_saknas", "fel", "Rad saknas",
                      "Planen har raden men filen inte: planen har ändrats sedan filen fylldes. " + _REFILL)
    RAD_OKAND = ("rad_okand", "varning", "Rad finns inte i planen",
                 "Raden hör inte till planen längre. " + _REFILL)
    KANNEDOM_INMATAT = ("kannedom_inmatat", "varning", "Inmatat på en rad för kännedom",
                        "Indikatorn rapporteras av någon annan (se Status). Töm cellen och be den som rapporterar "
                        "att skriva in värdet; när filen fylls på nytt flyttas värdet till bladet Anteckningar.")

    SVAR_SAKNAS = ("svar_saknas", "varning", "Svar saknas",
                   "Skriv avdelningens svar i kolumnen Svar på bladet Frågor.")
    PROGNOS_SAKNAS = ("prognos_saknas", "varning", "Helårsprognos saknas",
                      "Skriv helårsprognosen (tkr) för posten på bladet Ekonomi.")
    EKONOMIKOMMENTAR_SAKNAS = ("ekonomikommentar_saknas", "varning", "Kommentar till avvikelsen saknas",
                               "Förklara avvikelsen mot budget i kolumnen Kommentar på bladet Ekonomi.")

    # ---------------------------------------------------------- reading a department workbook
    BLAD_OMDOPT = ("blad_omdopt", "varning", "Bladet har bytt namn",
                   "Byt tillbaka bladets namn; det läses ändå.")
    BLAD_SAKNAS = ("blad_saknas", "fel", "Blad saknas", _REFILL)
    KOLUMN_SAKNAS = ("kolumn_saknas", "fel", "Kolumn saknas", _REFILL)
    KOLUMN_NY_SAKNAS = ("kolumn_ny_saknas", "info", "Ny kolumn saknas",
                        "Kolumnen kom i en senare version av mallen. " + _REFILL)
    KOLUMN_FLYTTAD = ("kolumn_flyttad", "varning", "Kolumnen är flyttad",
                      "Inget att göra; kolumnen läses där den står.")
    RUBRIKRAD_SAKNAS = ("rubrikrad_saknas", "fel", "Rubrikraden saknas", _REFILL)
    RUBRIKRAD_FLYTTAD = ("rubrikrad_flyttad", "varning", "Rubrikraden är flyttad",
                         "Inget att göra; bladet läses ändå.")
    RAD_SAKNAS = ("rad_saknas", "fel", "Rad borttagen",
                  "En rad som filen fylldes med är borttagen. " + _REFILL)
    RAD_UTAN_ID = ("rad_utan_id", "varning", "Rad utan Rad-id",
                   "Flytta det som står på raden till en rad med Rad-id, eller ta bort raden.")
    DUBBLETT = ("dubblett", "fel", "Rad-id finns två gånger",
                "Ta bort den kopierade raden; bara den första läses.")
    RADER_SORTERADE = ("rader_sorterade", "fel", "Raderna är sorterade utan Rad-id",
                       "Ångra sorteringen eller ta en säkerhetskopia; sortera alltid med kolumnen Rad-id.")

    # ---------------------------------------------------------- files and folders
    OLASBAR = ("olasbar", "fel", "Filen kan inte läsas",
               "Öppna filen i Excel och spara den som .xlsx, eller använd en säkerhetskopia.")
    AVVISAD = ("avvisad", "fel", "Filen togs inte med", "Läs meddelandet; rätta filen och kör igen.")
    FILFEL = ("filfel", "fel", "Filen kunde inte läsas eller skrivas",
              "Stäng filen om den är öppen, kontrollera att du får skriva i mappen och kör igen.")
    INTERNT_FEL = ("internt_fel", "fel", "Oväntat fel",
                   "Kör igen; händer det igen, skicka loggfilen till den som förvaltar xlplan.")
    INTE_AVDELNINGSFIL = ("inte_avdelningsfil", "fel", "Ingen avdelningsfil",
                          "Inget att göra om filen inte är en avdelningsfil; annars fyll den på nytt.")
    ANNAN_ARBETSBOK = ("annan_arbetsbok", "info", "Ingen avdelningsfil (hoppades över)",
                       "Inget att göra om filen inte är en avdelningsfil; flytta den annars ur mappen.")
    HOPPADES_OVER = ("hoppades_over", "info", "Filen hoppades över", "Läs meddelandet; rätta filen och kör igen.")
    SAKERHETSKOPIA = ("sakerhetskopia", "info", "Säkerhetskopia", "Inget att göra.")
    UNDERMAPP = ("undermapp", "info", "Undermapp", "Inget att göra; lägg filerna direkt i mappen.")
    TILLFALLIG_FIL = ("tillfallig_fil", "info", "Tillfällig fil", "Inget att göra.")
    LASFIL = ("lasfil", "info", "Låsfil", "Inget att göra; stäng arbetsboken hos den som har den öppen.")
    DOLD_FIL = ("dold_fil", "info", "Dold fil", "Inget att göra.")
    FEL_FORMAT = ("fel_format", "varning", "Fel filformat", "Spara filen som .xlsx (eller .xlsm).")
    INTE_ARBETSBOK = ("inte_arbetsbok", "varning", "Ingen arbetsbok", "Flytta filen ur mappen.")
    INGA_FILER = ("inga_filer", "varning", "Inga avdelningsfiler",
                  "Kontrollera mappen, eller skapa filerna med xlplan fill.")
    FIL_OPPEN = ("fil_oppen", "fel", "Filen är öppen", "Stäng filen i Excel och kör igen.")
    SKRIVFEL = ("skrivfel", "fel", "Filen skrevs inte",
                "Stäng filen om den är öppen, kontrollera att du får skriva i mappen och kör igen.")
    GODKAND = ("godkand", "fel", "Filen är godkänd och låst",
               "Be nämndens controller skicka tillbaka filen om den ska ändras.")

    # ---------------------------------------------------------- which plan, department, period
    ANNAN_PLAN = ("annan_plan", "fel", "Filen hör till en annan plan",
                  "Flytta filen till rätt mapp, eller ange rätt plan.")
    ANNAN_PLANVERSION = ("annan_planversion", "varning", "Annan planversion",
                         "Raderna matchas med sina id och statusen räknas med planens nuvarande målvärden. "
                         + _REFILL)
    ANNAN_PERIOD = ("annan_period", "fel", "Filen gäller en annan period",
                    "Fyll en fil för rätt period med xlplan fill.")
    PERIOD_UTANFOR_PLANEN = ("period_utanfor_planen", "varning", "Perioden finns inte i planen",
                             "Kontrollera perioden, eller lägg till den i planens Rapporteringsperioder.")
    OKAND_AVDELNING = ("okand_avdelning", "fel", "Avdelningen finns inte i planen",
                       "Kontrollera avdelningen i planen; flytta filen ur mappen om avdelningen är borttagen.")
    AVDELNING_BORTTAGEN = ("avdelning_borttagen", "varning", "Avdelningen är borttagen ur planen",
                           "Filen lämnades orörd; flytta den ur mappen när dess värden inte behövs.")
    PLAN = ("plan", "info", "Vilken plan som används", "Inget att göra; kontrollera att det är rätt plan.")

    # ---------------------------------------------------------- consolidation and submission
    INLAMNING_SAKNAS = ("inlamning_saknas", "varning", "Ingen fil från avdelningen",
                        "Be avdelningen lämna in sin fil, och sammanställ igen.")
    INLAMNING_AVVISAD = ("inlamning_avvisad", "varning", "Ingen godkänd fil från avdelningen",
                         "Rätta avdelningens fil (se filens problem) och sammanställ igen.")
    KONFLIKT = ("konflikt", "fel", "Flera olika filer för samma avdelning",
                "Ta bort den fil som inte gäller och sammanställ igen.")
    FIL_KOPIA = ("fil_kopia", "varning", "Exakt kopia av en annan fil",
                 "Inget att göra; kopian räknas en gång. Ta gärna bort den.")
    SKADAD_KOPIA = ("skadad_kopia", "fel", "Skadad fil för avdelningen", "Ta bort den skadade filen ur mappen.")
    INTE_KLAR = ("inte_klar", "info", "Inte markerad som klar",
                 "Be avdelningen trycka Kontrollera och lämna in.")
    STATUS_EJ_REGISTRERAD = ("status_ej_registrerad", "varning", "Inlämningsstatus satt för hand",
                             "Använd knappen Kontrollera och lämna in (eller controllerns Godkänn/Skicka tillbaka).")
    RAD_EJ_I_PLANEN = ("rad_ej_i_planen", "varning", "Raden finns inte i planen",
                       "Raden togs inte med. " + _REFILL)
    OGILTIGT_VAL = ("ogiltigt_val", "fel", "Värdet finns inte i listan", "Välj ett värde ur cellens lista.")
    JAMFORELSER = ("jamforelser", "info", "Jämförelsevärden från Kolada", "Inget att göra.")
    JAMFORELSER_OLASBAR = ("jamforelser_olasbar", "varning", "Jämförelsefilen kan inte läsas",
                           "Kör xlplan pull för avdelningsfilerna i mappen igen.")
    JAMFORELSER_ANNAN_PLAN = ("jamforelser_annan_plan", "varning", "Jämförelsefilen hör till en annan plan",
                              "Kör xlplan pull för avdelningsfilerna i mappen igen.")

    # ---------------------------------------------------------- pull: Kolada and local exports
    KOLADA_OTILLGANGLIG = ("kolada_otillganglig", "varning", "Kolada kunde inte nås",
                           "Försök igen senare; värden ur lokala exporter fylldes ändå.")
    KOLADA_VARNING = ("kolada_varning", "varning", "Varning från Kolada", "Läs meddelandet.")
    GRUPP_OKAND = ("grupp_okand", "varning", "Jämförelsegruppen hittas inte",
                   "Rätta inställningen Liknande kommuner i planen.")
    PULL_FYLL = ("pull_fyll", "info", "Utfall hämtat", "Inget att göra.")
    PULL_UPPDATERA = ("pull_uppdatera", "info", "Hämtat utfall uppdaterat", "Inget att göra.")
    PULL_BEHALL_INSKRIVET = ("pull_behåll_inskrivet", "varning", "Inskrivet utfall behölls",
                             "Kontrollera vilket värde som är rätt; det inskrivna skrivs aldrig över.")
    PULL_BEHALL_HAMTAT = ("pull_behåll_hämtat", "varning", "Ändrat hämtat utfall behölls",
                          "Kontrollera vilket värde som är rätt.")
    PULL_SAKNAS = ("pull_saknas", "info", "Inget utfall att hämta", "Skriv utfallet för hand om det finns.")
    PULL_JAMFORELSEVARDE = ("pull_jämförelsevärde", "info", "Jämförelsevärde hämtat", "Inget att göra.")
    HAMTKOLUMNER_SAKNAS = ("hamtkolumner_saknas", "fel", "Kolumnerna för hämtade värden saknas", _REFILL)
    FIL_SAKNAS = ("fil_saknas", "varning", "Ingen exportfil hittades",
                  "Lägg exporten i mappen, eller rätta mönstret på bladet Filkällor.")
    FIL_OLASLIG = ("fil_olaslig", "varning", "Exporten kan inte läsas", "Spara exporten som .xlsx eller .csv igen.")
    EXPORT_KOLUMN_SAKNAS = ("export_kolumn_saknas", "varning", "Kolumn saknas i exporten",
                            "Rätta kolumnens namn på bladet Filkällor, eller exportera med den kolumnen.")
    EXPORT_RAD_SAKNAS = ("export_rad_saknas", "varning", "Ingen rad i exporten",
                         "Kontrollera nyckelvärdena på bladet Filkällor och exporten.")
    EXPORT_INTE_TAL = ("export_inte_tal", "varning", "Värdet i exporten är inget tal",
                       "Rätta värdet i exporten, eller skriv utfallet för hand.")
    FLERA_RADER = ("flera_rader", "varning", "Flera rader i exporten",
                   "Ange fler nyckelkolumner på bladet Filkällor.")
    VARDE_SAKNAS = ("varde_saknas", "info", "Värde saknas i exporten", "Skriv utfallet för hand om det finns.")

    # ---------------------------------------------------------- economy: the ledger export and the frame
    HUVUDBOK_SAKNAS = ("huvudbok_saknas", "info", "Ingen huvudboksexport",
                       "Lägg periodens huvudboksexport i mappen, eller rätta 'Huvudbok fil' i planens Inställningar.")
    HUVUDBOK_OLASLIG = ("huvudbok_olaslig", "varning", "Huvudboksexporten kan inte läsas",
                        "Exportera huvudboken igen (CSV eller XLSX) och rätta raden och kolumnen som nämns.")
    HUVUDBOK_OMAPPAD = ("huvudbok_omappad", "varning", "Rader i huvudboken hör inte till planen",
                        "Lägg koden på bladet Avdelningar (Ansvar) eller kontot på bladet Kontoplan i planen.")
    EKONOMIKOLUMNER_SAKNAS = ("ekonomikolumner_saknas", "varning", "Kolumnerna för hämtad ekonomi saknas", _REFILL)
    BUDGET_EJ_RAM = ("budget_ej_ram", "varning", "Avdelningarnas budget summerar inte till ramen",
                     "Rätta fördelningen på bladet Ekonomi i planen så att den summerar till nämndens ram.")
    UTFALL_EJ_HUVUDBOK = ("utfall_ej_huvudbok", "varning", "Utfallet stämmer inte med huvudboken",
                          "Jämför avdelningarnas Utfall hittills med huvudboksexporten; hämta igen med xlplan pull.")
    UTFALL_HUVUDBOK = ("utfall_huvudbok", "info", "Utfallet stämmer med huvudboken", "Inget att göra.")
    INVESTERING_HUVUDBOK = ("investering_huvudbok", "info", "Investeringsutfallet stämmer med huvudboken", "Inget att göra.")

    # ---------------------------------------------------------- personnel: the HR export
    HR_KOLUMN_SAKNAS = ("hr_kolumn_saknas", "varning", "Kolumn saknas i HR-exporten",
                        "Rätta kolumnnamnen på bladet Personalkällor i planen, eller exportera med de kolumnerna.")
    HR_FIL_SAKNAS = ("hr_fil_saknas", "varning", "Ingen HR-export hittades",
                     "Lägg HR-exporten i mappen, eller rätta mönstret på bladet Personalkällor.")
    HR_OKAND_ENHET = ("hr_okand_enhet", "varning", "Enheten i HR-exporten finns inte i planen",
                      "Skriv koden i kolumnen Ansvar på bladet Avdelningar i planen om den hör till en avdelning.")
    HR_OKANT_MATT = ("hr_okant_matt", "varning", "Måttet i HR-exporten följs inte upp",
                     "Ange måttet i kolumnen HR-mått på bladet Personal i planen om det ska följas upp.")
    HR_PERIOD_SAKNAS = ("hr_period_saknas", "varning", "Perioden saknas i HR-exporten",
                        "Exportera HR-nyckeltalen för periodens sista månad, eller rätta Periodkolumn i Personalkällor.")
    HR_FLERA_RADER = ("hr_flera_rader", "varning", "Flera olika värden i HR-exporten",
                      "Rätta exporten så att varje avdelning och nyckeltal har en rad.")
    PERSONALKOLUMNER_SAKNAS = ("personalkolumner_saknas", "varning", "Kolumnerna för hämtade personalnyckeltal saknas",
                               _REFILL)

    # ---------------------------------------------------------- the plan workbook
    SAKNAS = ("saknas", "fel", "Obligatorisk cell tom", _PLAN)
    PLAN_INTE_TAL = ("plan_inte_tal", "fel", "Inget tal i planen", _PLAN)
    INTE_HELTAL = ("inte_heltal", "fel", "Inget heltal i planen", _PLAN)
    OKAND_INSTALLNING = ("okand_installning", "fel", "Okänd inställning", _PLAN)
    OGILTIGT_ID = ("ogiltigt_id", "fel", "Ogiltigt id", _PLAN)
    OGILTIG_PERIOD = ("ogiltig_period", "fel", "Ogiltig period", _PLAN)
    OGILTIGT_VARDE = ("ogiltigt_varde", "fel", "Ogiltigt värde", _PLAN)
    OGILTIGT_AR = ("ogiltigt_ar", "fel", "Ogiltigt år", _PLAN)
    OGILTIGT_KOLADA_ID = ("ogiltigt_kolada_id", "fel", "Ogiltigt Kolada-id", _PLAN)
    OKAND_SERIE = ("okand_serie", "fel", "Okänd serie", _PLAN)
    KOLADA_SERIER = ("kolada_serier", "fel", "Kolada-id och serier stämmer inte", _PLAN)
    OGILTIG_POLARITET = ("ogiltig_polaritet", "fel", "Ogiltig polaritet", _PLAN)
    KOLADA_KON_OKANT = ("kolada_kon_okant", "fel", "Okänt kön för Kolada", _PLAN)
    OKAND_REFERENS = ("okand_referens", "fel", "Id finns inte", _PLAN)
    PLAN_DUBBLETT = ("plan_dubblett", "fel", "Id eller värde finns två gånger i planen", _PLAN)
    OGILTIGT_TECKEN = ("ogiltigt_tecken", "fel", "Otillåtet tecken", _PLAN)
    FOR_LANGT_NAMN = ("for_langt_namn", "fel", "För långt namn", _PLAN)
    FOR_LANG_TEXT = ("for_lang_text", "fel", "För lång text", _PLAN)
    PLAN_BLAD_SAKNAS = ("plan_blad_saknas", "fel", "Blad saknas i planen",
                        "Lägg till bladet i planens arbetsbok (se docs/plan-format.md).")
    FEL_BLAD = ("fel_blad", "fel", "Bladen har bytt namn med varandra", "Byt tillbaka bladens namn i planen.")
    RUBRIKRAD = ("rubrikrad", "fel", "Rubrikraden står fel", "Flytta rubrikerna till rad 1 på bladet.")
    PLAN_KOLUMN_SAKNAS = ("plan_kolumn_saknas", "fel", "Kolumn saknas i planen",
                          "Lägg till kolumnen på bladet (se docs/plan-format.md).")
    MIN_OVER_MAX = ("min_over_max", "fel", "Min är större än Max", _PLAN)
    TOMT = ("tomt", "fel", "Planen är tom", "Fyll i bladet i planens arbetsbok.")


# Values earlier versions wrote, for codes that were renamed (reports and Kontroll sheets still hold them).
_RENAMED = {"fel_plan": "annan_plan", "inlamning-saknas": "inlamning_saknas", "planversion": "annan_planversion"}


def markdown_table() -> str:
    """``docs/problem-codes.md``: every code with its severity, meaning and fix."""
    lines = [
        "# Problemkoder",
        "",
        "Varje problem och varje flagga som xlplan rapporterar har en kod. Koden står i kolumnen Kod på",
        "bladet Kontroll i nämndens arbetsbok och i JSON-rapporterna (`--json`, `--report`); samma kod",
        "betyder alltid samma sak. Tabellen skapas ur `xlplan.core.codes` med",
        "`python -m xlplan.core.codes > docs/problem-codes.md` (ett test håller dem lika).",
        "",
        "| Kod | Allvar | Betydelse | Åtgärd |",
        "| --- | --- | --- | --- |",
    ]
    for code in Code:
        lines.append(f"| `{code.value}` | {SEVERITY_WORDS[code.severity]} | {code.label} | {code.fix} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
