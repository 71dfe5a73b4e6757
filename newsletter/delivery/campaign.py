"""Sending an issue: which issue and campaign a send means, the QA gate, and the run itself.

Every send path goes through here: `newsletter send` (plan, confirm, commit, deliver),
`campaigns resume/retry/run-due`, and `newsletter worker`. The CLI only parses, confirms and
prints. The guarantees live below it: the issue's snapshot is what is sent (editing the file
changes nothing until ``update_content``), the ledger gives each reader one copy of an issue
whatever the campaigns, the gate refuses a message with QA errors, and the lock lets one
process at a time run a campaign.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsletter.audience.models import Filters
from newsletter.audience.store import Store
from newsletter.compose.article import Article, read_article
from newsletter.compose.editions import ArticleEditions, article_editions
from newsletter.config import Settings
from newsletter.delivery.gate import Examination, enforce, inspect
from newsletter.delivery.ids import new_id
from newsletter.delivery.issues import IssueRecord, Issues
from newsletter.delivery.journal import Journal
from newsletter.delivery.lock import campaign_lock
from newsletter.delivery.reputation import last_campaign_findings
from newsletter.delivery.runner import Progress, Summary, run_campaign
from newsletter.delivery.states import Campaign, CampaignStatus, NewCampaign, Override, RowState
from newsletter.errors import ConfigError, NewsletterError
from newsletter.providers import check_provider, open_provider
from newsletter.render.editions import render_editions
from newsletter.render.issue import Editions, RenderedIssue
from newsletter.render.mime import MessageBuilder

__all__ = ["Content", "Plan", "commit", "content_for", "deliver", "plan_send", "resolve"]


@dataclass(frozen=True)
class Content:
    """What a send of an article file delivers, and which issue it belongs to."""

    issue: IssueRecord | None
    """None: a new issue, recorded when the send is committed."""
    articles: ArticleEditions
    editions: Editions
    file_changed: bool
    """The file differs from the issue's snapshot, which is what will be sent."""
    new_snapshot: bool
    """Committing stores this as the issue's snapshot: a new issue, ``update_content``, or an
    issue sent by a release from before snapshots."""

    @property
    def article(self) -> Article:
        return self.articles.original

    @property
    def rendered(self) -> RenderedIssue:
        """The original edition."""
        return self.editions.original


def content_for(
    store: Store,
    settings: Settings,
    path: Path,
    *,
    new_issue: bool = False,
    update_content: bool = False,
) -> Content:
    """The issue an article file is, and the exact article and email a send would deliver."""
    on_disk = read_article(path)
    issues = Issues(store)
    if new_issue:
        taken = issues.by_slug(on_disk.slug)
        if taken is not None:
            raise NewsletterError(
                f"--new-issue: slug {on_disk.slug!r} already names issue {taken.id}; give the new "
                "issue its own 'slug:' in the front matter",
                path=path,
            )
        issue = None
    else:
        issue = issues.matching(on_disk)
    changed = issue is not None and issue.differs_from(_as_they_are(on_disk, settings))
    if issue is not None and changed and not update_content:
        _refuse_other_file_with_its_slug(issue, on_disk)
    if issue is not None and issue.has_snapshot and not update_content:
        return Content(
            issue,
            issue.articles_as_sent(),
            issue.editions_as_sent(),
            file_changed=changed,
            new_snapshot=False,
        )
    articles = article_editions(on_disk, settings)
    return Content(issue, articles, render_editions(articles, settings), False, new_snapshot=True)


def _as_they_are(article: Article, settings: Settings) -> ArticleEditions | None:
    """The article's editions on disk, to compare with the snapshot; None when one cannot be
    read (a written edition moved away): an issue continues from its snapshot regardless."""
    try:
        return article_editions(article, settings)
    except NewsletterError:
        return None


@dataclass(frozen=True)
class Plan:
    """A send as it would happen, before anything is written: what the confirmation shows."""

    content: Content
    filters: Filters
    campaign_id: str
    campaign: Campaign | None
    """The campaign this send continues or reschedules; None: a new one with ``campaign_id``."""
    send_at: dt.datetime | None
    provider: str
    remaining: int
    languages: dict[str, int]
    """The readers it would reach, by language (``?``: none given)."""

    @property
    def editions(self) -> dict[str, int]:
        """The readers it would reach, by the edition each would get."""
        counts = dict.fromkeys(self.content.editions.langs, 0)
        for lang, count in self.languages.items():
            counts[self.content.editions.pick(None if lang == "?" else lang)] += count
        return {lang: count for lang, count in counts.items() if count}

    examination: Examination
    """The QA gate on the exact first message; SpamAssassin's part may still be running."""


