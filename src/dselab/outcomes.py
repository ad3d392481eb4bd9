"""The values a check's outcome and a node's state can take, as enums (their values are what the
store, the JSON API and the pages carry: `CheckStatus.PASS == "pass"`)."""

from __future__ import annotations

from enum import StrEnum


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"


class NodeState(StrEnum):
    """A node as the ring sees it (nodetool status's two letters), or as its process says when the
    ring cannot be asked."""

    UP_NORMAL = "UN"
    UP_JOINING = "UJ"
    UP_LEAVING = "UL"
    UP_MOVING = "UM"
    DOWN_NORMAL = "DN"
    DOWN_JOINING = "DJ"
    DOWN_LEAVING = "DL"
    DOWN_MOVING = "DM"
    RUNNING = "running"  # its process runs; the ring was not asked (or could not answer)
    STOPPED = "down"  # no process
    UNKNOWN = "?"  # the seat's status could not be read

    @property
    def serving(self) -> bool:
        """Up and normal in the ring: what a lab's commands need."""
        return self is NodeState.UP_NORMAL

    @classmethod
    def parse(cls, value: str) -> NodeState:
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN
