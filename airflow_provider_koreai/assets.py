"""The ``koreai://`` asset scheme: one URI per Kore.ai contact list or campaign, the same for Airflow and
OpenLineage.

``koreai://<platform host>/<iid>/contact-lists/<contact list id>``, e.g.
``koreai://platform.kore.ai/st-1234/contact-lists/cl-5678``, and
``koreai://<platform host>/<iid>/campaigns/<campaign id>``, e.g.
``koreai://platform.kore.ai/st-1234/campaigns/cd-9012``. The host and the application id (iid) make
an id unique across tenants and regions. Airflow checks and normalises every ``koreai://`` URI with
:func:`sanitize_uri` (registered in the provider info under ``asset-uris``): the host in lower case,
without the default port, exactly three path segments, no query or fragment; so two spellings of one list
are one asset, and a malformed URI fails when the DAG is parsed rather than matching nothing. OpenLineage
sees the same list as namespace ``koreai://<host>``, name ``<iid>/contact-lists/<id>`` (a campaign:
``<iid>/campaigns/<id>``)
(:func:`convert_asset_to_openlineage`).

Imported by the provider manager when Airflow loads assets: no heavy imports here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

if TYPE_CHECKING:
    from urllib.parse import SplitResult

    from airflow.providers.common.compat.sdk import Asset

SCHEME = "koreai"
#: The kinds of resource addressed, each by its own path segment.
CONTACT_LISTS = "contact-lists"
CAMPAIGNS = "campaigns"
KINDS = (CONTACT_LISTS, CAMPAIGNS)
_DEFAULT_PORT = 443


def contact_list_uri(*, host: str, iid: str, contact_list_id: str) -> str:
    """The normalised URI of a contact list (segments percent-encoded)."""
    return _uri(host, iid, CONTACT_LISTS, contact_list_id)


def campaign_uri(*, host: str, iid: str, campaign_id: str) -> str:
    """The normalised URI of a campaign (segments percent-encoded)."""
    return _uri(host, iid, CAMPAIGNS, campaign_id)


def _uri(host: str, iid: str, kind: str, resource_id: str) -> str:
    path = "/".join(quote(part, safe="") for part in (iid, kind, resource_id))
    return f"{SCHEME}://{host.lower()}/{path}"


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Airflow's URI handler for ``koreai://``: normalise, or raise ``ValueError`` saying what is wrong."""
    example = f"{SCHEME}://platform.kore.ai/st-.../{CONTACT_LISTS}/cl-..."
    if not uri.hostname:
        raise ValueError(f"URI format {SCHEME}:// must contain the platform host, e.g. {example}")
    if uri.username or uri.password:
        raise ValueError(f"URI format {SCHEME}:// must not contain credentials")
    if uri.query or uri.fragment:
        raise ValueError(f"URI format {SCHEME}:// must not contain a query or a fragment, e.g. {example}")
    segments = uri.path.split("/")[1:]
    if len(segments) != 3 or segments[1] not in KINDS or not all(segments):
        kinds = "|".join(KINDS)
        raise ValueError(
            f"URI format {SCHEME}:// must be {SCHEME}://<host>/<iid>/<{kinds}>/<id>, got {uri.path!r}"
        )
    hostname = uri.hostname.lower()
    netloc = f"[{hostname}]" if ":" in hostname else hostname
    if uri.port and uri.port != _DEFAULT_PORT:
        netloc = f"{netloc}:{uri.port}"
    path = "/" + "/".join(quote(unquote(segment), safe="") for segment in segments)
    return uri._replace(scheme=SCHEME, netloc=netloc, path=path)


def create_asset(*, host: str, iid: str, contact_list_id: str, extra: dict[str, Any] | None = None) -> Asset:
    """The asset of a contact list (the ``factory`` Airflow registers for the scheme)."""
    from airflow.providers.common.compat.sdk import Asset

    return Asset(uri=contact_list_uri(host=host, iid=iid, contact_list_id=contact_list_id), extra=extra or {})


def openlineage_names(uri: str) -> tuple[str, str]:
    """OpenLineage's names of a list or a campaign: namespace ``koreai://<host>``, name
    ``<iid>/contact-lists/<id>`` or ``<iid>/campaigns/<id>``."""
    parts = sanitize_uri(urlsplit(uri))
    return f"{SCHEME}://{parts.netloc}", parts.path.lstrip("/")


def convert_asset_to_openlineage(asset: Asset, lineage_context: Any) -> Any:
    """The OpenLineage dataset of a ``koreai://`` asset (needs the OpenLineage provider installed)."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    namespace, name = openlineage_names(asset.uri)
    return Dataset(namespace=namespace, name=name)
