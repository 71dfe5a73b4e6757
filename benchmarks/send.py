"""Delivery costs: MIME messages per second, SendGrid through the fake server, SMTP to aiosmtpd.

    python benchmarks/send.py [--messages 20000] [--runs 5] [--requests 100] [--sendgrid 100000]
                              [--send-runs 3] [--smtp 2000]

1. Personalisation: complete MIME messages built per second on one core (nothing written),
   beside a floor (the same bytes with nothing personalised in the body) as a ratio.
2. HTTP: --requests posts of one ready-made 1,000-reader body to a sink server, beside a
   floor (http.client over one kept-alive connection) as a ratio.
3. `newsletter send` of --sendgrid subscribers through the fake SendGrid server on 127.0.0.1
   (schema validation off, SpamAssassin hidden): wall and CPU seconds and peak RSS, beside a
   floor (benchmarks/send_floor.py: the same requests and journal rows from the standard
   library alone) as ratios.
4. SMTP: messages per second through one connection to aiosmtpd on 127.0.0.1, beside a floor
   (smtplib sending the same messages, built beforehand) as a ratio.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import smtplib
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.lists import imported  # noqa: E402
from benchmarks.measure import measured  # noqa: E402
from newsletter.audience.store import Store  # noqa: E402
from newsletter.compose.article import read_article  # noqa: E402
from newsletter.config import Settings, load_settings  # noqa: E402
from newsletter.providers.sendgrid import SendGridProvider  # noqa: E402
from newsletter.providers.sendgrid_transport import KeptAlive, Library  # noqa: E402
from newsletter.providers.smtp import SmtpProvider  # noqa: E402
from newsletter.render import render_issue  # noqa: E402
from newsletter.render.mime import MessageBuilder, Recipient  # noqa: E402
from tests.delivery.helpers import open_campaign  # noqa: E402
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


class _Sink(BaseHTTPRequestHandler):
    """Reads each request and answers 202, as fast as it can: the client's costs stand alone."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(202)
        self.send_header("X-Message-Id", "sink")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet."""


def _serve_sink(ports: multiprocessing.Queue[int]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    ports.put(server.server_address[1])
    server.serve_forever()


@contextmanager
def sink() -> Iterator[str]:
    """An HTTP server in its own process, so it takes no CPU from the client measured."""
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    process = multiprocessing.Process(target=_serve_sink, args=(ports,), daemon=True)
    process.start()
    try:
        yield f"http://127.0.0.1:{ports.get(timeout=10)}"
    finally:
        process.terminate()
        process.join()


def http_requests(settings: Settings, requests: int, runs: int) -> tuple[float, float, float, int]:
    """Seconds to post ``requests`` ready-made 1,000-reader bodies to a sink in another process:
    (project, floor, the official library, body bytes), medians of interleaved runs.

    The floor is http.client posting the same bytes over one kept-alive connection, reading
    each answer and nothing else. The library is python_http_client, as used before: a new
    connection and a debug string of the body per request. Each client is made before the
    clock starts: httpx loads the system's CA certificates for TLS then (17 ms, once a send).
    """
    issue = render_issue(read_article(ARTICLE), settings)
    with sink() as url:
        own = Settings(
            **{**settings.model_dump(), "sendgrid_api_key": "SG.benchmark", "sendgrid_host": url}
        )
        provider = SendGridProvider(own, MessageBuilder(issue, own, campaign="bench"))
        people = [
            provider._builder.envelope(
                Recipient(str(n), f"reader{n}@example.org", f"Reader {n}", "Reader")
            )
            for n in range(1000)
        ]
        body = provider.prepare(people).body
        provider.close()
        headers = {"Authorization": "Bearer SG.benchmark", "Content-Type": "application/json"}

        def floor() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]))
            for _ in range(requests):
                connection.request("POST", "/v3/mail/send", body, headers)
                connection.getresponse().read()
            connection.close()

        def with_connection(connection: KeptAlive | Library) -> Callable[[], None]:
            def post_all() -> None:
                for _ in range(requests):
                    connection.post(body)
                connection.close()

            return post_all

        times: dict[str, list[float]] = {"project": [], "floor": [], "library": []}
        for _ in range(runs):
            for name in times:
                work = {
                    "project": lambda: with_connection(KeptAlive(own)),
                    "floor": lambda: floor,
                    "library": lambda: with_connection(Library(own)),
                }[name]()
                start = time.perf_counter()
                work()
                times[name].append(time.perf_counter() - start)
        project, floor_s, library = (statistics.median(times[n]) for n in times)
        return project, floor_s, library, len(body)


def sendgrid_campaign(
    count: int, code: Path = REPO, path: str | None = None
) -> tuple[float, int, float, float]:
    """`newsletter send` of ``count`` readers with the code in ``code``, through the fake
    SendGrid: (wall seconds, requests, peak RSS in MB, CPU seconds with what it waited for)."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        env = {
            **os.environ,
            "PYTHONPATH": str(code),
            "PATH": path or os.environ["PATH"],
            "NEWSLETTER_SECRET_KEY": "benchmark-secret-not-for-mail",
            "NEWSLETTER_ENVIRONMENT": "development",  # the shipped example identity, on loopback
        }
        base = [sys.executable, "-m", "newsletter"]
        imported(folder, count, code, env)
        with fake_sendgrid.running("SG.benchmark", validate=False) as fake:
            env.update(
                NEWSLETTER_PROVIDER="sendgrid",
                NEWSLETTER_SENDGRID_API_KEY="SG.benchmark",
                NEWSLETTER_SENDGRID_HOST=fake.url,
            )
            send = measured([*base, "send", str(ARTICLE), "--yes"], folder, env)
            if sum(fake.recipients().values()) != count:
                raise SystemExit(f"the benchmark send with {code} missed readers")
            return send.wall, fake.requests, send.rss_mb, send.cpu


