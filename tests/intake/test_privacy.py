"""Personal data in a founder's files: flagged at mapping, then dropped or kept only as a keyed hash, in the
first file and every later one, so no raw value reaches the store."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import stat

import numpy as np
import pandas as pd
import pytest

from core.config import REPO_ROOT
from core.demo.datasets import CHURN
from core.errors import DataError
from core.intake.create import create_external_model
from core.intake.create import create_trained_model
from core.intake.files import read_table
from core.intake.mapping import check_privacy
from core.intake.mapping import spec_from_mapping
from core.intake.privacy import hash_key
from core.intake.privacy import key_file
from core.intake.privacy import keyed_hash
from core.intake.privacy import mask_email
from core.intake.privacy import personal_columns
from core.intake.suggest import suggest_mapping
from core.intake.traffic import log_labels
from core.intake.traffic import log_predictions
from core.schema import ArchConfig
from core.schema import ModelSpec
from core.store import Store
from tests.conftest import churn_mapping
from tests.conftest import csv_bytes
from tests.conftest import refused

FIRST = ["Maya", "Liam", "Noor", "Jonas", "Amara", "Kenji", "Sofia", "Mateo", "Elif", "Oscar", "Priya", "Tomás"]
LAST = ["Okafor", "Schmidt", "Tanaka", "Haddad", "Novak", "García", "Larsen", "Ivanova", "Mensah", "Dubois"]
DOMAINS = ["gmail.com", "outlook.com", "startup.io", "proton.me", "acme-corp.co.uk"]
NOTES = [
    "Called about the {m} invoice, wants a refund of the activation fee before {d} {mo}.",
    "Asked to move to paperless billing; said the app logged them out {d} times last week.",
    "Complained that the router drops the connection every evening around {d} pm, ticket {m}.",
    "Spoke with {name} at home, considering a competitor's offer, call back on {d} {mo}.",
    "Wants the streaming bundle removed from {mo} onwards and a written confirmation by post.",
]
MONTHS = ["January", "March", "May", "July", "September", "November"]


def with_personal_data(frame: pd.DataFrame, *, seed: int = 0, people: pd.DataFrame | None = None) -> pd.DataFrame:
    """Churn rows as a CRM export has them: a contact e-mail, a phone number, the name and agent notes."""
    rng = np.random.default_rng(seed)
    n = len(frame)
    first = rng.choice(FIRST, n)
    last = rng.choice(LAST, n)
    out = frame.copy()
    if people is None:
        numbers = rng.permutation(np.arange(1000, 9999))[:n]  # one address per customer
        out["email"] = [
            f"{f.lower()}.{ln.lower().replace('í', 'i')}{k}@{rng.choice(DOMAINS)}"
            for f, ln, k in zip(first, last, numbers, strict=True)
        ]
        out["full_name"] = [f"{f} {ln}" for f, ln in zip(first, last, strict=True)]
    else:
        out["email"] = people["email"].to_numpy()
        out["full_name"] = people["full_name"].to_numpy()
    formats = [
        lambda: f"+1 ({rng.integers(200, 999)}) {rng.integers(200, 999)}-{rng.integers(1000, 9999)}",
        lambda: f"+44 20 {rng.integers(1000, 9999)} {rng.integers(1000, 9999)}",
        lambda: f"{rng.integers(200, 999)}-{rng.integers(200, 999)}-{rng.integers(1000, 9999)}",
    ]
    out["phone"] = [formats[i % 3]() for i in range(n)]
    out.loc[out.index[::17], "phone"] = None  # not every customer left a number
    out["notes"] = [
        rng.choice(NOTES).format(
            m=rng.integers(10000, 99999), d=rng.integers(2, 28), mo=rng.choice(MONTHS), name=rng.choice(FIRST)
        )
        for _ in range(n)
    ]
    out["last_ticket"] = [  # free text under a name that says nothing
        f"Customer reported slow speeds in the {rng.choice(MONTHS)} outage, case {rng.integers(100000, 999999)}"
        for _ in range(n)
    ]
    out["account_number"] = [f"{x:08d}" for x in rng.integers(10_000_000, 99_999_999, n)]  # digits, not phones
    return out


def uploaded(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as the upload page reads it (CSV cells as text)."""
    return read_table(csv_bytes(frame), name="crm_export.csv", max_mb=50)


