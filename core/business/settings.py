"""Changing a model's money settings (value per outcome, retention rate, currency, assumption)."""

from __future__ import annotations

from pydantic import ValidationError

from core.business.base import KINDS
from core.errors import DataError
from core.schema import BusinessConfig
from core.schema import ModelSpec
from core.store import Store


def update_business(store: Store, *, model: str, **changes: object) -> ModelSpec:
    """Change the money settings of a model and save them; a bad value is one sentence naming it."""
    spec = store.get_spec(model)
    try:
        business = BusinessConfig.model_validate({**spec.business.model_dump(), **changes})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise DataError(f"The money setting `{field}` is not valid: {first['msg']}.") from exc
    if business.kind not in KINDS:
        raise DataError(f"There is no kind of money setting called `{business.kind}`; use one of {', '.join(KINDS)}.")
    for column in (business.value_column, business.quantity_column):
        if column and column not in store.stored_columns(spec):
            raise DataError(f"Column `{column}` is not stored for {spec.title}, so it cannot carry money values.")
    updated = spec.model_copy(update={"business": business})
    store.upsert_model(updated)
    return updated
