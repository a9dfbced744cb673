"""Request bodies, validated strictly so client bugs surface as Kore's 412s.

Strict types matter here: Kore rejects ``"allowDuplicates": "true"`` and unknown keys such as the
``name1`` typo in Kore's own sample, and a lenient emulator would hide exactly those bugs from the
provider's tests. Field names are the wire names (camelCase), hence no ``alias`` juggling.
"""

from __future__ import annotations

import functools
import zoneinfo
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from airflow_provider_koreai.emulator.errors import KoreApiError, error_body, field_path

ListName = Annotated[StrictStr, Field(min_length=1, max_length=48)]
Description = Annotated[StrictStr, Field(max_length=256)]


class _StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UpdateContactListBody(_StrictBody):
    """PUT body: name, source and allowDuplicates are required, description optional."""

    name: ListName
    source: StrictStr
    allowDuplicates: StrictBool
    description: Description | None = None


class CreateContactListBody(_StrictBody):
    """POST createContactList body: like the update, but allowDuplicates defaults to false."""

    name: ListName
    source: StrictStr
    allowDuplicates: StrictBool = False
    description: Description = ""


class ContactRecord(BaseModel):
    """One contact: a non-empty ``phoneNumber`` plus any further columns (firstName, timeZone, ...)."""

    model_config = ConfigDict(extra="allow")

    phoneNumber: Annotated[StrictStr, Field(min_length=1)]

    def as_record(self) -> dict[str, Any]:
        return self.model_dump()


class AddContactsBody(_StrictBody):
    """addContacts body: the list is addressed by its name."""

    contact_list_name: Annotated[StrictStr, Field(min_length=1)]
    data: list[ContactRecord]


# ------------------------------------------------------------------------------------------- campaigns
#
# Campaign bodies answer 400 (not the contact lists' 412), every bad field named at once, as the wire
# contract of issue 20 says. They are checked by :func:`validate_body` rather than by FastAPI's body
# binding, which would send them through the 412 handler.

MAX_CONTACT_LISTS_PER_CAMPAIGN = 10

CampaignType = Literal["voice", "sms"]
CampaignStatus = Literal[
    "Active", "Completed", "Ready", "Paused", "Preparing", "Stopped", "Scheduled", "Rescheduled"
]
DialingMode = Literal["Agentless", "Progressive", "Preview"]
Priority = Literal["1", "2", "3", "4", "5"]
ClockTime = Annotated[StrictStr, Field(pattern=r"^(1[0-2]|0?[1-9]):[0-5][0-9] (AM|PM)$")]
NonEmpty = Annotated[StrictStr, Field(min_length=1)]


def minutes_of_day(clock_time: str) -> int:
    """``"9:00 AM"`` -> 540, ``"12:30 PM"`` -> 750, ``"12:00 AM"`` -> 0."""
    hours_minutes, meridiem = clock_time.split(" ")
    hours, minutes = (int(part) for part in hours_minutes.split(":"))
    return (hours % 12 + (12 if meridiem == "PM" else 0)) * 60 + minutes


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class CallingDay(_StrictBody):
    day: Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    start: ClockTime
    end: ClockTime


class CallingHours(_StrictBody):
    frequency: Literal["WEEKLY", "DAILY", "CUSTOM"]
    timezone: NonEmpty
    days: Annotated[list[CallingDay], Field(min_length=1)]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in _time_zones():
            raise ValueError(f"unknown time zone {value!r}: use a tz database name such as 'Asia/Kolkata'")
        return value


class CallerId(_StrictBody):
    phoneNumber: NonEmpty


class SmsDialingStrategy(_StrictBody):
    callerId: CallerId
    callingHours: CallingHours


class VoiceDialingStrategy(SmsDialingStrategy):
    dialingOrder: Literal["FIFO", "LIFO"]
    maxAttemptsPerRecord: Annotated[StrictInt, Field(ge=1, le=100)]
    defaultRetryPeriod: Annotated[StrictInt, Field(ge=1, le=1440)]
    maxRingTime: Annotated[StrictInt, Field(ge=5, le=120)]
    useSystemMappings: StrictBool | None = None


class Schedule(_StrictBody):
    isSchedulingEnabled: StrictBool
    isRecurrenceEnabled: StrictBool = False


class SmsMessage(_StrictBody):
    message: StrictStr
    templateId: StrictStr | None = None
    template_name: StrictStr | None = None


class _CampaignSpec(_StrictBody):
    name: ListName
    description: Description = ""
    contactLists: Annotated[list[ListName], Field(min_length=1, max_length=MAX_CONTACT_LISTS_PER_CAMPAIGN)]
    schedule: Schedule | None = None
    campaignType: CampaignType | None = None
    dncLists: dict[str, Any] | list[Any] | None = None

    def problems(self) -> list[tuple[str, str]]:
        """Rules across fields, as ``(field, message)``: pydantic checks each field alone."""
        found: list[tuple[str, str]] = []
        seen: set[str] = set()
        for index, name in enumerate(self.contactLists):
            if name in seen:
                found.append((f"contactLists[{index}]", f"the list {name!r} is named twice"))
            seen.add(name)
        if self.schedule is not None and self.schedule.isSchedulingEnabled:
            found.append(
                (
                    "schedule.isSchedulingEnabled",
                    "the emulator does not model scheduled campaigns: send false and start it with play",
                )
            )
        for index, day in enumerate(self.dialing_strategy.callingHours.days):
            if minutes_of_day(day.start) >= minutes_of_day(day.end):
                found.append(
                    (
                        f"dialingStrategy.callingHours.days[{index}]",
                        f"start {day.start!r} must be before end {day.end!r}",
                    )
                )
        return found

    @property
    def dialing_strategy(self) -> SmsDialingStrategy:
        raise NotImplementedError


