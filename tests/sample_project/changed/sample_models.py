"""The sample project's models after a change: a column (with a quoted name), an index, an enum
value and a table with a foreign key."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Status(enum.Enum):
    active = "active"
    banned = "banned"
    closed = "closed"


class Account(Base):
    __tablename__ = "account"
    __table_args__ = (Index("ix_account_status", "status"), Index("ix_account_display_name", "Display Name"),
                      {"schema": "shop", "comment": "who buys"})

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[Status] = mapped_column(Enum(Status, name="account_status", schema="shop"))
    display_name: Mapped[str | None] = mapped_column("Display Name", Text)


class Order(Base):
    __tablename__ = "order"
    __table_args__ = {"schema": "shop"}

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("shop.account.id", ondelete="CASCADE"), index=True)
    placed_at: Mapped[datetime] = mapped_column(server_default=func.now())