@pytest.fixture(scope="module")
def crm() -> pd.DataFrame:
    return uploaded(with_personal_data(CHURN.load(REPO_ROOT / "data").head(2000)))


def test_personal_columns_are_found_by_their_values_and_names(crm):
    flags = {p.column: p for p in personal_columns(crm)}
    assert {c: (p.kind, p.suggested) for c, p in flags.items()} == {
        "email": ("email", "hash"),
        "full_name": ("name", "drop"),
        "phone": ("phone", "hash"),
        "notes": ("free_text", "drop"),
        "last_ticket": ("free_text", "drop"),
    }
    assert flags["email"].reason.startswith("100% of values look like e-mail addresses (for example ")
    assert flags["phone"].reason == "100% of values look like phone numbers."
    assert "people's names" in flags["full_name"].reason
    assert "free text" in flags["notes"].reason and "characters on average" in flags["last_ticket"].reason
    raw = set(crm["email"]) | set(crm["full_name"]) | set(crm["phone"].dropna()) | set(crm["notes"])
    for flag in flags.values():  # a reason names the column, never a value
        assert not any(value in flag.reason for value in raw), flag.reason
    assert personal_columns(crm, exclude=["email", "notes"]) and "email" not in {
        p.column for p in personal_columns(crm, exclude=["email", "notes"])
    }
    # the shipped data has none: yes/no flags named `phone_service`, dates and codes are not personal
    assert personal_columns(CHURN.load(REPO_ROOT / "data")) == []
    assert mask_email("maya.okafor12@startup.com") == "m***@startup.com"


def test_a_contact_column_is_judged_by_its_values_first():
    frame = pd.DataFrame({"contact": [f"user{i}@example.org" for i in range(50)], "name": ["x"] * 50})
    kinds = {p.column: p.kind for p in personal_columns(frame)}
    assert kinds == {"contact": "email", "name": "name"}
    digits = pd.DataFrame({"mobile": [5550100000 + i for i in range(50)], "order_no": [5550100049] * 50})
    assert {p.column: p.kind for p in personal_columns(digits)} == {"mobile": "phone"}


def test_decimal_measurements_read_as_text_are_not_phone_numbers():
    """An upload reads every cell as text: `0.006399` has seven digits and a dot, like `555.123.4567`."""
    rng = np.random.default_rng(3)
    n = 200
    frame = pd.DataFrame(
        {
            "smoothness_error": np.round(rng.uniform(0.001, 0.03, n), 6),  # 0.006399: 7 digits, one dot
            "latitude": np.round(rng.uniform(40.5, 40.9, n), 6),  # 40.712776: 8 digits
            "office_line": [
                f"{rng.integers(200, 999)}.{rng.integers(200, 999)}.{rng.integers(1000, 9999)}" for _ in range(n)
            ],
        }
    )
    read = uploaded(frame)
    assert read["smoothness_error"].map(lambda v: sum(c.isdigit() for c in v) >= 7).mean() > 0.5  # the case is real
    assert {p.column: p.kind for p in personal_columns(read)} == {"office_line": "phone"}
    guess = suggest_mapping(read)
    assert {"smoothness_error", "latitude"} <= set(guess.numerical)


def test_the_mapping_suggestion_flags_them_and_leaves_them_out_of_the_inputs(crm):
    guess = suggest_mapping(crm)
    assert guess.entity == "customer_id" and guess.target == "churn" and guess.timestamp == "signed_up_at"
    flagged = {p.column for p in guess.personal}
    assert flagged == {"email", "full_name", "phone", "notes", "last_ticket"}
    assert not flagged & (set(guess.numerical) | set(guess.categorical))
    assert "contract" in guess.categorical and "tenure" in guess.numerical


def test_a_keyed_hash_is_stable_keeps_gaps_and_depends_on_the_key():
    key = b"k" * 32
    values = pd.Series(["maya@startup.io", None, " maya@startup.io", "liam@proton.me"], name="email")
    hashed = keyed_hash(values, key)
    assert hashed.name == "email" and hashed.isna().tolist() == [False, True, False, False]
    assert hashed[0] == hashed[2] != hashed[3]
    assert hashed[0] == hmac.new(key, b"maya@startup.io", hashlib.sha256).hexdigest()
    assert keyed_hash(values, b"other key")[0] != hashed[0]
    # a number read as a decimal in one file and as a whole number in another gives one hash
    assert keyed_hash(pd.Series([5550100.0, np.nan]), key)[0] == keyed_hash(pd.Series([5550100]), key)[0]


