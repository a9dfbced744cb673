"""The FastAPI application that plays Kore.ai's Campaign Management API (as Kore.ai documents it).

Layering, outermost first:

1. :class:`EmulatorMiddleware` (pure ASGI) records every API request before anything can reject it and
   applies queued faults, because faults must be able to pre-empt, delay, or swallow the real handling
   and even hang up on the client, which needs the raw ASGI ``send``/``receive``.
2. Route dependencies authenticate (JWT + tenant headers) and rate-limit, so 401 wins over 412.
3. Handlers validate bodies with strict pydantic models and talk to :class:`ContactStore` and
   :class:`CampaignStore` (campaign bodies are checked by :func:`validate_body`: 400s, not 412s).

Every error leaves through one of the exception handlers below in Kore's ``{"errors": [...]}`` envelope;
FastAPI's ``{"detail": ...}`` defaults are replaced for 404, 405 and validation errors.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airflow_provider_koreai.emulator.auth import AuthContext, RateLimiter, TokenVerifier
from airflow_provider_koreai.emulator.campaigns import CampaignStore, EmulatorClock
from airflow_provider_koreai.emulator.errors import (
    RATE_LIMIT_MESSAGE,
    KoreApiError,
    error_body,
    field_path,
)
from airflow_provider_koreai.emulator.faults import FaultQueue, FaultSpec, RequestRecorder
from airflow_provider_koreai.emulator.models import (
    AddContactsBody,
    CampaignContactsBody,
    ClockChange,
    CreateContactListBody,
    ListCampaignsBody,
    SmsCampaignSpec,
    UpdateContactListBody,
    VoiceCampaignSpec,
    validate_body,
)
from airflow_provider_koreai.emulator.settings import EmulatorSettings
from airflow_provider_koreai.emulator.state import ContactStore
from airflow_provider_koreai.emulator.transport import ConnectionRegistry, drop_connection

CONTACT_LIST_PREFIX = "/agentassist/api/v1/public/{iid}/campaign/contactList"
ADD_CONTACTS_PATH = "/api/1.1/public/{iid}/campaign/contactList/addContacts"
CAMPAIGN_PREFIX = "/agentassist/api/v1/public/{iid}/campaign"
TRIGGER_PATH = "/campaign/api/v1/public/{iid}/campaign/{campaignId}"
ADMIN_PREFIX = "/_emulator"


@dataclass
class EmulatorRuntime:
    """Everything mutable behind one app; :class:`EmulatorServer` reaches it through ``app.state.runtime``."""

    settings: EmulatorSettings
    store: ContactStore
    campaigns: CampaignStore
    clock: EmulatorClock
    verifier: TokenVerifier
    limiter: RateLimiter
    faults: FaultQueue = field(default_factory=FaultQueue)
    recorder: RequestRecorder = field(default_factory=RequestRecorder)

    @classmethod
    def from_settings(cls, settings: EmulatorSettings) -> EmulatorRuntime:
        store = ContactStore(settings)
        clock = EmulatorClock()
        return cls(
            settings=settings,
            store=store,
            campaigns=CampaignStore(settings, store, clock),
            clock=clock,
            verifier=TokenVerifier(settings),
            limiter=RateLimiter(settings.rate_limit_per_minute),
        )

    def reset(self) -> None:
        """Back to the seeded state: lists, campaigns, real time, faults, recordings, seen jtis and
        rate-limit windows."""
        with self.store.lock:
            self.clock.reset()
            self.store.reset()
            self.campaigns.reset()
        self.faults.clear()
        self.recorder.clear()
        self.verifier.reset()
        self.limiter.reset()


def get_runtime(request: Request) -> EmulatorRuntime:
    runtime: EmulatorRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[EmulatorRuntime, Depends(get_runtime)]


def authenticate(request: Request, runtime: Runtime) -> AuthContext:
    """Kore's gateway: verify the JWT and tenant headers, then count the call against the account's limit."""
    ctx = runtime.verifier.authenticate(request.headers, request.path_params.get("iid", ""))
    retry_after = runtime.limiter.acquire(ctx.account_id)
    if retry_after is not None:
        raise KoreApiError(429, RATE_LIMIT_MESSAGE, 429, headers={"Retry-After": str(retry_after)})
    return ctx


Auth = Annotated[AuthContext, Depends(authenticate)]


# --------------------------------------------------------------------------------------------- API routes

api = APIRouter()


@api.put(CONTACT_LIST_PREFIX + "/{contactListId}", name="update_contact_list")
def update_contact_list(
    contactListId: str, body: UpdateContactListBody, ctx: Auth, runtime: Runtime
) -> dict[str, Any]:
    """Reference 3.1. Renaming onto another list's name is a 409 (code 409)."""
    runtime.store.update(
        ctx.tenant,
        contactListId,
        name=body.name,
        description=body.description,
        source=body.source,
        allow_duplicates=body.allowDuplicates,
    )
    return {
        "status": "success",
        "message": f"Contact list {body.name} updated successfully",
        "data": {
            "contactListId": contactListId,
            "body": {
                "name": body.name,
                "orgId": runtime.settings.org_id,
                "iId": ctx.iid,
                "listType": "call",
                "accountId": ctx.account_id,
                "updatedBy": runtime.settings.user_id,
            },
        },
    }


