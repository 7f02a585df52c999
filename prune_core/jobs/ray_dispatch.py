"""Run the queue on a Ray cluster: the same jobs, store and dashboard, more machines.

With `PRUNE_RAY_ADDRESS` set (`auto`, `ray://host:port`, or `local` to start a private instance on
this machine), `python -m prune_core worker` — started by the dashboard or by hand — drives a
`RayDispatcher` (`prune_core.jobs.dispatcher`): it claims queued jobs and submits each as a Ray
task, which runs the job in a fresh process of its own (the local backend's job process, so no
TensorFlow state leaks from one job to the next), with `PRUNE_RAY_CPUS_PER_JOB` CPUs (default 1) and
`PRUNE_RAY_GPUS_PER_JOB` GPUs (default 0). Remote workers never open the SQLite store: they report
progress to a mailbox actor and ask it whether to stop; the driver, on the dashboard's machine,
copies progress into the store, passes cancels on, and records each final state. A task returns its
numbers, its pruned model file and any baseline it trained, as bytes through Ray's object store; the
driver writes them under `$PRUNE_HOME` (a baseline is sent along with every later job that needs it,
and jobs needing a baseline that is being trained wait for it: it is trained once for the cluster).

A worker or job process that dies (killed, out of memory, node lost) leaves its job interrupted with
the reason, or queued again once with `PRUNE_RAY_RETRIES=1`. A job asked to stop stops at its next
step boundary, or is force-cancelled after `process.CANCEL_GRACE` seconds. If the driver dies, Ray
ends its tasks and the next dispatcher marks their jobs interrupted. Export jobs (which read a
finished run's model file on this machine) run as local processes. The driver never imports
TensorFlow; the remote tasks do."""

from __future__ import annotations

import os
import time

from prune_core import paths
from prune_core.jobs import process
from prune_core.jobs.ray_task import mailbox_class, run_remote
from prune_core.jobs.store import FINISH_PATIENCE, JobStore
from prune_core.recipe.spec import RunSpec
from prune_core.serving import limits


def address() -> str | None:
    return os.environ.get("PRUNE_RAY_ADDRESS") or None


def _number(name: str, default: float) -> float:
    try:
        return max(0.0, float(os.environ.get(name, default)))
    except ValueError:
        return default


def resources() -> dict:
    return {
        "num_cpus": _number("PRUNE_RAY_CPUS_PER_JOB", 1.0),
        "num_gpus": _number("PRUNE_RAY_GPUS_PER_JOB", 0.0),
    }


def retries() -> int:
    return int(_number("PRUNE_RAY_RETRIES", 0))


def _baseline_prefix(spec: RunSpec) -> str:
    """The start of the cached baseline files' names for this recipe's model and data
    (`engine.baselines.cache_path`, without importing it: it needs TensorFlow)."""
    return f"{paths.slug(spec.baseline.model)}--{paths.slug(spec.baseline.dataset)}--"


