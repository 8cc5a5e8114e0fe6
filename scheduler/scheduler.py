"""The scheduling loop: one pod at a time, read top to bottom as the algorithm it is.

    schedule_one:
      pop the next pod → pick its profile → skip it if deleted or already assumed
      scheduling cycle (synchronous, one pod at a time):
        snapshot the cache → filter → score → select a node
          (no node fits → PostFilter: preemption may nominate a node)
        assume the pod on the node in the cache → Reserve → Permit
      binding cycle (a background task, so the next pod does not wait for the API):
        wait for Permit → PreBind → Bind (POST pods/binding) → "Scheduled" event
      on failure: record FailedScheduling, set PodScheduled=False, requeue the pod
        (a failed bind also forgets the assumed pod and unreserves)

Every attempt leaves a decision record; a successful one sends its summary along with
the Binding as the ``scheduler.kubesim.io/decision`` annotation.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from kube.client.clock import Clock, RealClock
from kube.errors import StatusError
from scheduler.algorithm import Algorithm, NoNodesAvailable, ScheduleResult, SchedulingError
from scheduler.apicalls import ApiCalls
from scheduler.explain import DECISION_ANNOTATION, DecisionRecord, DecisionStore, summarize
from scheduler.explain import record as rec
from scheduler.framework.cycle_state import CycleState
from scheduler.framework.diagnosis import Diagnosis, FitError
from scheduler.framework.events import ASSIGNED_POD_DELETE
from scheduler.framework.podinfo import PodInfo, QueuedPodInfo
from scheduler.framework.runtime import Framework
from scheduler.framework.status import Code, Status
from scheduler.internal.cache import Cache, CacheError
from scheduler.internal.queue import SchedulingQueue
from scheduler.internal.snapshot import Snapshot
from scheduler.metrics import ERROR, SCHEDULED, UNSCHEDULABLE, Metrics, attempts_label
from scheduler.plugins.defaultbinder import ANNOTATIONS_KEY
from scheduler.recorder import EventRecorder

log = logging.getLogger(__name__)
CACHE_CLEANUP_PERIOD = 1.0


@dataclass(slots=True)
class Failure:
    status: Status
    fit: FitError | None = None
    nominated_node: str | None = None
    """After PostFilter: the node to nominate ("" clears a nomination; None leaves it)."""

    def message(self) -> str:
        return self.fit.message() if self.fit is not None else self.status.message()


class Scheduler:
    def __init__(
        self,
        *,
        profiles: dict[str, Framework],
        queue: SchedulingQueue,
        cache: Cache,
        snapshot: Snapshot,
        algorithm: Algorithm,
        api: ApiCalls | None,
        recorder: EventRecorder | None,
        pods: Any,
        metrics: Metrics | None = None,
        decisions: DecisionStore | None = None,
        clock: Clock | None = None,
        annotate: bool = True,
    ) -> None:
        self.profiles = profiles
        self.queue = queue
        self.cache = cache
        self.snapshot = snapshot
        self.algorithm = algorithm
        self.api = api
        self.recorder = recorder
        self.pods = pods
        """The pod informer's store: the latest state of every pod."""
        self.metrics = metrics or Metrics()
        self.decisions = decisions if decisions is not None else DecisionStore()
        self.clock: Clock = clock or RealClock()
        self.annotate = annotate
        self._tasks: set[asyncio.Task[Any]] = set()
        self.scheduled = 0

    # --- the loop -------------------------------------------------------------------------

    async def run(self) -> None:
        """Schedule until cancelled."""
        background = [
            asyncio.ensure_future(self.queue.run()),
            asyncio.ensure_future(self._cleanup_assumed_pods()),
        ]
        try:
            while True:
                try:
                    if not await self.schedule_one():
                        break
                except Exception:  # never let one pod stop the scheduler
                    log.exception("scheduling cycle failed")
                # Let informer events and binding tasks run between pods.
                await asyncio.sleep(0)
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)

    async def _cleanup_assumed_pods(self) -> None:
        while True:
            await self.clock.sleep(CACHE_CLEANUP_PERIOD)
            self.cache.cleanup_assumed_pods()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for in-flight bindings and failure handling (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def schedule_one(self) -> bool:
        qpi = await self.queue.pop()
        if qpi is None:
            return False
        cycle = self.queue.scheduling_cycle
        pod = qpi.pod_info
        fwk = self.profiles.get(pod.scheduler_name)
        if fwk is None or self.skip_pod_schedule(fwk, pod):
            self.queue.done(qpi.key)
            return True
        start = self.clock.now()
        state = CycleState()
        record = DecisionRecord(pod=pod.key, uid=pod.uid, profile=fwk.profile_name, attempt=qpi.attempts)
        outcome = await self.scheduling_cycle(state, fwk, qpi, record)
        record.duration = self.clock.now() - start
        if isinstance(outcome, Failure):
            self.decisions.add(record)
            self.handle_failure(fwk, qpi, outcome, start=start, cycle=cycle, record=record)
            return True
        result, assumed, permit = outcome
        record.result, record.node = rec.SCHEDULED, result.suggested_host
        self.decisions.add(record)
        if self.annotate:
            state.write(ANNOTATIONS_KEY, {DECISION_ANNOTATION: summarize(record)})
        self.metrics.attempt(result=SCHEDULED, profile=fwk.profile_name, seconds=record.duration)
        self._spawn(self.binding_cycle(state, fwk, result, qpi, assumed, permit, start=start, cycle=cycle))
        return True

    def skip_pod_schedule(self, fwk: Framework, pod: PodInfo) -> bool:
        if pod.deleting:
            self._event(fwk, pod.pod, "Warning", "FailedScheduling", f"skip schedule deleting pod: {pod.key}")
            return True
        # Re-queued by an update while its previous attempt was still binding.
        return self.cache.is_assumed(pod.uid)

    # --- the scheduling cycle -------------------------------------------------------------

    async def scheduling_cycle(
        self, state: CycleState, fwk: Framework, qpi: QueuedPodInfo, record: DecisionRecord
    ) -> tuple[ScheduleResult, PodInfo, Status | None] | Failure:
        pod = qpi.pod_info
        self.cache.update_snapshot(self.snapshot)
        try:
            result = self.algorithm.schedule_pod(fwk, state, pod, self.snapshot, record)
        except NoNodesAvailable as err:
            return self._failed(record, Failure(Status.unresolvable(str(err)), nominated_node=""))
        except SchedulingError as err:
            return self._failed(record, Failure(err.status, nominated_node=""))
        except FitError as fit:
            return self._failed(record, await self._post_filter(state, fwk, pod, fit, record))
        except Exception as err:  # a plugin bug fails this pod (retried with backoff), not the scheduler
            log.exception("scheduling %s failed", pod.key)
            return self._failed(record, Failure(Status.as_error(err), nominated_node=""))

        assumed = pod.with_node(result.suggested_host)
        try:
            self.cache.assume_pod(assumed)
        except CacheError as err:
            return self._failed(record, Failure(Status.as_error(err), nominated_node=""))
        self.queue.nominator.delete(pod)

        status = fwk.run_reserve(state, assumed, result.suggested_host)
        if status is not None:
            return self._failed(record, self._undo(state, fwk, assumed, status, result.suggested_host))
        permit = fwk.run_permit(state, assumed, result.suggested_host)
        if permit is not None and permit.code is not Code.WAIT:
            return self._failed(record, self._undo(state, fwk, assumed, permit, result.suggested_host))
        return result, assumed, permit

    async def _post_filter(
        self, state: CycleState, fwk: Framework, pod: PodInfo, fit: FitError, record: DecisionRecord
    ) -> Failure:
        if not fwk.has_post_filter_plugins():
            return Failure(Status.unschedulable(fit.message()), fit, "")
        try:
            result, status = await fwk.run_post_filter(state, pod, fit.diagnosis.node_to_status)
        except StatusError as err:
            result, status = None, Status.as_error(err)
        fit.diagnosis.post_filter_msg = status.message()
        record.post_filter_message = status.message()
        if status.code is Code.ERROR:
            log.error("PostFilter for %s failed: %s", pod.key, status.message())
        nominated = result.nominated_node_name if result is not None else None
        if result is not None:
            record.nominated_node = result.nominated_node_name
            record.victims = list(result.victims)
            if result.victims:
                self.metrics.preemption_attempts.inc()
                self.metrics.preemption_victims.observe(len(result.victims))
        return Failure(Status.unschedulable(fit.message()), fit, nominated)

    def _undo(
        self, state: CycleState, fwk: Framework, assumed: PodInfo, status: Status, node: str
    ) -> Failure:
        """Reserve or Permit said no: release the reservation and the assumed pod."""
        fwk.run_unreserve(state, assumed, node)
        self.cache.forget_pod(assumed)
        if status.is_rejected():
            diagnosis = Diagnosis()
            diagnosis.node_to_status.set(node, status)
            diagnosis.add_plugin_status(status)
            return Failure(status, FitError(pod_key=assumed.key, num_all_nodes=1, diagnosis=diagnosis), "")
        return Failure(status, nominated_node="")

    @staticmethod
    def _failed(record: DecisionRecord, failure: Failure) -> Failure:
        record.result = rec.UNSCHEDULABLE if failure.status.is_rejected() else rec.ERROR
        record.message = failure.message()
        return failure

    # --- the binding cycle ----------------------------------------------------------------

    async def binding_cycle(
        self,
        state: CycleState,
        fwk: Framework,
        result: ScheduleResult,
        qpi: QueuedPodInfo,
        assumed: PodInfo,
        permit: Status | None,
        *,
        start: float,
        cycle: int,
    ) -> None:
        node = result.suggested_host
        status: Status | None = None
        if permit is not None:
            status = await fwk.wait_on_permit(assumed)
        if status is None:
            # Past Permit nothing makes the pod "unschedulable": a failure from here is retried.
            self.queue.done(qpi.key)
            status = await fwk.run_pre_bind(state, assumed, node)
        if status is None:
            try:
                status = await fwk.run_bind(state, assumed, node)
            except Exception as err:  # a transport failure is a failed bind, never a lost pod
                status = Status.as_error(err)
            finally:
                self.cache.finish_binding(assumed)
        if status is not None:
            self.handle_binding_failure(state, fwk, qpi, assumed, node, status, start=start, cycle=cycle)
            return
        self.scheduled += 1
        now = self.clock.now()
        self.metrics.e2e_duration.labels(SCHEDULED, fwk.profile_name).observe(now - start)
        if qpi.initial_attempt_timestamp is not None:
            self.metrics.sli_duration.labels(attempts_label(qpi.attempts)).observe(
                now - qpi.initial_attempt_timestamp
            )
        self._event(
            fwk,
            assumed.pod,
            "Normal",
            "Scheduled",
            f"Successfully assigned {assumed.key} to {node}",
            "Binding",
        )
        fwk.run_post_bind(state, assumed, node)

    def handle_binding_failure(
        self,
        state: CycleState,
        fwk: Framework,
        qpi: QueuedPodInfo,
        assumed: PodInfo,
        node: str,
        status: Status,
        *,
        start: float,
        cycle: int,
    ) -> None:
        fwk.run_unreserve(state, assumed, node)
        try:
            self.cache.forget_pod(assumed)
        except Exception as err:
            log.error("forgetting %s failed: %s", assumed.key, err)
        else:
            # The assumed pod held resources: freeing them is like an assigned pod leaving.
            self.queue.move_all_to_active_or_backoff(
                ASSIGNED_POD_DELETE, assumed.pod, None,
                precheck=(lambda q: q.key != assumed.key) if status.is_rejected() else None,
            )  # fmt: skip
        record = DecisionRecord(
            pod=assumed.key, uid=assumed.uid, profile=fwk.profile_name, attempt=qpi.attempts
        )
        record.node = node
        failure = Failure(status, nominated_node="")
        if status.is_rejected():
            diagnosis = Diagnosis()
            diagnosis.node_to_status.set(node, status)
            diagnosis.add_plugin_status(status)
            failure.fit = FitError(pod_key=assumed.key, num_all_nodes=1, diagnosis=diagnosis)
        self._failed(record, failure)
        self.decisions.add(record)
        self.handle_failure(fwk, qpi, failure, start=start, cycle=cycle, record=record)

    # --- failures -------------------------------------------------------------------------

    def handle_failure(
        self,
        fwk: Framework,
        qpi: QueuedPodInfo,
        failure: Failure,
        *,
        start: float,
        cycle: int,
        record: DecisionRecord,
    ) -> None:
        status = failure.status
        rejected = status.is_rejected()
        result = UNSCHEDULABLE if rejected else ERROR
        self.metrics.attempt(result=result, profile=fwk.profile_name, seconds=self.clock.now() - start)
        pod = qpi.pod_info
        message = failure.message()
        if failure.fit is not None:
            qpi.unschedulable_plugins = set(failure.fit.diagnosis.unschedulable_plugins)
        else:
            qpi.unschedulable_plugins = set()
        if rejected:
            log.info("unable to schedule %s: %s", pod.key, message)
        else:
            log.warning("error scheduling %s (will retry): %s", pod.key, message)

        cached = self.pods.get_by_key(pod.key) if self.pods is not None else pod.pod
        if cached is None or (cached.get("spec") or {}).get("nodeName"):
            self.queue.done(qpi.key)  # deleted, or bound meanwhile: nothing to retry
        else:
            if cached is not pod.pod:
                qpi.pod_info = PodInfo(cached, priority=pod.priority)
            self.queue.add_unschedulable_if_not_present(qpi, cycle=cycle)
        if failure.nominated_node is not None:
            self.queue.nominator.add(qpi.pod_info, failure.nominated_node)

        self._event(fwk, pod.pod, "Warning", "FailedScheduling", message, "Scheduling")
        if self.api is not None and cached is not None:
            reason = "Unschedulable" if rejected else "SchedulerError"
            condition = {"type": "PodScheduled", "status": "False", "reason": reason, "message": message}
            self._spawn(self._write_failure(cached, condition, failure.nominated_node, record))

    async def _write_failure(
        self, pod: dict[str, Any], condition: dict[str, Any], nominated: str | None, record: DecisionRecord
    ) -> None:
        assert self.api is not None
        try:
            await self.api.update_pod_status(pod, condition=condition, nominated_node_name=nominated)
            if self.annotate:
                # A status write cannot carry metadata: the decision costs one more PATCH here.
                await self.api.annotate(pod, {DECISION_ANNOTATION: summarize(record)})
        except StatusError as err:
            log.info("could not update pod %s after a failed attempt: %s", record.pod, err)
        except Exception as err:
            log.warning("could not update pod %s after a failed attempt: %s", record.pod, err)

    def _event(
        self, fwk: Framework, pod: dict[str, Any], type_: str, reason: str, message: str, action: str = ""
    ) -> None:
        if self.recorder is not None:
            self.recorder.event(
                pod, type=type_, reason=reason, message=message, action=action, component=fwk.profile_name
            )