def plan_send(
    store: Store,
    settings: Settings,
    path: Path,
    filters: Filters,
    *,
    provider: str | None = None,
    send_at: dt.datetime | None = None,
    new_issue: bool = False,
    update_content: bool = False,
) -> Plan:
    """Which issue and campaign a `send` means, how many it would reach, and the QA findings."""
    _require_own_secret(settings)
    content = content_for(store, settings, path, new_issue=new_issue, update_content=update_content)
    journal = Journal(store)
    campaign = _current(journal, content.issue, filters)
    if campaign is not None and campaign.status == CampaignStatus.SCHEDULED and send_at is None:
        raise NewsletterError(
            f"campaign {campaign.id} ({campaign.label}) is scheduled for "
            f"{campaign.send_at:%Y-%m-%d %H:%M} UTC; move it with --at, send it now with "
            f"`newsletter campaigns resume {campaign.id}`, or cancel it"
        )
    if campaign is not None and campaign.status != CampaignStatus.SCHEDULED and send_at:
        raise NewsletterError(
            f"campaign {campaign.id} ({campaign.label}) has already started; --at schedules "
            "only a campaign that has not"
        )
    name = provider or (campaign.provider if campaign else None) or settings.provider
    check_provider(name, settings)
    if campaign is not None and campaign.status != CampaignStatus.SCHEDULED:
        remaining = journal.counts(campaign.id)[RowState.PENDING]
    else:
        remaining = journal.audience_size(content.issue.id if content.issue else None, filters)
    if campaign is None and remaining == 0 and send_at is None:
        raise NewsletterError(_nobody(journal, content.issue))
    campaign_id = campaign.id if campaign else new_id("c")
    builder = MessageBuilder(
        content.editions, settings, campaign=campaign_id, tracking=settings.click_tracking
    )
    examination = inspect(content.articles, builder, settings)
    if campaign is None:  # a new send: the last campaign's complaints and bounces first
        examination.rules.extend(last_campaign_findings(store))
    started = campaign is not None and campaign.status != CampaignStatus.SCHEDULED
    languages = journal.languages(
        issue_id=content.issue.id if content.issue else None,
        filters=filters,
        campaign_id=campaign.id if started and campaign else None,
    )
    return Plan(
        content, filters, campaign_id, campaign, send_at, name or "", remaining, languages,
        examination,
    )  # fmt: skip


def commit(store: Store, plan: Plan, *, override: Override | None = None) -> Campaign:
    """Record the issue (and its snapshot) and the campaign; refuses QA errors unless forced.

    SpamAssassin's score is not waited for here: `deliver` checks it before the first message.
    A new snapshot of an issue is judged afresh: earlier --force reasons of its campaigns lapse.
    """
    content, journal = plan.content, Journal(store)
    kept = plan.campaign.override if plan.campaign and not content.new_snapshot else None
    enforce(plan.examination.rules, override or kept)
    issues = Issues(store)
    if content.issue is None:
        issue = issues.create(content.articles, content.editions)
    elif content.new_snapshot:
        issue = issues.replace_snapshot(content.issue, content.articles, content.editions)
        journal.clear_overrides(issue.id)
    else:
        issue = content.issue
    if plan.campaign is None:
        spec = NewCampaign(
            issue_id=issue.id,
            slug=issue.slug,
            article=issue.article,
            subject=content.rendered.subject,
            article_sha=issue.source_sha,
            filters=plan.filters,
            provider=plan.provider,
            send_at=plan.send_at,
            override=override,
        )
        return journal.create(spec, campaign_id=plan.campaign_id)
    if plan.send_at is not None:
        journal.reschedule(plan.campaign.id, plan.send_at)
    journal.amend(plan.campaign.id, provider=plan.provider, override=override)
    return journal.campaign(plan.campaign.id)


