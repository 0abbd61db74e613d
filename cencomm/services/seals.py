"""Organisation seals: seal keys, seal holders, and countersignatures of messages.

An admin designates an organisation's seal holders; an admin or a holder registers and revokes
the organisation's seal keys; a holder countersigns a message of their organisation that they
can read. Every change is audited in its transaction.
"""

from __future__ import annotations

import uuid

from cencomm.crypto.jws import ParsedJws, parse_compact, verify_signature
from cencomm.crypto.keys import jwk_thumbprint
from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cencomm.domain.events import MessageCountersigned
from cencomm.domain.ids import GroupId, MessageId, OrganizationId, UserId, new_id
from cencomm.domain.keys import MAX_LABEL
from cencomm.domain.messages import StoredMessage, may_read
from cencomm.domain.policy import Action, authorize, is_allowed
from cencomm.domain.seals import (
    MAX_COUNTERSIGNATURE_BYTES,
    Countersignature,
    CountersignOutcome,
    OrganizationKey,
    SealHolder,
    check_countersignature_claims,
)
from cencomm.domain.users import Caller, Principal, Role
from cencomm.services.audit import AuditTrail
from cencomm.services.events import Publisher
from cencomm.services.groups import NO_GROUP, GroupService
from cencomm.services.keys import parse_public_key
from cencomm.services.signed_envelopes import duplicate_cid, invalid
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit


def _principal(caller: Caller) -> Principal:
    if caller.principal is None:
        raise Forbidden("authentication required")
    return caller.principal


def _not_holder(message: str) -> Forbidden:
    return Forbidden(message, slug="not-seal-holder")


def _check_label(label: str | None) -> None:
    if label is not None and (len(label) > MAX_LABEL or not label.isprintable()):
        raise Invalid(
            f"labels are at most {MAX_LABEL} printable characters",
            slug="validation-failed",
            errors=(FieldError("body.label", "too long or not printable"),),
        )


