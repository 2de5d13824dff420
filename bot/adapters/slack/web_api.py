"""Slack over the Web API (a bot token): alerts, thread replies, edits, reactions, recovery.

Channels: chat.postMessage accepts a channel id or a `#name`; chat.update, reactions.add and
conversations.history need the id. Every ChatRef we return carries the id Slack answered with,
so only `find` for a channel the policy names by `#name` ever has to look the id up
(conversations.list, paged; see `channel_id`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from http.client import HTTPException
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web import SlackResponse

from bot.adapters.slack import failures
from bot.adapters.slack.blocks import EVENT_TYPE, metadata, render
from bot.errors import ServiceError
from bot.records import Channel, ChatMessage, ChatRef, ChatReply, ChatRoot

DEFAULT_API_URL = "https://slack.com/api/"
SERVICE = "slack"

# Public (C), private / legacy group (G) and direct (D) conversation ids.
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")
_EMOJI_NAME = re.compile(r"[a-z0-9_+\-']+")


class SlackNotifier:
    """A `bot.ports.Notifier` on slack_sdk's WebClient."""

    service = SERVICE
    can_thread = True
    can_read_back = True

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        backoff: float = 0.5,
        retries: int = 2,
        timeout: int = 30,
        history_pages: int = 3,
        thread_scan: int = 5,
        max_wait: float = 60.0,
    ) -> None:
        """`backoff`, `retries`: for rate limits, and for failed calls that are safe to repeat
        (failures.py); `max_wait`: the longest Retry-After waited out."""
        url = (base_url or DEFAULT_API_URL).strip()
        # WebClient joins base_url and the method name with urljoin: without the trailing
        # slash, ".../api" + "chat.postMessage" would lose the "api" segment.
        if not url.endswith("/"):
            url += "/"
        self.client = WebClient(
            token=token,
            base_url=url,
            timeout=timeout,
            retry_handlers=failures.retry_handlers(backoff=backoff, retries=retries, max_wait=max_wait),
        )
        self.history_pages = history_pages
        self.thread_scan = thread_scan
        self._ids: dict[str, str] = {}  # "#name" -> channel id, learnt from Slack's answers

    # -- Notifier ----------------------------------------------------------------------------
    def post(self, channel: Channel, message: ChatMessage, *, thread: ChatRef | None = None) -> ChatRef:
        target = thread.channel if thread else self._target(channel)
        rendered = render(message)
        args: dict[str, Any] = {
            "channel": target,
            "text": rendered.text,
            "blocks": rendered.blocks,
            # Mentions come only from our own `<@U…>` markup: Slack must not find more.
            "link_names": False,
            "parse": "none",
            "unfurl_links": False,
            "unfurl_media": False,
        }
        meta = metadata(message)
        if meta:
            args["metadata"] = meta
        if thread:
            args["thread_ts"] = thread.ts
        request = f"chat.postMessage {self._label(channel, target)}"
        # Never repeated blindly (failures.py): a failure that may have posted it is
        # `uncertain`, and the executor asks `find` before posting again.
        data = self._call(self.client.chat_postMessage, request, target, once=True, **args)
        channel_id = str(data.get("channel") or target)
        if not _CHANNEL_ID.fullmatch(target):
            self._ids[_key(target)] = channel_id
        return ChatRef(SERVICE, channel_id, str(data["ts"]))

    def update(self, ref: ChatRef, message: ChatMessage) -> None:
        _require_slack(ref)
        rendered = render(message)
        args: dict[str, Any] = {
            "channel": ref.channel,
            "ts": ref.ts,
            "text": rendered.text,
            "blocks": rendered.blocks,
            "link_names": False,
            "parse": "none",
        }
        meta = metadata(message)
        if meta:
            # chat.update replaces the metadata too; event_type and event_payload are required.
            args["metadata"] = meta
        self._call(self.client.chat_update, f"chat.update {ref.channel} {ref.ts}", ref.channel, **args)

    def react(self, ref: ChatRef, emoji: str) -> None:
        _require_slack(ref)
        name = emoji.strip().strip(":")
        if not _EMOJI_NAME.fullmatch(name):
            raise ValueError(f"{emoji!r} is not a Slack emoji name (expected: like eyes, white_check_mark)")
        try:
            self._call(
                self.client.reactions_add,
                f"reactions.add :{name}: {ref.channel} {ref.ts}",
                ref.channel,
                channel=ref.channel,
                timestamp=ref.ts,  # reactions.add calls the message ts "timestamp"
                name=name,
            )
        except ServiceError as exc:
            if exc.detail != "already_reacted":
                raise

    def find(self, channel: Channel, key: str, *, thread: ChatRef | None = None) -> ChatRef | None:
        """A message whose metadata carries `key`, posted by outage-bot.

        Given `thread`, among that thread's replies (conversations.replies). Otherwise among
        the channel's latest messages (conversations.history, `history_pages` pages of 100),
        then in the threads of the `thread_scan` newest outage-bot alerts there that have
        replies: history never lists replies, and a reply's key is all the caller may have.
        """
        if not key:
            return None
        if thread:
            _require_slack(thread)
            return self._find_in_thread(thread.channel, thread.ts, key)
        channel_id = self.channel_id(channel)
        threads: list[str] = []
        for page in self._pages(
            self.client.conversations_history,
            f"conversations.history {self._label(channel, channel_id)}",
            channel_id,
            channel=channel_id,
        ):
            for item in page.get("messages") or []:
                if _key_of(item) == key:
                    return ChatRef(SERVICE, channel_id, str(item["ts"]))
                if _key_of(item) is not None and item.get("reply_count") and len(threads) < self.thread_scan:
                    threads.append(str(item["ts"]))
        for ts in threads:
            found = self._find_in_thread(channel_id, ts, key)
            if found:
                return found
        return None

    def _find_in_thread(self, channel_id: str, ts: str, key: str) -> ChatRef | None:
        for page in self._pages(
            self.client.conversations_replies,
            f"conversations.replies {channel_id} {ts}",
            channel_id,
            channel=channel_id,
            ts=ts,
        ):
            for item in page.get("messages") or []:
                if _key_of(item) == key:
                    return ChatRef(SERVICE, channel_id, str(item["ts"]))
        return None

    # -- reading what people did -------------------------------------------------------------------
    def recent_roots(self, channel: Channel, since: datetime) -> list[ChatRoot]:
        """The bot's root alerts in the channel posted since `since`, with their reactions:
        conversations.history (Tier 3), newest first, one page of 100 messages almost always
        (at most `history_pages`); reactions come with each message."""
        channel_id = self.channel_id(channel)
        messages = [item for page in self._pages(self.client.conversations_history,
                                                 f"conversations.history {self._label(channel, channel_id)}",
                                                 channel_id, channel=channel_id, oldest=f"{since.timestamp():.6f}")
                    for item in page.get("messages") or []]
        roots = []
        for item in messages:
            key = _key_of(item)
            if key is None or item.get("thread_ts") not in (None, item.get("ts")):
                continue
            reactions = tuple((str(r.get("name", "")), tuple(str(u) for u in r.get("users") or ()))
                              for r in item.get("reactions") or ())
            roots.append(ChatRoot(key=key, ref=ChatRef(SERVICE, channel_id, str(item["ts"])), reactions=reactions,
                                  latest_reply=str(item.get("latest_reply") or "")))
        return roots

    def thread_replies(self, ref: ChatRef) -> list[ChatReply]:
        """The replies in an alert's thread, oldest first (one conversations.replies page)."""
        _require_slack(ref)
        data = self._call(self.client.conversations_replies, f"conversations.replies {ref.channel} {ref.ts}", ref.channel,
                          channel=ref.channel, ts=ref.ts, limit=100)
        return [ChatReply(user=str(m.get("user") or ""), text=str(m.get("text") or ""), ts=str(m["ts"]),
                          by_bot=bool(m.get("bot_id")) or _key_of(m) is not None)
                for m in data.get("messages") or [] if m.get("ts") != ref.ts]

    def set_group(self, group: str, users: list[str]) -> None:
        """usergroups.users.update (Tier 2): the group's members become exactly `users`."""
        self._call(self.client.usergroups_users_update, f"usergroups.users.update {group}", group, usergroup=group,
                   users=",".join(users))

    # -- channels ----------------------------------------------------------------------------
    def channel_id(self, channel: Channel) -> str:
        """The channel's id. A `#name` costs one conversations.list call per 1,000 channels in
        the workspace (Tier 2: about 20 a minute) unless a post this run already taught us
        the id; write ids in the policy to avoid it."""
        target = self._target(channel)
        if _CHANNEL_ID.fullmatch(target):
            return target
        known = self._ids.get(_key(target))
        if known:
            return known
        wanted = _key(target)
        request = f"conversations.list (looking up {target})"
        for page in self._pages(
            self.client.conversations_list,
            request,
            target,
            history=False,
            types="public_channel,private_channel",
            exclude_archived=True,
            limit=1000,
        ):
            for item in page.get("channels") or []:
                if str(item.get("name", "")).lower() == wanted:
                    self._ids[wanted] = str(item["id"])
                    return self._ids[wanted]
        raise ServiceError(
            SERVICE,
            request,
            "channel_not_found",
            hint=failures.hint("channel_not_found", channel=target),
        )

    def _target(self, channel: Channel) -> str:
        if not channel.slack:
            raise ValueError(f"channel {channel.id!r} has no `slack:` in the policy")
        return channel.slack.strip()

    @staticmethod
    def _label(channel: Channel, target: str) -> str:
        shown = channel.slack or target
        return shown if shown == target else f"{shown} ({target})"

    # -- calls -------------------------------------------------------------------------------
    def _call(
        self, method: Callable[..., SlackResponse], request: str, where: str, /, *, once: bool = False, **args: Any
    ) -> dict[str, Any]:
        """`once`: the call posts a message (see failures.py)."""
        try:
            response = method(**args)
        except SlackApiError as exc:
            raise failures.from_api_error(request, exc, channel=where, once=once) from None
        except (URLError, OSError, SlackRequestError, HTTPException, json.JSONDecodeError) as exc:
            # HTTPException: an answer cut short (IncompleteRead) or garbled; JSONDecodeError:
            # a body that ended early without a Content-Length to tell.
            raise failures.from_transport_error(request, exc, once=once) from None
        data = response.data
        return data if isinstance(data, dict) else {}

    def _pages(
        self,
        method: Callable[..., SlackResponse],
        request: str,
        where: str,
        /,
        *,
        history: bool = True,
        **args: Any,
    ) -> Iterator[dict[str, Any]]:
        """Pages of a cursor-paginated method: at most `history_pages` of a history, every
        page of a listing."""
        if history:
            args.update(include_all_metadata=True, limit=100)
        cursor = ""
        seen = 0
        while True:
            page_args: dict[str, Any] = {**args, **({"cursor": cursor} if cursor else {})}
            data = self._call(method, request, where, **page_args)
            yield data
            seen += 1
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor or (history and seen >= self.history_pages):
                return


def _key_of(message: dict[str, Any]) -> str | None:
    """The idempotency key outage-bot stored in a message's metadata; None for any other message."""
    meta = message.get("metadata") or {}
    if meta.get("event_type") != EVENT_TYPE:
        return None
    key = (meta.get("event_payload") or {}).get("key")
    return str(key) if key is not None else None


def _key(target: str) -> str:
    return target.lstrip("#").lower()


def _require_slack(ref: ChatRef) -> None:
    if ref.service != SERVICE:
        raise ValueError(f"{ref.encode()!r} is not a Slack Web API message")