@api.post(CONTACT_LIST_PREFIX + "/createContactList", name="create_contact_list")
def create_contact_list(body: CreateContactListBody, ctx: Auth, runtime: Runtime) -> dict[str, Any]:
    """Reference 3.2. A name already used in the account is a 409 (code 409), not a second list."""
    created = runtime.store.create(
        ctx.tenant,
        name=body.name,
        description=body.description,
        source=body.source,
        allow_duplicates=body.allowDuplicates,
    )
    return {
        "status": "success",
        "message": f"Contact list {body.name} created successfully",
        "data": created,
    }


@api.post(CONTACT_LIST_PREFIX + "/getAllListDetails", name="list_contact_lists")
def list_contact_lists(
    ctx: Auth,
    runtime: Runtime,
    list_type: Annotated[Literal["call"] | None, Query(alias="type")] = None,
) -> dict[str, Any]:
    """Reference 3.4: no body, ``type`` optional but only ``call`` is accepted (400 otherwise)."""
    return {"status": "success", "data": runtime.store.all(ctx.tenant)}


@api.get(CONTACT_LIST_PREFIX + "/{contactListId}", name="get_contact_list")
def get_contact_list(contactListId: str, ctx: Auth, runtime: Runtime) -> dict[str, Any]:
    """Reference 3.3."""
    return {"status": "success", "data": runtime.store.get(ctx.tenant, contactListId)}


@api.delete(CONTACT_LIST_PREFIX + "/{contactListId}", name="delete_contact_list")
def delete_contact_list(contactListId: str, ctx: Auth, runtime: Runtime) -> dict[str, Any]:
    """Reference 3.5."""
    deleted = runtime.store.delete(ctx.tenant, contactListId)
    return {
        "status": "success",
        "message": f"Contact list {deleted['name']} deleted successfully",
        "data": deleted,
    }