class VoiceCampaignSpec(_CampaignSpec):
    """Create/update body of a voice campaign (fact sheet 2.6, v1)."""

    priority: Priority
    dialingMode: DialingMode
    dialingStrategy: VoiceDialingStrategy
    experienceFlowName: NonEmpty | None = None
    queue_name: NonEmpty | None = None
    maxSkips: Annotated[StrictInt, Field(ge=0)] | None = None
    enableMachineDetect: StrictBool = False

    @property
    def dialing_strategy(self) -> SmsDialingStrategy:
        return self.dialingStrategy

    def problems(self) -> list[tuple[str, str]]:
        found = super().problems()
        if self.dialingMode == "Agentless":
            if self.experienceFlowName is None:
                found.append(("experienceFlowName", "required when dialingMode is Agentless"))
            if self.queue_name is not None:
                found.append(("queue_name", "not allowed when dialingMode is Agentless"))
        else:
            if self.queue_name is None:
                found.append(("queue_name", f"required when dialingMode is {self.dialingMode}"))
            if self.experienceFlowName is not None:
                found.append(("experienceFlowName", f"not allowed when dialingMode is {self.dialingMode}"))
        if self.dialingMode == "Preview" and self.maxSkips is None:
            found.append(("maxSkips", "required when dialingMode is Preview"))
        if self.dialingMode != "Preview" and self.maxSkips is not None:
            found.append(("maxSkips", f"not allowed when dialingMode is {self.dialingMode}"))
        return found


class SmsCampaignSpec(_CampaignSpec):
    """Create/update body of an SMS campaign (fact sheet 2.8, v1): simple (``message``) or advanced."""

    priority: Priority = "5"
    dialingStrategy: SmsDialingStrategy
    format: Literal["simple", "advanced"] = "simple"
    message: SmsMessage | None = None
    experienceFlowName: NonEmpty | None = None

    @property
    def dialing_strategy(self) -> SmsDialingStrategy:
        return self.dialingStrategy

    def problems(self) -> list[tuple[str, str]]:
        found = super().problems()
        if self.format == "simple" and self.message is None:
            found.append(("message", "required when format is simple"))
        if self.format == "advanced" and self.experienceFlowName is None:
            found.append(("experienceFlowName", "required when format is advanced"))
        return found


class CampaignFilters(_StrictBody):
    status: list[CampaignStatus] | None = None
    priority: list[Annotated[StrictInt, Field(ge=1, le=5)]] | None = None
    dialingMode: list[DialingMode] | None = None


class ListCampaignsBody(_StrictBody):
    """getAllCampaignDetails: ``type`` required, 1-based ``page`` (or ``skip``), ``limit`` 1-100."""

    type: CampaignType
    page: Annotated[StrictInt, Field(ge=1)] = 1
    limit: Annotated[StrictInt, Field(ge=1, le=100)] = 50
    skip: Annotated[StrictInt, Field(ge=0)] | None = None
    filters: CampaignFilters | None = None


class ClockChange(_StrictBody):
    """``POST /_emulator/clock``: freeze the campaigns' clock and/or move it forward."""

    freeze: StrictBool = False
    advance: Annotated[float, Field(ge=0)] = 0.0


class CampaignContactsBody(_StrictBody):
    """``view=contacts``: ``page`` >= 1, ``limit`` 1-100."""

    page: Annotated[StrictInt, Field(ge=1)] = 1
    limit: Annotated[StrictInt, Field(ge=1, le=100)] = 100


Spec = TypeVar("Spec", bound=BaseModel)


def validate_body(model: type[Spec], body: Any, *, status: int = 400) -> Spec:
    """``body`` checked against ``model``, or a :class:`KoreApiError` naming every bad field at once.

    ``None`` (no body) is checked as ``{}``. Models with a ``problems()`` method get their cross-field
    rules checked too, once every field is valid on its own.
    """
    try:
        parsed = model.model_validate({} if body is None else body)
    except ValidationError as exc:
        messages = []
        for err in exc.errors():
            where = field_path(err.get("loc", ()))
            text = (
                "unknown field" if err.get("type") == "extra_forbidden" else err.get("msg", "invalid value")
            )
            messages.append((f"Validation errors/ Invalid arguments: {where}: {text}", status))
        raise KoreApiError(status, messages[0][0], status, body=error_body(messages)) from None
    problems = getattr(parsed, "problems", None)
    found: list[tuple[str, str]] = problems() if callable(problems) else []
    if found:
        messages = [
            (f"Validation errors/ Invalid arguments: {where}: {text}", status) for where, text in found
        ]
        raise KoreApiError(status, messages[0][0], status, body=error_body(messages))
    return parsed
