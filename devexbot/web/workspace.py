"""The web workspace's parts, built once per app: templates, sessions, live cards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.responses import Response

from correlation.button_blocks import button_elements
from correlation.buttons import card_buttons, merge_candidate
from correlation.card import CommitCard
from correlation.checklist import STATUS_LABEL
from correlation.policies import Policies
from correlation.status import Status
from devexbot.http.metrics import Metrics
from devexbot.me.changes import PrefChanges
from devexbot.me.facts import HomeFacts
from devexbot.settings import Settings
from devexbot.store import Card, Database
from devexbot.store.cards import CardLoader
from devexbot.store.merge_settings import MergeSettings
from devexbot.store.models import utcnow
from devexbot.web.access import DemoUser, LoginRequired, Sessions, Viewer, viewer_of
from devexbot.web.live import Change, LiveCards
from devexbot.web.mrkdwn_html import Names
from devexbot.web.team import SlackTeam
from devexbot.web.view import CardView, WebAction, card_view, web_action
from devexbot.web.when import time_html

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# No inline script or style, nothing from another origin: the bot serves everything.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@cache
def _templates() -> Jinja2Templates:
    """The pages' templates, compiled once per process (they never change while it runs)."""
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.globals["status_label"] = {s.value: label for s, label in STATUS_LABEL.items()}
    env.globals["statuses"] = [s.value for s in Status]
    env.filters["iso"] = _iso
    env.filters["when"] = time_html
    return templates


class Workspace:
    """Pages, sessions and live cards; `slack_on` says whether Slack shows the cards (the
    web says "not in Slack" otherwise), `team` which Slack workspace may sign in, `names`
    who a Slack user id is (cached: pages never wait on Slack for a name they had);
    `demo_user`, only in `devexbot demo`, whom a visitor on the machine acts as."""

    def __init__(self, settings: Settings, *, db: Database, card_loader: CardLoader,
                 policies: Policies, metrics: Metrics, slack_on: bool,
                 team: SlackTeam, merge_settings: MergeSettings, names: Names,
                 demo_user: DemoUser | None = None, home: HomeFacts | None = None,
                 prefs: PrefChanges | None = None) -> None:
        self.settings, self.card_loader, self.policies = settings, card_loader, policies
        self.home = home  # what the `/me` page shows (the Home tab's model)
        self.prefs = prefs  # what its settings' buttons change
        self.demo_user = demo_user
        self.merge_settings = merge_settings
        self.slack_on, self.team, self.names = slack_on, team, names
        self.templates = _templates()
        self.sessions = Sessions(settings, db)
        self.live = LiveCards(db, self.changes, metrics=metrics)
        self._card_template = self.templates.env.get_template("_card.html")

    # --- cards --------------------------------------------------------------------------

    def actions_for(self, row: Card, card: CommitCard) -> list[WebAction]:
        """The card's buttons, the same the Slack message has; clicking one acts as the
        signed-in Slack user, with the same permissions and audit."""
        merge = self.merge_settings.known(card.repo) if merge_candidate(card) else None
        elements = button_elements(card_buttons(card, self.policies, utcnow(),
                                                merge).elements)
        # Buttons that act; menus (Request review, Label) and links stay Slack's for now.
        return [web_action(row, element) for element in elements
                if element.get("type") == "button" and "url" not in element]

    def view(self, row: Card, card: CommitCard | None = None) -> CardView:
        """The card's view (`card`: the row as the card loader folds it, when at hand)."""
        card = card if card is not None else self.card_loader.load(row)
        return card_view(row, card, actions=self.actions_for(row, card),
                         slack_on=self.slack_on, names=self.names)

    def card_html(self, view: CardView) -> Markup:
        return Markup(self._card_template.render(card=view))  # noqa: S704 - autoescaped

    def changes(self, rows: Sequence[Card]) -> list[Change]:
        changes = []
        for row in rows:
            view = self.view(row)
            changes.append(Change(view, str(self.card_html(view)), row.changed_at))
        return changes

    # --- who is looking -----------------------------------------------------------------

    def viewer(self, request: Request) -> Viewer | None:
        viewer = viewer_of(request, self.settings, self.sessions)
        demo = self.demo_user
        if demo is not None and viewer is not None and viewer.via == "local":
            return Viewer(name=demo.name, via="demo", subject=demo.slack_id)
        return viewer

    def require_viewer(self, request: Request) -> Viewer:
        viewer = self.viewer(request)
        if viewer is None:
            query = f"?{request.url.query}" if request.url.query else ""
            raise LoginRequired(request.url.path + query)
        return viewer

    def page(self, request: Request, name: str, context: dict[str, Any], *,
             status_code: int = 200) -> Response:
        response = self.templates.TemplateResponse(
            request, name, {"settings": self.settings, **context},
            status_code=status_code)
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-store"
        return response


async def workspace_of(request: Request) -> Workspace:
    workspace: Workspace = request.app.state.workspace
    return workspace


WorkspaceDep = Annotated[Workspace, Depends(workspace_of)]


def _iso(moment: datetime | None) -> str:
    return moment.isoformat().replace("+00:00", "Z") if moment else ""
