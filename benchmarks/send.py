"""Delivery costs: MIME messages per second, SendGrid through the fake server, SMTP to aiosmtpd.

    python benchmarks/send.py [--messages 20000] [--runs 5] [--sendgrid 100000] [--smtp 2000]

1. Personalisation: complete MIME messages built per second on one core (nothing written),
   beside a floor (the same bytes with nothing personalised in the body) as a ratio.
2. `newsletter send` of --sendgrid subscribers through the fake SendGrid server on 127.0.0.1
   (schema validation off): wall seconds, requests and the send process's peak RSS.
3. SMTP: messages per second through one connection to aiosmtpd on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsletter.compose.article import read_article  # noqa: E402
from newsletter.config import Settings, load_settings  # noqa: E402
from newsletter.providers.smtp import SmtpProvider  # noqa: E402
from newsletter.render import render_issue  # noqa: E402
from newsletter.render.mime import MessageBuilder, Recipient  # noqa: E402
from tests.fakes import sendgrid as fake_sendgrid  # noqa: E402
from tests.fakes import smtp as fake_smtp  # noqa: E402

ARTICLE = REPO / "articles" / "2025-09-04-ai-blockchain-healthcare.md"


def personalisation(settings: Settings, messages: int, runs: int) -> tuple[float, float]:
    """Complete messages per second: (project, floor), medians of interleaved runs.

    The floor is the same message with nothing in the way of its bytes: each reader's headers
    formatted and both parts filled with their values (the template fill), joined as UTF-8
    without the transfer encoding. The project also base64-encodes both parts, as sent.
    """
    issue = render_issue(read_article(ARTICLE), settings)
    builder = MessageBuilder(issue, settings, campaign="bench")
    people = [
        Recipient(str(n), f"reader{n}@example.org", f"Reader {n}", "Reader")
        for n in range(messages)
    ]
    envelopes = [builder.envelope(person) for person in people]
    sample = builder.message(envelopes[0]).data
    head = sample[: sample.index(b"To:")]

    def floor() -> None:
        for envelope in envelopes:
            values = issue.values(envelope.fields)
            b"".join(
                (
                    head,
                    f"To: {envelope.recipient.email}\r\n".encode(),
                    f"Message-ID: {envelope.message_id}\r\n".encode(),
                    f"List-Unsubscribe: <{envelope.unsubscribe_url}>\r\n".encode(),
                    issue.text_template.fill(values).encode(),
                    issue.html_template.fill(values).encode(),
                )
            )

    def project() -> None:
        for envelope in envelopes:
            builder.message(envelope)

    project_rates, floor_rates = [], []
    for _ in range(runs):
        for work, rates in ((project, project_rates), (floor, floor_rates)):
            start = time.perf_counter()
            work()
            rates.append(messages / (time.perf_counter() - start))
    return statistics.median(project_rates), statistics.median(floor_rates)


def sendgrid_campaign(
    count: int, code: Path = REPO, path: str | None = None
) -> tuple[float, int, float, float]:
    """`newsletter send` of ``count`` readers with the code in ``code``, through the fake
    SendGrid: (wall seconds, requests, peak RSS in MB, CPU seconds with what it waited for)."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        shutil.copy(code / "newsletter.toml", folder)
        shutil.copytree(code / "templates", folder / "templates")
        people = folder / "people.csv"
        people.write_text(
            "email,name\n" + "".join(f"reader{n}@example.org,Reader {n}\n" for n in range(count)),
            "utf-8",
        )
        env = {
            **os.environ,
            "PYTHONPATH": str(code),
            "PATH": path or os.environ["PATH"],
            "NEWSLETTER_SECRET_KEY": "benchmark-secret-not-for-mail",
            "NEWSLETTER_ENVIRONMENT": "development",  # the shipped example identity, on loopback
        }
        base = [sys.executable, "-m", "newsletter"]
        subprocess.run(
            [*base, "subscribers", "import", str(people), "--consent", "benchmark"],
            cwd=folder,
            env=env,
            check=True,
            capture_output=True,
        )
        with fake_sendgrid.running("SG.benchmark", validate=False) as fake:
            env.update(
                NEWSLETTER_PROVIDER="sendgrid",
                NEWSLETTER_SENDGRID_API_KEY="SG.benchmark",
                NEWSLETTER_SENDGRID_HOST=fake.url,
            )
            start = time.perf_counter()
            child = subprocess.Popen(
                [*base, "send", str(ARTICLE), "--yes"],
                cwd=folder,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            _, status, usage = os.wait4(child.pid, 0)
            elapsed = time.perf_counter() - start
            if status or sum(fake.recipients().values()) != count:
                raise SystemExit(f"the benchmark send with {code} failed")
            cpu = usage.ru_utime + usage.ru_stime
            return elapsed, fake.requests, usage.ru_maxrss / 1024, cpu


def smtp_rate(settings: Settings, messages: int) -> float:
    with fake_smtp.running() as server:
        configured = Settings(
            **{
                **settings.model_dump(),
                "smtp_host": "127.0.0.1",
                "smtp_port": server.port,
                "smtp_tls": "none",
            }
        )
        issue = render_issue(read_article(ARTICLE), configured)
        builder = MessageBuilder(issue, configured, campaign="bench")
        provider = SmtpProvider(configured, builder)
        batch = [
            builder.envelope(Recipient(str(n), f"reader{n}@example.org", None, None))
            for n in range(messages)
        ]
        start = time.perf_counter()
        provider.send(batch)
        elapsed = time.perf_counter() - start
        provider.close()
        return messages / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sendgrid", type=int, default=100_000)
    parser.add_argument("--smtp", type=int, default=2_000)
    args = parser.parse_args()
    os.chdir(REPO)
    settings = load_settings(REPO / "newsletter.toml")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    rate, floor = personalisation(settings, args.messages, args.runs)
    print(
        f"  MIME messages built (envelopes made beforehand): {rate:,.0f}/s, floor {floor:,.0f}/s, "
        f"ratio {floor / rate:.1f}x; medians of {args.runs} interleaved runs of {args.messages:,}"
    )
    seconds, requests, rss, _ = sendgrid_campaign(args.sendgrid)
    print(
        f"  SendGrid send of {args.sendgrid:,}: {seconds:.1f} s wall, {requests} requests, peak RSS {rss:.0f} MB"
    )
    print(
        f"  SMTP to aiosmtpd: {smtp_rate(settings, args.smtp):,.0f} messages/s over one connection ({args.smtp:,} messages)"
    )


if __name__ == "__main__":
    main()
