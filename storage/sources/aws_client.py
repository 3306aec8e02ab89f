"""boto3 plumbing for the AWS sync: clients, the request ledger, pagination and error translation.

Every API call (one page) is counted by a botocore ``before-call`` hook, so the count is exact whether the
call goes to AWS, to moto's server or to a ``Stubber``; HTTP attempts (retries included) are counted
separately by ``before-send``. Cost Explorer bills $0.01 per call; the other APIs used here are free.
Credentials come only from boto3's standard chain and are never written anywhere by this module.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CE_REQUEST_COST = 0.01
POLICY_HINT = "see 'Live AWS sync' in the README for the least-privilege IAM policy"
# API operation -> the IAM action that authorises it, where the two differ.
IAM_ACTIONS = {
    "budgets:DescribeBudgets": "budgets:ViewBudget",
}
IAM_PREFIX = {"ce": "ce", "organizations": "organizations", "budgets": "budgets", "savingsplans": "savingsplans",
              "ec2": "ec2", "rds": "rds", "sts": "sts"}
CREDENTIAL_HINT = ("log in first: `aws sso login --profile PROFILE` for SSO, or set AWS_PROFILE / "
                   "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or pass --profile)")
_EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId",
                  "UnrecognizedClientException", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
_DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
_THROTTLE_CODES = {"Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException",
                   "RequestLimitExceeded"}


class AwsSyncError(RuntimeError):
    """A data set could not be fetched; the message says why and what to do."""

    fatal = False


class CredentialsError(AwsSyncError):
    """No usable credentials: every further call would fail the same way."""

    fatal = True


class MaxRequestsReached(AwsSyncError):
    fatal = True


class DeadlineExceeded(AwsSyncError):
    """A data set ran past its total deadline (retries included); the next data set still runs."""


@dataclass
class RequestLedger:
    """Every API call made in one sync (or one feedback call), in order.

    A call is counted when it is made (``before-call``) and handed to ``sink`` when its response returns
    (``after-call``, an error response included: AWS bills a request it answered), so a sink that writes it
    down keeps the ledger even when the sync is interrupted or killed mid-way. ``deadline`` (a
    ``time.monotonic`` instant) stops any further HTTP attempt, retries included, once passed."""

    max_requests: int | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    # Stamps each call; a sync sets it to its home's clock (FINOPS_TUI_TODAY) so the requests it records
    # carry the same day as the data and the sync stamp.
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sink: Callable[[dict[str, Any]], object] | None = None
    deadline: float | None = None
    deadline_reason: str = "the deadline passed"

    @property
    def requests(self) -> int:
        return len(self.calls)

    @property
    def cost(self) -> float:
        return round(sum(c["cost"] for c in self.calls), 2)

    def count(self, service: str) -> int:
        return sum(1 for c in self.calls if c["service"] == service)

    def unrecorded(self) -> list[dict[str, Any]]:
        """Calls not yet handed to the sink (all of them when there is none)."""
        return [c for c in self.calls if not c.get("recorded")]

    # botocore hooks --------------------------------------------------------------------------------------
    def _before_call(self, model: Any, **_: Any) -> None:
        service = model.service_model.endpoint_prefix
        if self.max_requests is not None and self.requests >= self.max_requests:
            raise MaxRequestsReached(
                f"stopped before {service}:{model.name}: --max-requests {self.max_requests} reached")
        self._check_deadline()
        self.calls.append({"at": self.now().astimezone(UTC).replace(tzinfo=None), "service": service,
                           "operation": model.name, "cost": CE_REQUEST_COST if service == "ce" else 0.0})

    def _after_call(self, model: Any, **_: Any) -> None:
        pending = next((c for c in reversed(self.calls) if not c.get("recorded")
                        and c["operation"] == model.name), None)
        if pending is None or self.sink is None:
            return
        self.sink(pending)
        pending["recorded"] = True

    def _before_send(self, **_: Any) -> None:
        self._check_deadline()
        self.attempts += 1

    def _check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise DeadlineExceeded(self.deadline_reason)

    def attach(self, client: Any) -> Any:
        client.meta.events.register_first("before-call.*.*", self._before_call)
        client.meta.events.register("after-call.*.*", self._after_call)
        client.meta.events.register("before-send.*.*", self._before_send)
        return client


class AwsClients:
    """Creates (and caches) boto3 clients on one session, all metered by one ledger."""

    def __init__(self, *, profile: str | None = None, endpoint_url: str | None = None,
                 region: str | None = None, ledger: RequestLedger | None = None, max_attempts: int = 6,
                 session: Any = None, connect_timeout: float = 5.0, read_timeout: float = 15.0) -> None:
        self.profile = profile
        self.endpoint_url = endpoint_url
        self.region = region
        self.ledger = ledger or RequestLedger()
        self.max_attempts = max_attempts
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self._session = session
        self._clients: dict[str, Any] = {}

    @property
    def session(self) -> Any:
        if self._session is None:
            import boto3
            from botocore.exceptions import ProfileNotFound

            try:
                self._session = boto3.Session(profile_name=self.profile)
            except ProfileNotFound as exc:
                raise CredentialsError(f"AWS profile {self.profile!r} is not configured; {CREDENTIAL_HINT}") from exc
        return self._session

    def use(self, service: str, client: Any) -> Any:
        """Use a ready-made client for ``service`` (a Stubber-wrapped one in tests), metered like the rest."""
        self._clients[service] = self.ledger.attach(client)
        return client

    def client(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            # Cost Explorer, Organizations, Budgets and Cost Optimization Hub are served from us-east-1 only.
            region = self.region or self.session.region_name or "us-east-1"
            if service in ("ce", "organizations", "budgets", "savingsplans", "cost-optimization-hub"):
                region = "us-east-1"
            # AWS_MAX_ATTEMPTS (the standard variable) may lower or raise the attempts; the mode stays adaptive.
            attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or self.max_attempts)
            config = Config(retries={"mode": "adaptive", "total_max_attempts": attempts},
                            connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
                            user_agent_extra="finops-tui")
            client = self.session.client(service, region_name=region, endpoint_url=self.endpoint_url,
                                         config=config)
            self._clients[service] = self.ledger.attach(client)
        return self._clients[service]


def iam_action(service: str, operation: str) -> str:
    name = f"{IAM_PREFIX.get(service, service)}:{operation}"
    return IAM_ACTIONS.get(name, name)


def translate(exc: Exception, service: str, operation: str) -> AwsSyncError:
    """One clear sentence for a botocore failure, naming the IAM action where it matters."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ReadTimeoutError,
        SSOError,
        TokenRetrievalError,
    )
    from botocore.parsers import ResponseParserError

    action = iam_action(service, operation)
    if isinstance(exc, AwsSyncError):
        return exc
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return CredentialsError(f"no AWS credentials found; {CREDENTIAL_HINT}")
    if isinstance(exc, SSOError | TokenRetrievalError) or type(exc).__name__ in (
            "UnauthorizedSSOTokenError", "SSOTokenLoadError"):
        return CredentialsError(f"the AWS SSO session has expired or is missing; {CREDENTIAL_HINT}")
    if isinstance(exc, NoRegionError):
        return CredentialsError("no AWS region configured; set AWS_DEFAULT_REGION or a region in the profile")
    if isinstance(exc, ReadTimeoutError):
        return AwsSyncError(f"{action}: the {service} endpoint did not answer in time (read timeout, retries "
                            "included; aws.read_timeout_s in the config)")
    if isinstance(exc, ConnectTimeoutError):
        return AwsSyncError(f"{action}: could not connect to the {service} endpoint in time (connect timeout; "
                            "aws.connect_timeout_s in the config); check the network or --endpoint-url")
    if isinstance(exc, EndpointConnectionError):
        return AwsSyncError(f"cannot reach the {service} endpoint ({exc}); check the network or --endpoint-url")
    if isinstance(exc, ResponseParserError):
        return AwsSyncError(f"{action}: the endpoint answered with something that is not an AWS response "
                            "(an emulator that does not implement this call?)")
    if not isinstance(exc, ClientError):
        return AwsSyncError(f"{action}: {type(exc).__name__}: {exc}")
    err = exc.response.get("Error", {})
    code = str(err.get("Code", ""))
    message = str(err.get("Message", "")).strip()
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in _DENIED_CODES:
        return AwsSyncError(f"access denied: the IAM action {action} was refused; grant it ({POLICY_HINT})")
    if code in _EXPIRED_CODES:
        return CredentialsError(f"the AWS credentials were rejected or have expired ({code}); {CREDENTIAL_HINT}")
    if code in _THROTTLE_CODES:
        return AwsSyncError(f"{action}: AWS kept throttling the request after adaptive retries; "
                            "sync again in a few minutes")
    if code == "DataUnavailableException":
        return AwsSyncError(f"{action}: Cost Explorer has no data for this period yet (it fills within 24 hours "
                            "of enabling Cost Explorer, and commitments data needs active commitments)")
    if code == "BillExpirationException":
        return AwsSyncError(f"{action}: the period reaches past the bills Cost Explorer keeps (about 13 "
                            "months of daily data); use a smaller --months or a later --since")
    if code == "AWSOrganizationsNotInUseException":
        return AwsSyncError("this account is not part of an AWS Organization")
    if code in ("InvalidNextTokenException", "RequestChangedException"):
        return AwsSyncError(f"{action}: the data changed while paging ({code}); sync again")
    if status and int(status) >= 500 or code in ("500", "501", "404"):
        return AwsSyncError(f"{action}: the endpoint failed (HTTP {status}); it may not offer this API "
                            "(moto and other emulators lack several Cost Explorer calls)")
    return AwsSyncError(f"{action}: {code or 'error'}: {message or exc}")


def call(clients: AwsClients, service: str, operation: str, **params: Any) -> dict[str, Any]:
    """One metered API call, with failures translated."""
    client = clients.client(service)
    method = getattr(client, _snake(operation))
    try:
        return method(**params)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one clear sentence
        raise translate(exc, service, operation) from exc


def pages(clients: AwsClients, service: str, operation: str, token_in: str, token_out: str | None = None,
          **params: Any) -> Iterator[dict[str, Any]]:
    """Every page of a call, following its token (NextPageToken, NextToken, nextToken or Marker)."""
    token_out = token_out or token_in
    token = None
    while True:
        args = dict(params)
        if token:
            args[token_in] = token
        page = call(clients, service, operation, **args)
        yield page
        token = page.get(token_out)
        if not token:
            return


def _snake(name: str) -> str:
    from botocore import xform_name

    return xform_name(name)