@api.get(CONTACT_LIST_PREFIX + "/{contactListId}/getAllContacts", name="get_contacts")
def get_contacts(
    contactListId: str,
    ctx: Auth,
    runtime: Runtime,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Reference 3.7: ``skip``/``limit`` paging (400 when out of range)."""
    results, total = runtime.store.contacts_page(ctx.tenant, contactListId, skip, limit)
    return {
        "status": "success",
        "data": {
            "results": results,
            "skip": skip,
            "limit": limit,
            "hasMore": skip + len(results) < total,
            "totalPages": math.ceil(total / limit),
            "totalResults": total,
        },
    }


@api.post(ADD_CONTACTS_PATH, name="add_contacts")
async def add_contacts(body: AddContactsBody, ctx: Auth, runtime: Runtime) -> dict[str, Any]:
    """Reference 3.6: accepted at once, applied ``ingestion_delay_seconds`` later (0: before answering).

    The delay runs on the event loop (``call_later``), so neither the response nor other requests wait.
    """
    store = runtime.store
    list_id = store.id_for_name(ctx.tenant, body.contact_list_name)
    records = [record.as_record() for record in body.data]
    generation = store.generation
    delay = runtime.settings.ingestion_delay_seconds
    if delay <= 0:
        store.add_contacts(ctx.tenant, list_id, records, generation)
    else:
        asyncio.get_running_loop().call_later(
            delay, store.add_contacts, ctx.tenant, list_id, records, generation
        )
    return {"message": "Adding contacts to public list is in progress"}


# ------------------------------------------------------------------------------------------ campaigns

CampaignTypeQuery = Annotated[Literal["voice", "sms"], Query(alias="campaignType")]


def _campaign_body(campaign_type: str, body: Any) -> VoiceCampaignSpec | SmsCampaignSpec:
    spec: VoiceCampaignSpec | SmsCampaignSpec
    if campaign_type == "voice":
        spec = validate_body(VoiceCampaignSpec, body)
    else:
        spec = validate_body(SmsCampaignSpec, body)
    if spec.campaignType is not None and spec.campaignType != campaign_type:
        raise KoreApiError(
            400,
            f"campaignType: the body says '{spec.campaignType}' but the query says '{campaign_type}'",
            400,
        )
    return spec


@api.post(TRIGGER_PATH, name="trigger_campaign")
def trigger_campaign(
    campaignId: str,
    ctx: Auth,
    runtime: Runtime,
    campaign_type: CampaignTypeQuery,
    trigger: Annotated[Literal["play", "stop"], Query()],
) -> dict[str, Any]:
    """Start (``trigger=play``) or stop a campaign: not idempotent (see :mod:`.campaigns`)."""
    if trigger == "play":
        return runtime.campaigns.play(ctx.tenant, campaignId, campaign_type)
    return runtime.campaigns.stop(ctx.tenant, campaignId, campaign_type)


@api.post(CAMPAIGN_PREFIX + "/getAllCampaignDetails", name="list_campaigns")
def list_campaigns(ctx: Auth, runtime: Runtime, body: Annotated[Any, Body()] = None) -> dict[str, Any]:
    """Paged (``page`` 1-based or ``skip``; ``limit`` 1-100), oldest first, filtered by ``filters``."""
    query = validate_body(ListCampaignsBody, body)
    filters = query.filters
    found = runtime.campaigns.all(
        ctx.tenant,
        query.type,
        statuses=None if filters is None else filters.status,
        priorities=None if filters is None else filters.priority,
        dialing_modes=None if filters is None else filters.dialingMode,
    )
    skip = query.skip if query.skip is not None else (query.page - 1) * query.limit
    results = found[skip : skip + query.limit]
    return {
        "status": "success",
        "message": "Campaigns retrieved successfully",
        "data": {
            "results": results,
            "skip": skip,
            "limit": query.limit,
            "hasMore": skip + len(results) < len(found),
            "totalPages": math.ceil(len(found) / query.limit),
            "totalResults": len(found),
        },
    }


@api.post(CAMPAIGN_PREFIX + "/{campaignId}/status", name="campaign_status")
def campaign_status(
    campaignId: str,
    ctx: Auth,
    runtime: Runtime,
    view: Annotated[Literal["status", "contacts"], Query()] = "status",
    body: Annotated[Any, Body()] = None,
) -> dict[str, Any]:
    """``view=status`` (the default): id, status, name. ``view=contacts``: a page of per-contact results."""
    if view == "status":
        return {"status": "success", "data": runtime.campaigns.status(ctx.tenant, campaignId)}
    paging = validate_body(CampaignContactsBody, body)
    page = runtime.campaigns.contacts_page(ctx.tenant, campaignId, paging.page, paging.limit)
    return {"status": "success", "data": page}


@api.post(CAMPAIGN_PREFIX, name="create_campaign")
def create_campaign(
    ctx: Auth, runtime: Runtime, campaign_type: CampaignTypeQuery, body: Annotated[Any, Body()] = None
) -> dict[str, Any]:
    """Voice campaigns start ``Preparing``, SMS ones ``Ready``; a taken name is a 409, an unknown list 400."""
    created = runtime.campaigns.create(ctx.tenant, campaign_type, _campaign_body(campaign_type, body))
    return {
        "status": "success",
        "message": f"Campaign {created['name']} creation in progress",
        "data": created,
    }


@api.get(CAMPAIGN_PREFIX + "/{campaignId}", name="get_campaign")
def get_campaign(campaignId: str, ctx: Auth, runtime: Runtime) -> dict[str, Any]:
    found = runtime.campaigns.get(ctx.tenant, campaignId)
    return {"status": "success", "message": f"Campaign {found['name']} retrieved successfully", "data": found}


@api.put(CAMPAIGN_PREFIX + "/{campaignId}", name="update_campaign")
def update_campaign(
    campaignId: str,
    ctx: Auth,
    runtime: Runtime,
    campaign_type: CampaignTypeQuery,
    body: Annotated[Any, Body()] = None,
) -> dict[str, Any]:
    """A full replace; Active or Paused campaigns cannot be edited (409)."""
    spec = _campaign_body(campaign_type, body)
    updated = runtime.campaigns.update(ctx.tenant, campaignId, campaign_type, spec)
    return {
        "status": "success",
        "message": f"Campaign {updated['name']} details updated successfully",
        "id": campaignId,
        "data": updated,
    }


@api.delete(CAMPAIGN_PREFIX + "/{campaignId}", name="delete_campaign")
def delete_campaign(
    campaignId: str, ctx: Auth, runtime: Runtime, campaign_type: CampaignTypeQuery
) -> dict[str, Any]:
    """Active or Paused campaigns cannot be deleted (409); a repeat is a 404."""
    deleted = runtime.campaigns.delete(ctx.tenant, campaignId, campaign_type)
    return {
        "status": "success",
        "message": f"Campaign {deleted['name']} deleted successfully",
        "data": deleted,
    }


# ------------------------------------------------------------------------------------------- admin routes

admin = APIRouter(prefix=ADMIN_PREFIX, include_in_schema=False)


@admin.post("/faults", status_code=201)
def add_fault(spec: FaultSpec, runtime: Runtime) -> dict[str, Any]:
    runtime.faults.add(spec)
    return {"status": "success", "data": runtime.faults.pending()}


@admin.get("/faults")
def list_faults(runtime: Runtime) -> list[dict[str, Any]]:
    return runtime.faults.pending()


@admin.delete("/faults")
def clear_faults(runtime: Runtime) -> dict[str, Any]:
    runtime.faults.clear()
    return {"status": "success"}


@admin.get("/requests")
def recorded_requests(runtime: Runtime) -> list[dict[str, Any]]:
    return runtime.recorder.all()


@admin.delete("/requests")
def clear_requests(runtime: Runtime) -> dict[str, Any]:
    runtime.recorder.clear()
    return {"status": "success"}


@admin.post("/reset")
def reset(runtime: Runtime) -> dict[str, Any]:
    runtime.reset()
    return {"status": "success"}


@admin.get("/state")
def state(runtime: Runtime) -> list[dict[str, Any]]:
    """Every contact list of every tenant, with its contacts (campaigns: ``/state/campaigns``)."""
    return runtime.store.snapshot()


@admin.get("/state/campaigns")
def campaigns_state(runtime: Runtime) -> list[dict[str, Any]]:
    """Every campaign of every tenant, with ``totalContacts`` and ``contactsDialled`` of its last run."""
    return runtime.campaigns.snapshot()


@admin.post("/campaigns/{campaign_id}/pause")
def pause_campaign(campaign_id: str, runtime: Runtime) -> dict[str, Any]:
    """Pause an Active campaign (Kore.ai's UI can, its API cannot); ``play`` resumes it."""
    tenant = runtime.campaigns.tenant_of(campaign_id)
    if tenant is None:
        raise KoreApiError(404, f"Campaign {campaign_id} not found", 404)
    return {"status": "success", "data": runtime.campaigns.pause(tenant, campaign_id)}


@admin.post("/clock")
def change_clock(change: ClockChange, runtime: Runtime) -> dict[str, Any]:
    """Freeze and/or advance the campaigns' clock (``{"freeze": true, "advance": 2.5}``); reset unfreezes."""
    if change.freeze:
        runtime.clock.freeze()
    now = runtime.clock.advance(change.advance)
    return {"status": "success", "data": {"now": now, "frozen": runtime.clock.frozen}}


# ------------------------------------------------------------------------------------- error rendering


async def _kore_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KoreApiError)
    return JSONResponse(exc.body, status_code=exc.status_code, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        msg = f"No route for {request.method} {request.url.path}"
    elif exc.status_code == 405:
        msg = f"Method {request.method} is not allowed on {request.url.path}"
    else:
        msg = str(exc.detail)
    return JSONResponse(error_body(msg, exc.status_code), status_code=exc.status_code, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Body problems are Kore's 412 "Validation errors/ Invalid arguments"; query/path/JSON syntax are 400.

    Every message starts with the offending field (``name``, ``data[3].phoneNumber``, ``type``, ...).
    """
    assert isinstance(exc, RequestValidationError)
    messages: list[tuple[str, int]] = []
    status = 412
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        where = loc[0] if loc else "body"
        if err.get("type") == "json_invalid":
            messages.append(("body: request body is not valid JSON", 400))
            status = 400
            continue
        path = field_path(loc[1:])
        if err.get("type") == "extra_forbidden":
            text = f"{path}: unknown field"
        else:
            text = f"{path}: {err.get('msg', 'invalid value')}"
        if where == "body":
            messages.append((f"Validation errors/ Invalid arguments: {text}", 412))
        else:
            messages.append((f"Invalid {where} parameter {text}", 400))
            status = 400
    return JSONResponse(error_body(messages), status_code=status)


# ------------------------------------------------------------------------------------------- middleware


class EmulatorMiddleware:
    """Record API requests and apply queued faults (see :class:`FaultSpec` for the semantics).

    Admin routes (``/_emulator/...``) pass straight through: they are neither recorded nor faultable.
    A request that is dropped is recorded with ``status`` None (nothing was answered).

    The middleware runs before FastAPI routes the request, so it names the route itself, matching the
    request against the routes of the ``api`` router declared in this module (each named explicitly).
    It never walks the app's ``router.routes``: how ``include_router`` mounts a router is FastAPI's
    business (0.137 started adding router nodes there instead of copies of the routes).
    """

    def __init__(
        self,
        app: ASGIApp,
        runtime: EmulatorRuntime,
        routes: Sequence[BaseRoute],
        connections: ConnectionRegistry,
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.routes = routes
        self.connections = connections

    def _route_name(self, scope: Scope) -> str | None:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                name: str | None = getattr(route, "name", None)
                return name
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        route = self._route_name(scope)
        recorder = self.runtime.recorder
        entry = recorder.record(
            method=scope["method"],
            path=scope["path"],
            query=QueryParams(scope["query_string"]),
            headers=Headers(scope=scope),
            body=_parse_body(raw),
            route=route,
        )
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                recorder.update(entry, status=message["status"])
            await send(message)

        fault = self.runtime.faults.take(route) if route is not None else None
        if fault is None:
            await self.app(scope, replay, recording_send)
            return
        recorder.update(entry, fault=fault.model_dump(exclude_none=True))
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop == "before":
            await drop_connection(self.connections, scope, replay, send)
        elif fault.answers:
            await fault.response()(scope, replay, recording_send)
        elif fault.drop == "after":

            async def swallow(message: Message) -> None:
                if message["type"] == "http.response.start":
                    recorder.update(entry, applied_status=message["status"])

            await self.app(scope, replay, swallow)
            await drop_connection(self.connections, scope, replay, send)
        else:
            await self.app(scope, replay, recording_send)


def _parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def create_app(settings: EmulatorSettings | None = None) -> FastAPI:
    """Build a fresh emulator app with its own state (seeded unless ``settings.seed_demo_data`` is off)."""
    settings = settings or EmulatorSettings()
    app = FastAPI(
        title="Kore.ai Campaign Management API emulator",
        docs_url=f"{ADMIN_PREFIX}/docs",
        redoc_url=None,
        openapi_url=f"{ADMIN_PREFIX}/openapi.json",
    )
    runtime = EmulatorRuntime.from_settings(settings)
    app.state.runtime = runtime
    connections = ConnectionRegistry()
    app.state.connections = connections
    app.include_router(api)
    app.include_router(admin)
    app.add_exception_handler(KoreApiError, _kore_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(EmulatorMiddleware, runtime=runtime, routes=api.routes, connections=connections)
    return app
