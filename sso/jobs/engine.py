"""The job engine inside the web process, for one machine (`make run`): Huey's own consumer,
its scheduler and worker threads started here instead of in a `run_huey` process."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import autodiscover_modules
from huey.consumer import Consumer

logger = logging.getLogger(__name__)


def jobs_start_in_process(*, workers: int | None = None) -> Consumer:
    """Start the consumer's scheduler and worker threads (daemons: they end with the process)
    and return it; `jobs_stop_in_process` stops it. Its signal handlers are not installed: the
    host process (runserver) keeps its own."""
    from huey.contrib.djhuey import HUEY

    autodiscover_modules("tasks")
    consumer = HUEY.create_consumer(
        workers=workers or settings.HUEY["consumer"]["workers"],
        worker_type="thread",
        periodic=True,
        check_worker_health=False,
    )
    consumer.scheduler.start()
    for _, thread in consumer.worker_threads:
        thread.start()
    logger.info("jobs_in_process_started workers=%s queue=%s", consumer.workers, HUEY.name)
    return consumer


def jobs_stop_in_process(*, consumer: Consumer, timeout: float = 10.0) -> None:
    """Ask the threads to stop and wait for them (a running job finishes first)."""
    consumer.stop_flag.set()
    for thread in [consumer.scheduler, *(t for _, t in consumer.worker_threads)]:
        thread.join(timeout)