def test_the_key_comes_from_the_settings_or_a_private_file_beside_the_store(settings):
    path = key_file(settings)
    assert path == settings.db_path.parent / "hash.key" and not path.exists()
    key = hash_key(settings)
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert hash_key(settings) == key  # read back, never replaced
    configured = dataclasses.replace(settings, hash_key="a secret from the environment")
    assert hash_key(configured) == b"a secret from the environment"


def _every_text_cell(store: Store) -> list[str]:
    """Every text value in every table of the store (the model's rows, predictions, labels, specs, audit...)."""
    cells: list[str] = []
    tables = store.query_df("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
    for table in tables["table_name"]:
        frame = store.query_df(f'SELECT * FROM "{table}"')  # noqa: S608 (names read from the catalogue)
        for col in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_datetime64_any_dtype(frame[col]):
                cells += [str(v) for v in frame[col].dropna().unique()]
    return cells


def test_a_model_hashes_and_drops_personal_data_in_its_first_file_and_every_later_one(settings):
    """Train on a CRM export choosing a keyed hash for `email` (a category input) and drop for `notes`, then
    send a later file in which some of the same customers return: the raw values are nowhere in the store,
    the same e-mail has the same hash in both files, and `notes` is not stored."""
    base = CHURN.load(REPO_ROOT / "data").head(1500).copy()
    base["customer_id"] = [f"CRM{i:05d}" for i in range(len(base))]
    base["signed_up_at"] = pd.Timestamp("2018-04-02") + pd.to_timedelta(np.arange(len(base)) * 90, unit="m")
    first = with_personal_data(base.iloc[:1200], seed=1)
    later_people = pd.concat([first[["email", "full_name"]].head(100), first[["email", "full_name"]].tail(200)])
    later = with_personal_data(base.iloc[1200:], seed=2, people=later_people)
    later["signed_up_at"] = later["signed_up_at"] + pd.Timedelta(days=60)
    mapping = churn_mapping(
        categorical=("contract", "payment_method", "email"),
        hashed_columns=("email",),
        dropped_columns=("notes",),
    )
    assert settings.hash_key is None and not key_file(settings).exists()
    with Store.open(settings.db_path, create=True) as store:
        spec, _ = create_trained_model(
            store=store,
            settings=settings,
            mapping=mapping,
            frame=uploaded(first),
            source="crm_april.csv",
            arch=ArchConfig(hidden=(16,), max_epochs=2),
            progress=lambda _: None,
        )
        assert stat.S_IMODE(key_file(settings).stat().st_mode) == 0o600
        stored_spec = store.get_spec("acme_churn")  # the choice is saved with the model, for every later file
        assert stored_spec == spec
        assert spec.hashed_columns == ("email",) and spec.dropped_columns == ("notes",)
        sent = log_predictions(model="acme_churn", frame=uploaded(later.drop(columns=["churn"])), store=store)
        assert sent.rows == 300
        assert "Personal data: `email` replaced by a keyed hash, `notes` dropped." in sent.message

        rows = store.query_df('SELECT _entity_id, email FROM "rows__acme_churn"')
        assert "notes" not in store.query_df('SELECT * FROM "rows__acme_churn" LIMIT 1').columns
        key = hash_key(settings)
        both = pd.concat([first, later])
        expected = keyed_hash(both.set_index("customer_id")["email"], key)
        got = rows.set_index("_entity_id")["email"]
        assert (got == expected.loc[got.index]).all()
        returning = first["email"].iloc[0]
        ids = both.loc[both["email"] == returning, "customer_id"]
        assert len(ids) == 2 and got.loc[ids].nunique() == 1  # the same e-mail, the same hash, in both files

        cells = _every_text_cell(store)
        raw_emails = set(both["email"])
        assert not [c for c in cells if any(e in c for e in raw_emails)], "a raw e-mail reached the store"
        notes = set(both["notes"])
        assert not [c for c in cells if any(n in c for n in notes)], "a dropped note reached the store"
    # nor the model's saved files (its categories are hashes)
    for path in settings.models_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(e.encode() in data for e in list(raw_emails)[:300]), path


def test_a_hashed_id_still_joins_outcomes_that_arrive_later(settings):
    """An imported model keyed by customer e-mail: ids are stored hashed, and an outcome file naming the raw
    e-mail (as the founder's system has it) joins to the stored predictions."""
    cfg = dataclasses.replace(settings, hash_key="team key from secrets.toml")
    frame = with_personal_data(CHURN.load(REPO_ROOT / "data").head(400), seed=3)
    frame = frame.drop_duplicates("email").drop(columns=["customer_id"])
    frame["signed_up_at"] = pd.Timestamp("2018-04-02") + pd.to_timedelta(np.arange(len(frame)) * 3, unit="h")
    frame["p_churn"] = np.random.default_rng(0).random(len(frame))
    mapping = churn_mapping(
        name="acme_ext",
        entity="email",
        target=None,
        label_column="churn",
        probabilities=("p_churn",),
        classes=("No", "Yes"),
        hashed_columns=("email", "phone"),
        dropped_columns=("full_name", "notes", "last_ticket"),
    )
    with Store.open(cfg.db_path, create=True) as store:
        create_external_model(
            store=store,
            mapping=mapping,
            frame=uploaded(frame.drop(columns=["churn"])),
            source="ext.csv",
            reference_start=pd.Timestamp("2018-04-02"),
            reference_end=pd.Timestamp("2018-04-20"),
            settings=cfg,
        )
        ids = store.query_df("SELECT _entity_id FROM rows__acme_ext WHERE _split = 'production'")["_entity_id"]
        outcomes = frame.loc[keyed_hash(frame["email"], hash_key(cfg)).isin(ids), ["email", "churn"]]
        result = log_labels(model="acme_ext", frame=uploaded(outcomes), store=store, settings=cfg, source="l.csv")
        assert result.labels == len(ids) > 0
        cells = _every_text_cell(store)
        assert not [c for c in cells if any(e in c for e in set(frame["email"]))]
        assert not [c for c in cells if any(p in c for p in set(frame["phone"].dropna()))]
    assert not key_file(cfg).exists()  # a configured key needs no file


def test_choices_that_do_not_fit_a_column_s_role_are_refused_before_anything_is_stored(settings):
    frame = uploaded(with_personal_data(CHURN.load(REPO_ROOT / "data").head(300)))
    Store.open(settings.db_path, create=True).close()
    cases = [
        (dict(dropped_columns=("customer_id",)), "`customer_id` is the id of each row, so it cannot be dropped"),
        (dict(hashed_columns=("signed_up_at",)), "`signed_up_at` is the time column, which needs its real values"),
        (dict(dropped_columns=("contract",)), "`contract` is an input, so it cannot be dropped; keep it or hash it"),
        (dict(hashed_columns=("email",), dropped_columns=("email",)), "set to be both dropped and hashed"),
        (dict(hashed_columns=("monthly_charges",)), "`monthly_charges` is a money column"),
        (dict(dropped_columns=("nickname",)), "has no column `nickname`, which is needed as personal data to drop"),
    ]
    for change, message in cases:
        mapping = churn_mapping(**change)
        refused(
            settings,
            lambda s, m=mapping: create_trained_model(
                store=s, settings=settings, mapping=m, frame=frame, source="f.csv", progress=lambda _: None
            ),
            message,
        )
    with pytest.raises(DataError, match="cannot be dropped"):
        check_privacy(churn_mapping(dropped_columns=("churn",)))


def test_a_hashed_number_input_becomes_a_category_and_old_specs_still_load():
    mapping = churn_mapping(
        numerical=("tenure", "monthly_charges", "account_number"), hashed_columns=("account_number",)
    )
    spec = spec_from_mapping(mapping, classes=("No", "Yes"), source="trained")
    assert "account_number" in spec.categorical and "account_number" not in spec.numerical
    with pytest.raises(ValueError, match="make it a category input"):
        ModelSpec(**{**spec.model_dump(), "numerical": ("tenure", "account_number"), "categorical": ()})
    stored_before = spec.model_dump(mode="json", exclude={"hashed_columns", "dropped_columns"})
    old = ModelSpec.model_validate(stored_before)
    assert old.hashed_columns == () and old.dropped_columns == ()
