"""Delivery costs: MIME messages per second, SendGrid through the fake server, SMTP to aiosmtpd.

    python benchmarks/send.py [--messages 20000] [--runs 5] [--requests 100] [--sendgrid 100000]
                              [--smtp 2000]

1. Personalisation: complete MIME messages built per second on one core (nothing written),
   beside a floor (the same bytes with nothing personalised in the body) as a ratio.
2. HTTP: --requests posts of one ready-made 1,000-reader body to a sink server, beside a
   floor (http.client over one kept-alive connection) as a ratio.
3. `newsletter send` of --sendgrid subscribers through the fake SendGrid server on 127.0.0.1
   (schema validation off): wall seconds, requests and the send process's peak RSS.
4. SMTP: messages per second through one connection to aiosmtpd on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsletter.compose.article import read_article  # noqa: E402
from newsletter.config import Settings, load_settings  # noqa: E402
from newsletter.providers.sendgrid import SendGridProvider  # noqa: E402
from newsletter.providers.sendgrid_transport import KeptAlive, Library  # noqa: E402
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
    connection and a debug string of the body per request.
    """
    issue = render_issue(read_article(ARTICLE), settings)
    with sink() as url:
        own = Settings(
            **{**settings.model_dump(), "sendgrid_api_key": "SG.benchmark", "sendgrid_host": url}
        )
        provider = SendGridProvider(own, MessageBuilder(issue, own, campaign="bench"))
        edition = provider._editions[issue.lang]
        people = [
            provider._builder.envelope(
                Recipient(str(n), f"reader{n}@example.org", f"Reader {n}", "Reader")
            )
            for n in range(1000)
        ]
        payload = {
            **edition.base,
            "personalizations": [provider._personalization(edition, e) for e in people],
        }
        provider.close()
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
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
                    "project": lambda: with_connection(KeptAlive(own))(),
                    "floor": floor,
                    "library": lambda: with_connection(Library(own))(),
                }[name]
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
    parser.add_argument("--requests", type=int, default=100)
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
    seconds, requests, rss, _ = sendgrid_campaign(args.sendgrid)
    print(
        f"  SendGrid send of {args.sendgrid:,}: {seconds:.1f} s wall, {requests} requests, peak RSS {rss:.0f} MB"
    )
    print(
        f"  SMTP to aiosmtpd: {smtp_rate(settings, args.smtp):,.0f} messages/s over one connection ({args.smtp:,} messages)"
    )


if __name__ == "__main__":
    main()