def without_spamassassin() -> str:
    """PATH without SpamAssassin: the QA gate's one run per send (about 0.9 s of CPU) is left
    out, so what is measured is the send itself."""
    return os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "spamassassin").exists()
    )


def sendgrid_floor(count: int) -> tuple[float, float]:
    """benchmarks/send_floor.py on a folder like sendgrid_campaign's: (wall, CPU seconds)."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        database = imported(folder, count)
        store = Store.open(f"sqlite:///{database}")
        open_campaign(store)
        store.close()
        with sqlite3.connect(database) as db:  # the floor freezes the audience itself
            db.execute("DELETE FROM campaign_recipients")
        with fake_sendgrid.running("SG.benchmark", validate=False) as fake:
            spec = folder / "spec.json"
            spec.write_text(json.dumps(_floor_spec(fake.url)), "utf-8")
            floor = [sys.executable, str(REPO / "benchmarks" / "send_floor.py")]
            sent = measured([*floor, str(database), str(spec), fake.url], folder)
            if sum(fake.recipients().values()) != count:
                raise SystemExit("the floor send missed readers")
            return sent.wall, sent.cpu


def _floor_spec(url: str) -> dict[str, object]:
    """What the project renders once per issue, for the floor to fill per reader."""
    settings = load_settings(REPO / "newsletter.toml")
    own = Settings(
        **{**settings.model_dump(), "sendgrid_api_key": "SG.benchmark", "sendgrid_host": url}
    )
    issue = render_issue(read_article(ARTICLE), own)
    provider = SendGridProvider(own, MessageBuilder(issue, own, campaign="c1"))
    edition = provider._editions[issue.lang]
    provider.close()
    base = json.loads(edition.head + b"]}")  # the body every batch shares, as the project sends it
    del base["personalizations"]
    return {
        "campaign": "c1",
        "edition": issue.lang,
        "secret": "benchmark-secret-not-for-mail",
        "api_key": "SG.benchmark",
        "base": base,
        "tokens": {field: (json.loads(h[:-1]), json.loads(t[:-1])) for field, h, t in edition.keys},
        "base_url": own.base_url,
        "web_url": issue.web_url,
        "mailto": f"unsubscribe@{own.list_label}",
    }


def smtp_rate(settings: Settings, messages: int, runs: int) -> tuple[float, float]:
    """Messages per second to aiosmtpd over one connection: (project, floor), medians of
    interleaved runs. The floor is smtplib sending the same messages, built beforehand."""
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
        batch = [
            builder.envelope(Recipient(str(n), f"reader{n}@example.org", None, None))
            for n in range(messages)
        ]
        built = [(e.recipient.email, builder.message(e).data) for e in batch]

        def project() -> None:
            provider = SmtpProvider(configured, builder)
            provider.send(batch)
            provider.close()

        def floor() -> None:
            with smtplib.SMTP("127.0.0.1", server.port) as client:
                for to, data in built:
                    client.sendmail(configured.from_email, [to], data)

        rates: dict[str, list[float]] = {"project": [], "floor": []}
        for _ in range(runs):
            for name, work in (("project", project), ("floor", floor)):
                start = time.perf_counter()
                work()
                rates[name].append(messages / (time.perf_counter() - start))
        return statistics.median(rates["project"]), statistics.median(rates["floor"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sendgrid", type=int, default=100_000)
    parser.add_argument("--smtp", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--send-runs", type=int, default=3, help="0 skips the whole send")
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
    project, floor_s, library, size = http_requests(settings, args.requests, args.runs)
    print(
        f"  HTTP, {args.requests} posts of a {size / 1e6:.2f} MB 1,000-reader body to a sink: "
        f"{project:.3f} s, floor {floor_s:.3f} s (http.client on one kept-alive connection), "
        f"ratio {project / floor_s:.1f}x; python_http_client (used before): {library:.3f} s"
    )
    if args.send_runs:
        whole_send(args.sendgrid, args.send_runs)
    rate, floor = smtp_rate(settings, args.smtp, args.runs)
    print(
        f"  SMTP to aiosmtpd over one connection, {args.smtp:,} messages: {rate:,.0f}/s, floor "
        f"{floor:,.0f}/s (smtplib, messages built beforehand), ratio {floor / rate:.1f}x"
    )


def whole_send(readers: int, runs: int) -> None:
    """`newsletter send` beside send_floor.py, interleaved run by run; prints the medians."""
    walls: dict[str, list[float]] = {"project": [], "floor": []}
    cpus: dict[str, list[float]] = {"project": [], "floor": []}
    for _ in range(runs):
        seconds, requests, rss, cpu = sendgrid_campaign(readers, path=without_spamassassin())
        walls["project"].append(seconds)
        cpus["project"].append(cpu)
        seconds, cpu = sendgrid_floor(readers)
        walls["floor"].append(seconds)
        cpus["floor"].append(cpu)
    wall, wall_floor = (statistics.median(walls[k]) for k in walls)
    cpu, cpu_floor = (statistics.median(cpus[k]) for k in cpus)
    print(
        f"  `newsletter send` of {readers:,} to the fake SendGrid ({requests} requests, peak "
        f"RSS {rss:.0f} MB): wall {wall:.2f} s, floor {wall_floor:.2f} s, ratio "
        f"{wall / wall_floor:.2f}x; CPU {cpu:.2f} s, floor {cpu_floor:.2f} s, ratio "
        f"{cpu / cpu_floor:.2f}x (benchmarks/send_floor.py; SpamAssassin off); medians of "
        f"{runs} interleaved runs"
    )


if __name__ == "__main__":
    main()
