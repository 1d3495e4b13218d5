"""An in-process Error Reporting (v1beta1 ErrorGroupService) gRPC server for tests and the demo.

It speaks the real wire protocol, so the real `google-cloud-error-reporting` client drives it
(`bot.errorreporting.make_client(standin.host)`: a plaintext channel, no credentials). It
implements GetGroup and UpdateGroup the way the API documents them:

* group names are `projects/{project}/groups/{group_id}`; anything else is INVALID_ARGUMENT;
* GetGroup of an unknown group is NOT_FOUND (unless `autocreate`: then it is created OPEN, which
  suits the demo, where groups come from generated traffic);
* UpdateGroup replaces the stored group (tracking issues included) and fails with NOT_FOUND if
  the group does not exist (same `autocreate` exception); an unspecified status reads as OPEN.

Every request is recorded (`requests`). It can be told to fail the next N calls with a status
code (`fail_next`), or to be down (`down = True`: every call is UNAVAILABLE); `set_status`
plays a change made in the Error Reporting console."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from google.cloud.errorreporting_v1beta1.types import common, error_group_service

from triage_sandbox.service import LocalService

_ErrorGroup = common.ErrorGroup.pb()
_TrackingIssue = common.TrackingIssue.pb()
_GetGroupRequest = error_group_service.GetGroupRequest.pb()
_UpdateGroupRequest = error_group_service.UpdateGroupRequest.pb()
_Status = common.ResolutionStatus

SERVICE = "google.devtools.clouderrorreporting.v1beta1.ErrorGroupService"
_NAME = re.compile(r"^projects/([^/]+)/groups/([^/]+)$")


@dataclass(frozen=True, slots=True)
class Recorded:
    method: str  # GetGroup | UpdateGroup
    name: str  # the group's resource name as sent
    resolution_status: str | None  # UpdateGroup: the status name sent; GetGroup: None
    code: str  # the answer: "OK" or a gRPC status code name


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class _Backend:
    def __init__(self, autocreate: bool) -> None:
        self.lock = threading.Lock()
        self.autocreate = autocreate
        self.groups: dict[str, Any] = {}  # name -> ErrorGroup (raw protobuf)
        self.requests: list[Recorded] = []
        self.failures: list[tuple[grpc.StatusCode, str | None]] = []  # code, method (None: any)
        self.down = False

    def _fault(self, method: str) -> grpc.StatusCode | None:
        if self.down:
            return grpc.StatusCode.UNAVAILABLE
        for i, (code, only) in enumerate(self.failures):
            if only is None or only == method:
                del self.failures[i]
                return code
        return None

    def _name(self, name: str) -> str:
        if not _NAME.match(name):
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid group name: {name!r}")
        return name

    def _group(self, name: str) -> Any:
        group = self.groups.get(name)
        if group is None:
            if not self.autocreate:
                raise _Abort(grpc.StatusCode.NOT_FOUND, f"Group {name} not found")
            group = self.groups[name] = _new_group(name, "OPEN")
        return group

    def call(self, method: str, name: str, status: str | None, work: Callable[[], Any]) -> Any:
        with self.lock:
            code = self._fault(method)
            try:
                if code is not None:
                    raise _Abort(code, "injected failure" if not self.down else "service down")
                result = work()
            except _Abort as exc:
                self.requests.append(Recorded(method, name, status, exc.code.name))
                raise
            self.requests.append(Recorded(method, name, status, "OK"))
            return result

    def get_group(self, request: Any) -> Any:
        def work() -> Any:
            out = _ErrorGroup()
            out.CopyFrom(self._group(self._name(request.group_name)))
            return out

        return self.call("GetGroup", request.group_name, None, work)

    def update_group(self, request: Any) -> Any:
        group = request.group
        status = _Status(group.resolution_status).name

        def work() -> Any:
            name = self._name(group.name)
            self._group(name)
            stored = _ErrorGroup()
            stored.CopyFrom(group)
            stored.group_id = _NAME.match(name).group(2)  # type: ignore[union-attr]
            if stored.resolution_status == _Status.RESOLUTION_STATUS_UNSPECIFIED:
                stored.resolution_status = _Status.OPEN
            self.groups[name] = stored
            out = _ErrorGroup()
            out.CopyFrom(stored)
            return out

        return self.call("UpdateGroup", group.name, status, work)


def _new_group(name: str, status: str, tracking_issues: tuple[str, ...] = ()) -> Any:
    m = _NAME.match(name)
    if not m:
        raise ValueError(f"not a group name: {name!r}")
    group = _ErrorGroup(
        name=name, group_id=m.group(2), resolution_status=_Status.__members__[status]
    )
    for url in tracking_issues:
        group.tracking_issues.append(_TrackingIssue(url=url))
    return group


def _unary(method: Callable[[Any], Any], request_type: Any) -> grpc.RpcMethodHandler:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(request)
        except _Abort as exc:
            context.abort(exc.code, exc.message)

    return grpc.unary_unary_rpc_method_handler(
        handle,
        request_deserializer=request_type.FromString,
        response_serializer=lambda m: bytes(m.SerializeToString()),
    )


class ErrorReportingStandIn(LocalService):
    """The stand-in server. `start()` returns the "host:port" to point clients at; usable as a
    context manager. Methods it does not implement answer UNIMPLEMENTED."""

    def __init__(self, *, autocreate: bool = False, max_workers: int = 8) -> None:
        self._backend = _Backend(autocreate)
        self._max_workers = max_workers
        self._server: grpc.Server | None = None
        self._host: str | None = None

    # ---- server -----------------------------------------------------------------------------

    @property
    def host(self) -> str:
        if self._host is None:
            raise RuntimeError("the Error Reporting stand-in is not running")
        return self._host

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._host is not None:
            raise RuntimeError(f"the Error Reporting stand-in already runs on {self._host}")
        b = self._backend
        handlers = {
            "GetGroup": _unary(b.get_group, _GetGroupRequest),
            "UpdateGroup": _unary(b.update_group, _UpdateGroupRequest),
        }
        server = grpc.server(
            futures.ThreadPoolExecutor(self._max_workers, thread_name_prefix="er-standin"),
            handlers=[grpc.method_handlers_generic_handler(SERVICE, handlers)],
        )
        bound = server.add_insecure_port(f"{host}:{port}")
        if bound == 0:
            raise OSError(f"the Error Reporting stand-in could not bind {host}:{port}")
        server.start()
        self._server, self._host = server, f"{host}:{bound}"
        return self._host

    def stop(self, grace: float = 0.2) -> None:
        server, self._server, self._host = self._server, None, None
        if server is not None:
            server.stop(grace).wait()

    # ---- groups (the console side) ----------------------------------------------------------

    def add_group(
        self,
        project: str,
        group_id: str,
        status: str = "OPEN",
        tracking_issues: tuple[str, ...] = (),
    ) -> str:
        name = f"projects/{project}/groups/{group_id}"
        with self._backend.lock:
            self._backend.groups[name] = _new_group(name, status, tracking_issues)
        return name

    def set_status(self, project: str, group_id: str, status: str) -> None:
        """A change made in the console (not recorded as a request)."""
        name = f"projects/{project}/groups/{group_id}"
        with self._backend.lock:
            self._backend.groups[name].resolution_status = _Status.__members__[status]

    def status(self, project: str, group_id: str) -> str | None:
        with self._backend.lock:
            group = self._backend.groups.get(f"projects/{project}/groups/{group_id}")
            return None if group is None else _Status(group.resolution_status).name

    def tracking_issues(self, project: str, group_id: str) -> list[str]:
        with self._backend.lock:
            group = self._backend.groups[f"projects/{project}/groups/{group_id}"]
            return [t.url for t in group.tracking_issues]

    # ---- requests and faults ----------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        with self._backend.lock:
            return list(self._backend.requests)

    def clear_requests(self) -> None:
        with self._backend.lock:
            self._backend.requests.clear()

    def fail_next(
        self,
        n: int = 1,
        code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE,
        method: str | None = None,
    ) -> None:
        """Answer the next `n` calls (of `method` only, if given) with `code`."""
        with self._backend.lock:
            self._backend.failures.extend([(code, method)] * n)

    @property
    def down(self) -> bool:
        return self._backend.down

    @down.setter
    def down(self, value: bool) -> None:
        with self._backend.lock:
            self._backend.down = value