def deliver(
    store: Store,
    settings: Settings,
    campaign_id: str,
    *,
    examination: Examination | None = None,
    on_total: Callable[[int], None] | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_batch: Callable[[int, Summary], None] = lambda batch, summary: None,
    on_wait: Callable[[float, int, str], None] = lambda seconds, deferred, reason: None,
) -> Summary:
    """Run a campaign from its issue's snapshot until nobody is pending (or it pauses).

    ``examination`` is the gate's, when the caller examined this exact message already. Its
    rules are enforced before anything else; SpamAssassin's score before the first message.
    """
    _require_own_secret(settings)
    journal = Journal(store)
    campaign = journal.campaign(campaign_id)
    if campaign.status == CampaignStatus.CANCELLED:
        raise NewsletterError(f"campaign {campaign.id} ({campaign.label}) was cancelled")
    issues = Issues(store)
    issue = _with_snapshot(issues, issues.get(campaign.issue_id), settings)
    builder = MessageBuilder(
        issue.editions_as_sent(), settings, campaign=campaign.id, tracking=settings.click_tracking
    )
    gate = examination or inspect(issue.articles_as_sent(), builder, settings)
    enforce(gate.rules, campaign.override)
    sender = open_provider(campaign.provider or settings.provider, settings, builder)
    try:
        with campaign_lock(store, campaign.id):
            journal.start(campaign.id)
            if on_total is not None:
                on_total(journal.counts(campaign.id)[RowState.PENDING])
            return run_campaign(
                journal,
                campaign.id,
                sender,
                builder,
                max_failures=settings.max_consecutive_failures,
                progress=progress,
                should_stop=should_stop,
                before_first_send=lambda: enforce(gate.findings(), campaign.override),
                on_batch=on_batch,
                on_wait=on_wait,
            )
    finally:
        sender.close()


def _refuse_other_file_with_its_slug(issue: IssueRecord, article: Article) -> None:
    """The same file edited is the issue as sent (and the edit is reported); another file that
    only shares its slug is either a correction or a new issue, and only the editor knows."""
    if Path(issue.article).resolve() != article.path.resolve():
        raise NewsletterError(
            f"the slug {article.slug!r} belongs to issue {issue.id}, sent from {issue.article}, "
            "but this file's text differs: --update-content sends this text as that issue, or "
            "give this one its own 'slug:' to make it a new issue",
            path=article.path,
        )


def _require_own_secret(settings: Settings) -> None:
    """Links signed with the public example secret could be forged by anyone, and example
    domains reach nobody: never send with them (development aside, against local servers)."""
    if settings.uses_example_secret:
        raise ConfigError(
            "secret_key is the public example value: set NEWSLETTER_SECRET_KEY (for example in "
            ".env) before a real send"
        )
    settings.require_real_identity("a real send")


def resolve(journal: Journal, name: str) -> Campaign:
    """A campaign by its id, its label (``slug (lang en)``) or an unambiguous id prefix."""
    exact = journal.find(name)
    if exact is not None:
        return exact
    every = journal.campaigns()
    found = [c for c in every if c.label == name] or [
        c for c in every if len(name) >= 4 and c.id.startswith(name)
    ]
    live = [c for c in found if c.status != CampaignStatus.CANCELLED]
    if len(found) == 1 or len(live) == 1:
        return (live or found)[0]
    if not found:
        raise NewsletterError(f"no campaign {name!r}; see `newsletter campaigns list`")
    choices = ", ".join(f"{c.id} ({c.status})" for c in found)
    raise NewsletterError(f"{name!r} names several campaigns: {choices}; give the id")


def _nobody(journal: Journal, issue: IssueRecord | None) -> str:
    """Why a new campaign would reach nobody, and what to do instead."""
    waiting = (
        [
            c
            for c in journal.campaigns(
                issue_id=issue.id, statuses=[CampaignStatus.PAUSED, CampaignStatus.RUNNING]
            )
            if journal.counts(c.id)[RowState.PENDING]
        ]
        if issue
        else []
    )
    if waiting:
        c = waiting[0]
        return (
            f"nobody to send to: every matching reader has had this issue or waits in campaign "
            f"{c.id} ({c.label}); continue it with `newsletter campaigns resume {c.id}`"
        )
    return (
        "nobody to send to: no subscribed reader matches (and has not had this issue); "
        "see `newsletter subscribers stats`. No campaign was started"
    )


def _current(journal: Journal, issue: IssueRecord | None, filters: Filters) -> Campaign | None:
    """The issue's live campaign for these filters: the one a repeated `send` continues."""
    if issue is None:
        return None
    wanted = filters.subscribed()
    same = [
        c
        for c in journal.campaigns(issue_id=issue.id)
        if c.status != CampaignStatus.CANCELLED and c.audience == wanted
    ]
    return same[-1] if same else None


def _with_snapshot(issues: Issues, issue: IssueRecord, settings: Settings) -> IssueRecord:
    """An issue sent before snapshots existed takes its snapshot from its file, once."""
    if issue.has_snapshot:
        return issue
    articles = article_editions(read_article(Path(issue.article)), settings)
    return issues.replace_snapshot(issue, articles, render_editions(articles, settings))
