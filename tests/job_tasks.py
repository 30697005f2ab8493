"""Job kinds used by the test suite only (the worker under test loads them via CELERY_IMPORTS)."""

import time

from apps.jobs.errors import JobError, TransientJobError
from apps.jobs.runner import JobRun, job_task


@job_task("tests.count", "Test : compter")
def count(run: JobRun) -> dict:
    steps = run.params.get("steps", 3)
    for step in range(steps):
        run.progress(int(100 * step / steps), f"Étape {step + 1} sur {steps}")
        time.sleep(run.params.get("pause", 0))
    if run.params.get("fail"):
        raise JobError("Échec voulu par le test.")
    if run.attempt <= run.params.get("transient_failures", 0):
        raise TransientJobError("Le serveur est occupé.", detail=f"attempt {run.attempt}")
    return {"counted": steps, "attempt": run.attempt, "message": f"{steps} étapes comptées."}
