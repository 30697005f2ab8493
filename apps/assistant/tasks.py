from apps.jobs.runner import job_task

from .running import run_generation

GENERATE_JOB = "assistant.generate"

generate = job_task(GENERATE_JOB, "Génération par l'assistant")(run_generation)
