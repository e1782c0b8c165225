"""Bringing a founder's data in: `files` (the one reader), `checks` (validation, one sentence per
problem), `suggest` (guessing a mapping), `mapping` (a file mapped to a model), `create` (new models
from a file), `traffic` (later predictions and outcomes), `inbox` (files dropped by a running service)."""