class SealService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditTrail,
        groups: GroupService,
        publisher: Publisher,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._groups = groups
        self._publisher = publisher

    # -- seal keys --------------------------------------------------------------------------

    def _ensure_key_manager(
        self, unit: Unit, principal: Principal, organization_id: uuid.UUID
    ) -> None:
        """The organisation exists (else NotFound), and the caller is an admin or one of its
        seal holders (else Forbidden)."""
        unit.organizations.get(organization_id)
        if is_allowed(principal, Action.MANAGE_SEALS):
            return
        if not unit.seals.is_holder(organization_id, principal.user_id):
            raise _not_holder("only an admin or a seal holder of this organisation may do this")

    async def register_key(
        self, caller: Caller, organization_id: uuid.UUID, public_key: str, label: str | None
    ) -> OrganizationKey:
        """Register a seal key of the organisation (admins and its seal holders).

        Raises:
            NotFound: no such organisation.
            Forbidden: an observer, or neither an admin nor a seal holder of it.
            Invalid: `invalid-public-key`, or a label too long.
            Conflict: `duplicate-key`: registered already (as a seal or a user's key).
        """
        principal = _principal(caller)
        authorize(principal, Action.SEAL)
        raw = parse_public_key(public_key)
        _check_label(label)
        key = OrganizationKey(
            kid=jwk_thumbprint(raw),
            organization_id=OrganizationId(organization_id),
            public_key=raw,
            label=label,
            created_at=self._clock.now(),
            revoked_at=None,
        )

        def work(unit: Unit) -> None:
            self._ensure_key_manager(unit, principal, organization_id)
            unit.seals.insert_key(key)
            # Key transparency, as for users' keys: anyone can later prove when it appeared.
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "seal_key.register",
                    target_type="organization_key",
                    target_id=key.kid,
                    details={"organization_id": str(organization_id), "public_key": public_key},
                ),
            )

        await self._db.write(work)
        return key

    async def list_keys(
        self, principal: Principal, organization_id: uuid.UUID
    ) -> list[OrganizationKey]:
        """Every seal key of the organisation, revoked ones included: they are public, so that
        anyone can verify a countersignature (as users' keys are)."""
        authorize(principal, Action.READ_PUBLIC_KEYS)

        def work(unit: Unit) -> list[OrganizationKey]:
            unit.organizations.get(organization_id)
            return unit.seals.list_keys(organization_id)

        return await self._db.read(work)

    async def revoke_key(self, caller: Caller, organization_id: uuid.UUID, kid: str) -> None:
        """Revoke a seal key (admins and the organisation's seal holders, whatever their role:
        revoking only takes power away). Revoking twice is a no-op answer.

        Raises:
            NotFound: no such organisation, or no such seal key of it.
            Forbidden: neither an admin nor a seal holder of the organisation.
        """
        principal = _principal(caller)
        now = self._clock.now()

        def work(unit: Unit) -> None:
            self._ensure_key_manager(unit, principal, organization_id)
            key = unit.seals.find_key(kid)
            if key is None or key.organization_id != organization_id:
                raise NotFound("no such seal key")
            if not unit.seals.revoke_key(kid, now):
                return  # already revoked: nothing changes, nothing to audit
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "seal_key.revoke",
                    target_type="organization_key",
                    target_id=kid,
                    details={"organization_id": str(organization_id)},
                ),
            )

        await self._db.write(work)

    # -- seal holders -----------------------------------------------------------------------

    async def designate_holder(
        self, caller: Caller, organization_id: uuid.UUID, user_id: uuid.UUID
    ) -> tuple[SealHolder, bool]:
        """Make a user of the organisation one of its seal holders (admins); returns the
        holder and whether it is new (a repeat changes nothing).

        Raises:
            Forbidden: not an admin.
            NotFound: no such organisation or user.
            Conflict: `not-organization-user`: the user is of another organisation, or an
                observer (observers never sign).
        """
        principal = _principal(caller)
        authorize(principal, Action.MANAGE_SEALS)
        now = self._clock.now()

        def work(unit: Unit) -> tuple[SealHolder, bool]:
            unit.organizations.get(organization_id)
            user = unit.users.get(user_id)
            if user.organization_id != organization_id or user.role is Role.OBSERVER:
                # 409: the user's organisation and role, as they are now, do not allow it.
                raise Conflict(
                    "a seal holder must be a user of this organisation, not an observer",
                    slug="not-organization-user",
                )
            existing = unit.seals.find_holder(organization_id, user_id)
            if existing is not None:
                return existing, False
            holder = SealHolder(OrganizationId(organization_id), UserId(user_id), now)
            unit.seals.add_holder(holder)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "seal_holder.add",
                    target_type="user",
                    target_id=user_id,
                    details={"organization_id": str(organization_id)},
                ),
            )
            return holder, True

        return await self._db.write(work)

    async def remove_holder(
        self, caller: Caller, organization_id: uuid.UUID, user_id: uuid.UUID
    ) -> None:
        """Take a seal holder's designation away (admins); removing a non-holder changes
        nothing. Their countersignatures stay.

        Raises:
            Forbidden: not an admin.
            NotFound: no such organisation.
        """
        principal = _principal(caller)
        authorize(principal, Action.MANAGE_SEALS)

        def work(unit: Unit) -> None:
            unit.organizations.get(organization_id)
            if not unit.seals.remove_holder(organization_id, user_id):
                return
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "seal_holder.remove",
                    target_type="user",
                    target_id=user_id,
                    details={"organization_id": str(organization_id)},
                ),
            )

        await self._db.write(work)

    async def list_holders(
        self, principal: Principal, organization_id: uuid.UUID
    ) -> list[SealHolder]:
        authorize(principal, Action.MANAGE_SEALS)

        def work(unit: Unit) -> list[SealHolder]:
            unit.organizations.get(organization_id)
            return unit.seals.list_holders(organization_id)

        return await self._db.read(work)

    # -- countersignatures ------------------------------------------------------------------

    async def countersign(
        self, caller: Caller, message_id: uuid.UUID, jws: str
    ) -> CountersignOutcome:
        """Record a seal holder's countersignature of a message; a repeat of (organisation,
        cid) with the identical JWS returns the original.

        In this order, first failure wins: the JWS parses (`invalid-jws`, `jws-too-large`);
        the caller can read the message (else 404, as for a missing one); the caller's role
        may seal and they hold the seal of the sender's organisation (403 `not-seal-holder`);
        the message is shown (409 `message-hidden`); `kid` is a seal key (`unknown-key`) of
        `org` (`organization-mismatch`), `org` is the sender's organisation
        (`organization-mismatch`), the key is active (`revoked-key`); `sub` is the caller
        (`sender-mismatch`); the signature verifies (`bad-signature`); the claims
        (`check_countersignature_claims`); `cid` unused (`duplicate-cid`); the key has not
        countersigned the message yet (409 `already-countersigned`).
        """
        principal = caller.principal
        if principal is None:
            raise NotFound("no such message")
        parsed = parse_compact(jws, max_bytes=MAX_COUNTERSIGNATURE_BYTES)
        now = self._clock.now()

        def work(unit: Unit) -> CountersignOutcome:
            message = self._readable_message(unit, principal, message_id)
            organization_id = OrganizationId(message.sender.organization_id)
            authorize(principal, Action.SEAL)
            if not unit.seals.is_holder(organization_id, principal.user_id):
                raise _not_holder("only a seal holder of the sender's organisation countersigns")
            if message.hidden:
                raise Conflict("the message is hidden", slug="message-hidden")
            key = unit.seals.find_key(parsed.kid)
            self._verify(parsed, key, principal, organization_id)
            assert key is not None  # noqa: S101 - _verify refused a missing key
            cid = check_countersignature_claims(
                parsed.payload,
                expected_sub=str(principal.user_id),
                expected_org=str(organization_id),
                message_id=str(message.id),
                message_jws=message.jws,
                now=int(now.timestamp()),
            )
            seals = unit.seals
            existing = seals.find_by_cid(organization_id, cid)
            if existing is not None:
                if existing.jws == jws and existing.message_id == message.id:
                    return CountersignOutcome(existing, created=False)
                raise duplicate_cid()
            if seals.find_by_message_key(message.id, key.kid) is not None:
                raise Conflict(
                    "this seal key already countersigned the message",
                    slug="already-countersigned",
                )
            countersignature = Countersignature(
                id=new_id(),
                message_id=MessageId(message.id),
                organization_id=organization_id,
                kid=key.kid,
                signer_id=principal.user_id,
                cid=cid,
                jws=jws,
                created_at=now,
            )
            seals.insert_countersignature(countersignature)
            group_id = GroupId(message.group_id)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "message.countersign",
                    target_type="message",
                    target_id=message.id,
                    group_id=group_id,
                    details={
                        "organization_id": str(organization_id),
                        "kid": key.kid,
                        "cid": cid,
                        "seq": message.seq,
                    },
                ),
            )
            event = MessageCountersigned(group_id, MessageId(message.id), countersignature.id)
            unit.after_commit(lambda: self._publisher.publish(event))
            return CountersignOutcome(countersignature, created=True)

        return await self._db.write(work)

    def _readable_message(
        self, unit: Unit, principal: Principal, message_id: uuid.UUID
    ) -> StoredMessage:
        """NotFound unless the caller may read the message. A missing message takes the same
        path (the group lookup of the nil id) as one in a group the caller cannot see, so the
        two cannot be told apart."""
        message = unit.messages.find(message_id)
        group_id = message.group_id if message is not None else NO_GROUP
        try:
            access = self._groups.access(unit, principal, group_id)
        except NotFound:
            raise NotFound("no such message") from None
        if message is None or not may_read(access, message):
            raise NotFound("no such message")
        return message

    @staticmethod
    def _verify(
        parsed: ParsedJws,
        key: OrganizationKey | None,
        principal: Principal,
        organization_id: OrganizationId,
    ) -> None:
        claimed_org = parsed.payload.get("org")
        if key is None:
            raise invalid("unknown-key", "Unknown key", "jws.header.kid", "kid is not a seal key")
        if str(key.organization_id) != claimed_org or claimed_org != str(organization_id):
            raise invalid(
                "organization-mismatch",
                "Organisation mismatch",
                "jws.payload.org",
                "org must be the sender's organisation, and kid one of its seal keys",
            )
        if not key.active:
            raise invalid("revoked-key", "Revoked key", "jws.header.kid", "the key is revoked")
        if parsed.payload.get("sub") != str(principal.user_id):
            raise invalid(
                "sender-mismatch",
                "Sender mismatch",
                "jws.payload.sub",
                "sub is not the authenticated user",
            )
        if not verify_signature(parsed, key.public_key):
            raise invalid(
                "bad-signature", "Bad signature", "jws.signature", "the signature does not verify"
            )
