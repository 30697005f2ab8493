"""The French report of an SCDL import, built while the file streams by: counts, and every problem per
row and column (the first MAX_REPORTED_ISSUES of them, errors first, with totals for all)."""

from ..scdl.validation import Issue

MAX_REPORTED_ISSUES = 5000
MAX_VALUE_CHARS = 200


class ReportBuilder:
    """Counts rows and issues while the file streams by. Keeps at most MAX_REPORTED_ISSUES issues (errors
    before warnings) plus totals per column and problem, so a 150,000-row file with an error on every row
    still gives a report a person can read."""

    def __init__(self, *, siren: str = ""):
        self.siren = siren
        self.row_label = "Ligne"
        self.source = None
        self.rows = self.valid = self.error_rows = self.warning_count = self.error_count = 0
        self.errors: list[dict] = []
        self.warnings: list[dict] = []
        self.totals: dict[tuple, dict] = {}
        self.with_urls = False  # a valid row has a DELIB_URL: the acts' PDFs are to be fetched

    def add(self, checked) -> bool:
        """Record a checked row; True when it is to be imported."""
        self.rows += 1
        issues = list(checked.issues)
        siret = str(checked.values.get("coll_siret") or "")
        if self.siren and checked.valid and siret and not siret.startswith(self.siren):
            issues.append(
                Issue(
                    row=checked.row,
                    column="COLL_SIRET",
                    code="other-authority",
                    value=siret,
                    severity="warning",
                    message=f"{self.row_label} {checked.row}, COLL_SIRET : ce SIRET n'est pas celui de "
                    f"la collectivité (SIREN {self.siren}) ; vérifiez que le fichier est le bon.",
                )
            )
        has_error = False
        for issue in issues:
            has_error |= issue.severity == "error"
            self._count(issue)
        if has_error:
            self.error_rows += 1
            return False
        self.valid += 1
        return True

    def _count(self, issue) -> None:
        is_error = issue.severity == "error"
        if is_error:
            self.error_count += 1
        else:
            self.warning_count += 1
        kept = self.errors if is_error else self.warnings
        if len(kept) < MAX_REPORTED_ISSUES:
            kept.append(
                {
                    "row": issue.row,
                    "column": issue.column,
                    "code": issue.code,
                    "message": issue.message,
                    "value": str(issue.value or "")[:MAX_VALUE_CHARS],
                    "severity": issue.severity,
                }
            )
        key = (issue.column, issue.code, issue.severity)
        total = self.totals.setdefault(
            key,
            {
                "column": issue.column,
                "code": issue.code,
                "severity": issue.severity,
                "message": issue.message,
                "count": 0,
            },
        )
        total["count"] += 1

    def report(self, *, strict: bool, publish: bool) -> dict:
        issues = (self.errors + self.warnings)[:MAX_REPORTED_ISSUES]
        source = self.source
        totals = sorted(self.totals.values(), key=lambda t: (t["severity"] != "error", -t["count"], t["column"]))
        return {
            "format": getattr(source, "format", ""),
            "encoding": getattr(source, "encoding", ""),
            "delimiter": getattr(source, "delimiter", ""),
            "columns": list(getattr(source, "columns", [])),
            "notices": list(getattr(source, "notices", [])),
            "rows": self.rows,
            "valid": self.valid,
            "invalid": self.error_rows,
            "errors": self.error_count,
            "warnings": self.warning_count,
            "strict": strict,
            "publish": publish,
            "issues": issues,
            "issues_truncated": self.error_count + self.warning_count > len(issues),
            "issue_totals": totals,
        }
