"""The sample project's SQLAlchemy models (first version); `changed/sample_models.py` is the next."""

import enum

from sqlalchemy import Enum, Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Status(enum.Enum):
    active = "active"
    banned = "banned"


class Account(Base):
    __tablename__ = "account"
    __table_args__ = (Index("ix_account_status", "status"), {"schema": "shop", "comment": "who buys"})

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[Status] = mapped_column(Enum(Status, name="account_status", schema="shop"))
