"""Import every model module so Base.metadata is complete (Alembic, checks)."""

from studio.accounts import models as accounts_models  # noqa: F401
from studio.db.base import Base
from studio.generation import models as generation_models  # noqa: F401
from studio.generation.webhooks import models as webhook_models  # noqa: F401
from studio.jams import models as jams_models  # noqa: F401
from studio.media import models as media_models  # noqa: F401
from studio.projects import models as projects_models  # noqa: F401
from studio.uploads import models as uploads_models  # noqa: F401

metadata = Base.metadata
