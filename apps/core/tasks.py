"""Platform diagnostic as a job: what /readyz checks, run by a worker, with progress."""

from apps.jobs.errors import JobError
from apps.jobs.runner import JobRun, job_task

from .readiness import CHECKS, ERROR, _timed

CHECK_LABELS = {
    "database": "base de données",
    "broker": "file de messages (Redis)",
    "inference": "serveur d'inférence",
    "embeddings": "serveur de plongements (embeddings)",
}


@job_task("platform.diagnostic", "Diagnostic de la plateforme")
def run_diagnostic(run: JobRun) -> dict:
    results = {}
    for index, (name, check) in enumerate(CHECKS.items(), start=1):
        run.progress(int(100 * (index - 1) / len(CHECKS)), f"Vérification : {CHECK_LABELS[name]}…")
        results[name] = _timed(check)
    failed = [CHECK_LABELS[name] for name, result in results.items() if result["status"] == ERROR]
    if failed:
        raise JobError("Injoignable ou en erreur : " + ", ".join(failed) + ".", detail=str(results))
    return {"checks": results, "message": "Tous les services répondent."}