# ---- the driver
# ------------------------------------------------------------------------------------
class RayDispatcher:
    """Claims queued jobs and runs them as Ray tasks; records progress, cancels and final states
    (the `Dispatcher` protocol of `prune_core.jobs.dispatcher`)."""

    def __init__(self, store: JobStore, parallel: int | None = None):
        import ray

        self.ray, self.store, self.root = ray, store, store.path.parent
        where = address()
        env = {
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(paths.PROJECT_ROOT), os.environ.get("PYTHONPATH")])
            ),
            "TF_USE_LEGACY_KERAS": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        kwargs = dict(ignore_reinit_error=True, log_to_driver=False, include_dashboard=False)
        if where == "local":  # workers inherit this process's environment: the prestarted ones fit
            os.environ.update(env)
            ray.init(
                address="local",
                num_cpus=int(_number("PRUNE_RAY_LOCAL_CPUS", os.cpu_count() or 2)),
                **kwargs,
            )
        else:  # a cluster's workers started elsewhere: tell them where the project is
            ray.init(address=where, runtime_env={"env_vars": env}, **kwargs)
        self.mailbox = mailbox_class().remote()
        per_job = resources()
        self.task = ray.remote(max_retries=0, **per_job)(run_remote)
        cpus = ray.cluster_resources().get("CPU", 1)
        self.parallel = parallel or max(1, int(cpus // max(per_job["num_cpus"], 1e-9)))
        self.inflight: dict[int, tuple] = {}  # job id → (object ref, spec, started)
        self.local: dict[int, object] = {}  # export jobs: local processes
        self.cancel_seen: dict[int, float] = {}
        self.training: set[str] = set()  # baseline keys a task is training right now
        self.told: set[int] = set()  # the jobs the mailbox tells to stop

    # Which baselines travel with a job.
    def _baseline_files(self, spec: RunSpec) -> dict:
        prefix = _baseline_prefix(spec)
        return {
            p.name: p.read_bytes()
            for p in paths.baselines_dir(self.root).glob(prefix + "*")
            if p.suffix in (".keras", ".json")
        }

    def _must_wait(self, spec: RunSpec, files: dict) -> bool:
        """A job whose baseline another task is training now waits for it (trained once per
        cluster)."""
        return (
            not any(name.endswith(".keras") for name in files)
            and spec.baseline_key() in self.training
        )

    def tick(self) -> int:
        self._copy_progress()
        self._collect()
        process.reap(self.store, self.local, self.cancel_seen)
        self._enforce_cancels()
        self._stop_overdue()
        return self._start()

    def _copy_progress(self) -> None:
        """Progress into the store; baselines trained by running tasks onto disk, releasing the jobs
        that wait for them."""
        messages, trained = self.ray.get(self.mailbox.drain.remote())
        for key, files in trained:
            self._keep_baselines(files)
            self.training.discard(key)
        for job_id, progress in messages:
            if job_id in self.inflight:
                self.store.report(job_id, progress)

    def _keep_baselines(self, files: dict) -> None:
        folder = paths.baselines_dir(self.root)
        for name, content in sorted(files.items(), key=lambda item: item[0].endswith(".keras")):
            # the summary first: a model file found means both are there
            if not (folder / name).exists():
                paths.write_atomically(folder / name, content)

    def _start(self) -> int:
        started = 0
        while len(self.inflight) + len(self.local) < self.parallel:
            job = self.store.claim_next()
            if job is None:
                break
            if job.kind == "export":
                self.local[job.id] = process.spawn(job.id, self.root)
                self.store.set_pid(job.id, self.local[job.id].pid)
                started += 1
                continue
            files = self._baseline_files(job.spec)
            if self._must_wait(job.spec, files):
                self.store.requeue(job.id)
                break
            if not any(name.endswith(".keras") for name in files):
                self.training.add(job.spec.baseline_key())
            self.store.set_pid(job.id, os.getpid())  # alive while this driver is
            ref = self.task.remote(job.id, job.kind, job.spec.to_json(), files, self.mailbox)
            self.inflight[job.id] = (ref, job.spec, time.monotonic())
            process.log_line(
                job.id, self.root, f"submitted to Ray ({address()}) with {resources()}"
            )
            started += 1
        return started

    def _collect(self) -> None:
        refs = {entry[0]: job_id for job_id, entry in self.inflight.items()}
        if not refs:
            return
        ready, _ = self.ray.wait(list(refs), num_returns=len(refs), timeout=0)
        for ref in ready:
            job_id = refs[ref]
            _, spec, _ = self.inflight.pop(job_id)
            self.training.discard(spec.baseline_key())
            self.cancel_seen.pop(job_id, None)
            try:
                out = self.ray.get(ref)
            except self.ray.exceptions.TaskCancelledError:
                self._finish(
                    job_id, "canceled", error="canceled by request (stopped after the grace period)"
                )
                continue
            except Exception as exc:  # noqa: BLE001 - the worker or its node died: say which
                self._lost(job_id, exc)
                continue
            self._keep(job_id, out)

    def _keep(self, job_id: int, out: dict) -> None:
        """Write what the task sent back under this PRUNE_HOME, then record the final state."""
        folder = process.job_dir(job_id, self.root)
        self._keep_baselines(out.get("baselines") or {})
        result = out.get("result")
        if out.get("model") is not None:
            paths.write_atomically(folder / "model.keras", out["model"])
            if result is not None:
                result = {**result, "model_path": str(folder / "model.keras")}
        if out.get("traceback"):
            (folder / "traceback.txt").write_text(out["traceback"])
        if out.get("log"):
            with open(folder / "log.txt", "a") as log:
                log.write(
                    f"---- the job process's output on Ray node {out.get('node')} "
                    f"----\n{out['log']}"
                    f"{'' if out['log'].endswith(chr(10)) else chr(10)}---- end ----\n"
                )
        trained = sorted(name for name in out.get("trained", []) if name.endswith(".keras"))
        process.log_line(
            job_id,
            self.root,
            f"{out['status']} on Ray node {out.get('node')} (pid {out.get('pid')}, "
            f"nice {out.get('nice')})"
            + (f": {out['error']}" if out.get("error") else "")
            + (
                f"; it trained the baseline {', '.join(trained)} (kept for every later job)"
                if trained
                else ""
            ),
        )
        if out["status"] == "interrupted":  # its job process died on the node: as a lost worker
            self._interrupted(job_id, f"on Ray node {out.get('node')}, {out.get('error')}")
        else:
            self._finish(job_id, out["status"], result=result, error=out.get("error"))

    def _lost(self, job_id: int, exc: Exception) -> None:
        kind = type(exc).__name__
        self._interrupted(
            job_id,
            {
                "WorkerCrashedError": "the Ray worker running it died (killed, or out of memory?)",
                "NodeDiedError": "the Ray node running it was lost",
                "OutOfMemoryError": "Ray stopped it: its node ran out of memory",
            }.get(kind, f"Ray: {kind}: {str(exc)[:300]}"),
        )

    def _interrupted(self, job_id: int, reason: str) -> None:
        """Record the job interrupted with the reason, and queue it again if retries are
        configured."""
        self._finish(job_id, "interrupted", error=reason)
        process.log_line(job_id, self.root, f"interrupted: {reason}")
        job = self.store.get(job_id)
        tries = sum(1 for _ in self._ancestors(job))
        if job is not None and tries < retries():
            new = self.store.retry(job_id)
            process.log_line(
                job_id, self.root, f"queued again as job {new} (PRUNE_RAY_RETRIES={retries()})"
            )

    def _ancestors(self, job):
        """The earlier tries of this job (jobs whose retry led to it)."""
        seen = job
        while seen is not None:
            earlier = self.store.retried_from(seen.id)
            if earlier is None:
                return
            yield earlier
            seen = earlier

    def _finish(self, job_id: int, status: str, **kwargs) -> None:
        self.store.finish(job_id, status, patience=FINISH_PATIENCE, **kwargs)

    def _enforce_cancels(self) -> None:
        wanted = {job_id for job_id in self.inflight if self.store.cancel_requested(job_id)}
        if wanted != self.told:
            self.mailbox.set_cancel.remote(sorted(wanted))
            self.told = wanted
        for job_id in wanted:
            first = self.cancel_seen.setdefault(job_id, time.monotonic())
            if time.monotonic() - first >= process.CANCEL_GRACE:
                self.ray.cancel(self.inflight[job_id][0], force=True)

    def _stop_overdue(self) -> None:
        limit = limits.job_timeout()
        if not limit:
            return
        for job_id, (ref, _, started) in list(self.inflight.items()):
            if time.monotonic() - started > limit:
                self.ray.cancel(ref, force=True)
                self.inflight.pop(job_id)
                self._finish(job_id, "interrupted", error=limits.timeout_reason(limit))

    def wait(self, seconds: float) -> None:
        """Sleep until a task finishes or `seconds` pass (a finished job is recorded at once)."""
        refs = [entry[0] for entry in self.inflight.values()]
        if refs:
            self.ray.wait(refs, num_returns=1, timeout=seconds)
        else:
            time.sleep(seconds)

    def busy(self) -> bool:
        return bool(self.inflight or self.local)

    def close(self) -> None:
        self.ray.shutdown()
