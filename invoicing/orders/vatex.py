"""The CEF VATEX code list (exemption reason codes, BT-121) as EN 16931 1.3.16 checks it (BR-CL-22),
and which codes go with which VAT category (Peppol's P0104-P0109 rules)."""

# Codes that name one category each; every other code is an exemption (category E).
FOR_CATEGORY: dict[str, frozenset[str]] = {
    "AE": frozenset({"VATEX-EU-AE", "VATEX-FR-AE"}),
    "K": frozenset({"VATEX-EU-IC"}),
    "G": frozenset({"VATEX-EU-G"}),
    "O": frozenset({"VATEX-EU-O"}),
}
_EU_ARTICLES = (
    "79-C 132 132-1A 132-1B 132-1C 132-1D 132-1E 132-1F 132-1G 132-1H 132-1I 132-1J 132-1K "
    "132-1L 132-1M 132-1N 132-1O 132-1P 132-1Q 135-1 143 143-1A 143-1B 143-1C 143-1D 143-1E "
    "143-1F 143-1FA 143-1G 143-1H 143-1I 143-1J 143-1K 143-1L 144 146-1E 148 148-A 148-B 148-C "
    "148-D 148-E 148-F 148-G 151 151-1A 151-1AA 151-1B 151-1C 151-1D 151-1E 153 159 309 D F I J"
)
_FR = (
    "FRANCHISE CNWVAT CGI261-1 CGI261-2 CGI261-3 CGI261-4 CGI261-5 CGI261-7 CGI261-8 CGI261A "
    "CGI261B CGI261C-1 CGI261C-2 CGI261C-3 CGI261D-1 CGI261D-1BIS CGI261D-2 CGI261D-3 "
    "CGI261D-4 CGI261E-1 CGI261E-2 CGI277A CGI275 298SEXDECIESA CGI295"
)
EXEMPTIONS: frozenset[str] = frozenset(
    [f"VATEX-EU-{code}" for code in _EU_ARTICLES.split()]
    + [f"VATEX-FR-{code}" for code in _FR.split()]
)
CODES: frozenset[str] = EXEMPTIONS.union(*FOR_CATEGORY.values())


def problem(code: str, category: str) -> str | None:
    """Why `code` cannot be the exemption reason code of a `category` line, or None."""
    if code not in CODES:
        return "must be a code of the CEF VATEX list, such as VATEX-EU-AE"
    allowed = FOR_CATEGORY.get(category, EXEMPTIONS)
    if code not in allowed:
        return f"{code} is not a VATEX code for category {category}"
    return None
