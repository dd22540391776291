"""Import every model module so Base.metadata is complete (Alembic, checks)."""

from studio.accounts import models as accounts_models  # noqa: F401
from studio.db.base import Base

metadata = Base.metadata
