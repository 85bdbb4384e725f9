"""Customer phone numbers in E.164.

Earlier releases stored digits with a leading + when the number was written internationally, and
national numbers as written (0612345678). Each stored number is rewritten in E.164 with the
`phonenumbers` library; national ones are read as dialled in `customers.default_region` (handed in
by `callserver.store.migrate` as the `default_region` attribute). A number that cannot be read
(national form and no region) is kept as it was and counted in a warning, never dropped: it still
matches callers by its last digits. Two numbers of one customer that turn out to be the same are
merged. Downgrading keeps the E.164 numbers (they are valid in the older format too).

Revision ID: 0007
Revises: 0003
Create Date: 2027-01-10
"""

import logging
from collections.abc import Sequence

import phonenumbers
import sqlalchemy as sa
from alembic import context, op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

TAIL = 8  # as callserver.store.customers.TAIL at the time of writing

phones = sa.table(
    "customer_phones",
    sa.column("id", sa.BigInteger()),
    sa.column("customer_id", sa.BigInteger()),
    sa.column("number", sa.String(24)),
    sa.column("tail", sa.String(8)),
)


def _e164(number: str, region: str | None) -> str | None:
    text = number.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+") and region is None:
        return None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def upgrade() -> None:
    region = context.config.attributes.get("default_region")
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(phones.c.id, phones.c.customer_id, phones.c.number).order_by(phones.c.id)
    ).all()
    targets: dict[int, str] = {}
    first: dict[tuple[int, str], int] = {}
    unread = 0
    for row_id, customer_id, number in rows:
        new = _e164(number, region)
        if new is None:
            unread += 1
            new = number
        targets[row_id] = new
        first.setdefault((customer_id, new), row_id)
    # duplicates go first, so no update meets the (customer_id, number) unique constraint
    keep = set(first.values())
    for row_id, _customer_id, _number in rows:
        if row_id not in keep:
            bind.execute(sa.delete(phones).where(phones.c.id == row_id))
    for row_id, _customer_id, number in rows:
        new = targets[row_id]
        if row_id in keep and new != number:
            bind.execute(
                sa.update(phones)
                .where(phones.c.id == row_id)
                .values(number=new, tail=new.lstrip("+")[-TAIL:])
            )
    if unread:
        log.warning(
            "%d customer phone number(s) in national form kept as written: set customers.default_region "
            "and run `callserver customers import --update` with them to store them in E.164",
            unread,
        )


def downgrade() -> None:
    pass
