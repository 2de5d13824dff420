"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepts.

It asks for AUTH (PLAIN/LOGIN) like a submission server, but over plain SMTP: a test has no
certificate a client would trust, and Apprise's `mailto://` without `mode=` speaks plain SMTP.
`refuse_rcpt` makes it refuse recipients with a 550, as a server does for an unknown mailbox.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from typing_extensions import Self


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class FakeSMTP:
    user: str
    password: str
    delivered: list[Delivered] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)  # user names that tried to AUTH
    refuse_rcpt: bool = False

    def __post_init__(self) -> None:
        # port=0 would be chosen by the OS but aiosmtpd's readiness check needs the real port
        # (it connects to it), so take a free one first.
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            free = probe.getsockname()[1]
        self.port = free
        self._controller = Controller(
            self, hostname="127.0.0.1", port=free,
            authenticator=self._authenticate, auth_required=True, auth_require_tls=False,
        )

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    @property
    def hostport(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = data.login.decode()
        self.logins.append(user)
        ok = user == self.user and data.password.decode() == self.password
        return AuthResult(success=ok, handled=False)

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.refuse_rcpt:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.delivered.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos), message, raw))
        return "250 2.0.0 Ok: queued"
