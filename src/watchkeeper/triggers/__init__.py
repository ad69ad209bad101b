"""Triggers: events → actions; guards on prediction batches; (later) gates.

Dependencies point down: triggers read the store and call the engine layer for
``sql`` actions; nothing below imports this package.
"""

from ._base import Action, ActionContext, PermanentFailure, Retry
from .actions import (Block, PythonAction, QuarantinePartition, QuarantineSink, Retrain, RunQueue,
                      SqlAction)
from .announce import (announce_profiled, announce_slo_failed, profiled_events,
                       slo_failed_events)
from .dispatch import (ActionResult, Dispatcher, FireResult, dispatcher, fire, fire_many,
                       idempotency_key, retry_pending)
from .events import EVENT_TYPES, SEVERITIES, Event, event
from .guard import BatchRejected, Guard, flush_guard_log, guard
from .guard_rules import Clip, Drop, Flag, Predicate, RejectBatch, Replace
from .spec import Condition, Trigger, dump_triggers, load_triggers, parse_triggers, trigger
from .webhook import SIGNATURE_HEADER, Webhook, sign, slack_escape

__all__ = [
    "Action", "ActionContext", "ActionResult", "BatchRejected", "Block", "Clip", "Condition",
    "Dispatcher", "Drop", "EVENT_TYPES", "Event", "FireResult", "Flag", "Guard",
    "PermanentFailure", "Predicate", "PythonAction", "QuarantinePartition", "QuarantineSink",
    "RejectBatch", "Replace", "Retrain", "Retry", "RunQueue", "SEVERITIES", "SIGNATURE_HEADER",
    "SqlAction", "Trigger", "Webhook", "announce_profiled", "announce_slo_failed", "dispatcher",
    "dump_triggers", "event", "fire", "fire_many", "flush_guard_log", "guard", "idempotency_key",
    "load_triggers", "parse_triggers", "profiled_events", "retry_pending", "sign",
    "slack_escape", "slo_failed_events", "trigger",
]
