"""What the local cloud does not keep: moto's record of every model instance it ever made.

moto appends every model it creates (each SQS message, Step Functions execution, schedule, SNS
message...) to a per-class list, ``instances_tracked``, for its server's dashboard, and never lets go:
the objects stay alive after the backend deleted them. The local cloud has no dashboard, and a run of
100,000 workflows makes millions of them. While a local cloud runs, those lists keep nothing more;
what a backend holds, it still holds (AWS's state is the backends', not these lists').
"""

from __future__ import annotations

from typing import Any

from moto.core.model_instances import model_data


class _Untracked(list[Any]):
    """The instances made before the cloud started; later ones are not added."""

    def append(self, instance: Any) -> None:
        return None


def stop_instance_tracking() -> list[tuple[Any, str, Any]]:
    """Replace each moto model's ``instances_tracked`` with one that keeps no new instance; returns
    (model, "instances_tracked", the original list) for each, to put back when the cloud stops."""
    saved = []
    for models in model_data.values():
        for model in models.values():
            original = getattr(model, "instances_tracked", None)
            if isinstance(original, list) and not isinstance(original, _Untracked):
                saved.append((model, "instances_tracked", original))
                model.instances_tracked = _Untracked(original)  # type: ignore[attr-defined]
    return saved
