"""Request bodies, validated strictly so client bugs surface as Kore's 412s.

Strict types matter here: Kore rejects ``"allowDuplicates": "true"`` and unknown keys such as the
``name1`` typo in Kore's own sample, and a lenient emulator would hide exactly those bugs from the
provider's tests. Field names are the wire names (camelCase), hence no ``alias`` juggling.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

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
