"""What a project has stored: its newest responses and conversations, for browsing
(the admin console). Reading one, with its items, is the public API's job."""

from __future__ import annotations

from dataclasses import dataclass

from switchyard.store.conversations import ConversationRecord, ConversationRepository
from switchyard.store.responses import ResponseRecord, ResponseRepository


@dataclass(frozen=True, slots=True)
class StoredObjects:
    responses: ResponseRepository
    conversations: ConversationRepository

    async def recent_responses(self, project_id: str, limit: int = 50) -> list[ResponseRecord]:
        return await self.responses.recent(project_id, limit)

    async def recent_conversations(self, project_id: str, limit: int = 50) -> list[ConversationRecord]:
        return await self.conversations.recent(project_id, limit)
