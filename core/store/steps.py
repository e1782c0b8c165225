"""The schema's steps, as data: each version's statements (or functions of the open cursor, for work that
depends on what the store holds). `core.store.migrations` applies them; a released step is never edited."""

from __future__ import annotations

from collections.abc import Callable

from core.store.connection import Cursor
from core.store.connection import quote_ident


def _label_row_times(cur: Cursor) -> None:
    """Give every stored outcome the time of the production row it is for (step 11)."""
    tables = cur.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_catalog = current_database() AND starts_with(table_name, 'rows__')"
    ).fetchall()
    for (table,) in tables:
        model = table.removeprefix("rows__")
        cur.execute(
            f"""UPDATE labels SET row_ts = m.ts
                FROM (SELECT _entity_id, max(_ts) AS ts FROM {quote_ident(table)}
                      WHERE _split = 'production' GROUP BY 1) m
                WHERE labels.model = ? AND labels.entity_id = m._entity_id""",  # noqa: S608 - a stored table's name
            [model],
        )


MIGRATIONS: dict[int, list[str | Callable[[Cursor], None]]] = {
    1: [
        """CREATE TABLE models (
            name VARCHAR PRIMARY KEY,
            spec JSON NOT NULL,
            rows_table VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE model_versions (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL,
            weights_path VARCHAR,
            weights_sha256 VARCHAR,
            reference_set VARCHAR NOT NULL,
            metadata JSON NOT NULL,
            is_live BOOLEAN NOT NULL DEFAULT FALSE,
            PRIMARY KEY (model, version))""",
        """CREATE TABLE promotions (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            promoted_at TIMESTAMP NOT NULL,
            promoted_by VARCHAR NOT NULL,
            note VARCHAR)""",
        """CREATE TABLE batches (
            id VARCHAR PRIMARY KEY,
            model VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            n_rows BIGINT NOT NULL,
            source VARCHAR,
            created_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE predictions (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            row_id BIGINT NOT NULL,
            ts TIMESTAMP NOT NULL,
            entity_id VARCHAR NOT NULL,
            prediction DOUBLE,
            probability DOUBLE,
            scores DOUBLE[],
            batch_id VARCHAR NOT NULL)""",
        """CREATE TABLE labels (
            model VARCHAR NOT NULL,
            entity_id VARCHAR NOT NULL,
            label DOUBLE NOT NULL,
            label_ts TIMESTAMP NOT NULL,
            batch_id VARCHAR NOT NULL,
            PRIMARY KEY (model, entity_id))""",
    ],
    2: [
        """CREATE TABLE monitor_windows (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            scope VARCHAR NOT NULL,
            window_start TIMESTAMP NOT NULL,
            window_end TIMESTAMP NOT NULL,
            n_rows BIGINT NOT NULL,
            n_labels BIGINT NOT NULL,
            fingerprint VARCHAR NOT NULL,
            computed_at TIMESTAMP NOT NULL,
            seconds DOUBLE,
            PRIMARY KEY (model, version, scope, window_start))""",
        """CREATE TABLE check_results (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            scope VARCHAR NOT NULL,
            window_start TIMESTAMP,
            window_end TIMESTAMP,
            check_kind VARCHAR NOT NULL,
            metric VARCHAR NOT NULL,
            column_name VARCHAR,
            method VARCHAR,
            value DOUBLE,
            threshold DOUBLE,
            reference DOUBLE,
            lower DOUBLE,
            upper DOUBLE,
            status VARCHAR NOT NULL,
            message VARCHAR NOT NULL,
            n_rows BIGINT,
            details JSON)""",
        """CREATE TABLE window_stats (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            window_start TIMESTAMP NOT NULL,
            window_end TIMESTAMP NOT NULL,
            n_rows BIGINT NOT NULL,
            n_labels BIGINT NOT NULL,
            stats JSON NOT NULL,
            PRIMARY KEY (model, version, window_start))""",
        """CREATE TABLE alerts (
            id VARCHAR PRIMARY KEY,
            model VARCHAR NOT NULL,
            version INTEGER,
            rule VARCHAR NOT NULL,
            subject VARCHAR NOT NULL,
            severity VARCHAR NOT NULL,
            state VARCHAR NOT NULL,
            title VARCHAR NOT NULL,
            what VARCHAR NOT NULL,
            cost VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            cost_value DOUBLE,
            value DOUBLE,
            threshold DOUBLE,
            first_window TIMESTAMP,
            last_window TIMESTAMP,
            windows INTEGER NOT NULL,
            opened_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            resolved_at TIMESTAMP)""",
        """CREATE TABLE alert_events (
            alert_id VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            happened_at TIMESTAMP NOT NULL,
            event VARCHAR NOT NULL,
            actor VARCHAR NOT NULL,
            comment VARCHAR,
            window_start TIMESTAMP)""",
    ],
    3: [
        """CREATE TABLE daily_stats (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            day DATE NOT NULL,
            window_start TIMESTAMP NOT NULL,
            n_rows BIGINT NOT NULL,
            n_labels BIGINT NOT NULL,
            stats JSON NOT NULL,
            PRIMARY KEY (model, version, day))""",
    ],
    4: [
        # who sent each batch, and whether someone took it back (the row stays, for the record)
        "ALTER TABLE batches ADD COLUMN actor VARCHAR",
        "ALTER TABLE batches ADD COLUMN removed_at TIMESTAMP",
        "ALTER TABLE batches ADD COLUMN removed_by VARCHAR",
        "ALTER TABLE batches ADD COLUMN removed_rows BIGINT",
    ],
    5: [
        # where alerts go, when monitoring runs, and every message ModelPulse owes or has sent
        """CREATE TABLE channels (
            id VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            target VARCHAR NOT NULL,
            format VARCHAR NOT NULL,
            min_severity VARCHAR NOT NULL,
            send_resolved BOOLEAN NOT NULL,
            digest BOOLEAN NOT NULL,
            enabled BOOLEAN NOT NULL,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL)""",
        """CREATE TABLE mutes (
            model VARCHAR PRIMARY KEY,
            until TIMESTAMP NOT NULL,
            muted_by VARCHAR NOT NULL,
            reason VARCHAR,
            created_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE schedules (
            model VARCHAR PRIMARY KEY,
            cron VARCHAR NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            updated_by VARCHAR NOT NULL)""",
        """CREATE TABLE schedule_runs (
            job VARCHAR NOT NULL,
            scheduled_for TIMESTAMP,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP,
            status VARCHAR NOT NULL,
            message VARCHAR,
            runner VARCHAR NOT NULL)""",
        # id is a hash of what the message is about, so a message owed twice is stored once
        """CREATE TABLE outbox (
            id VARCHAR PRIMARY KEY,
            channel_id VARCHAR NOT NULL,
            channel_name VARCHAR NOT NULL,
            recipient VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            model VARCHAR,
            subject VARCHAR NOT NULL,
            body_text VARCHAR NOT NULL,
            body_html VARCHAR,
            payload JSON NOT NULL,
            status VARCHAR NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at TIMESTAMP NOT NULL,
            created_at TIMESTAMP NOT NULL,
            claimed_by VARCHAR,
            claimed_at TIMESTAMP,
            sent_at TIMESTAMP,
            last_error VARCHAR)""",
        """CREATE TABLE outbox_alerts (
            outbox_id VARCHAR NOT NULL,
            channel_id VARCHAR NOT NULL,
            alert_id VARCHAR NOT NULL,
            event VARCHAR NOT NULL,
            severity VARCHAR NOT NULL,
            cost_value DOUBLE)""",
        """CREATE TABLE leases (
            name VARCHAR PRIMARY KEY,
            holder VARCHAR NOT NULL,
            acquired_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL)""",
    ],
    6: [
        # people, their sessions, failed sign-ins (to slow guessing), share links, and who did what
        """CREATE TABLE users (
            email VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL,
            role VARCHAR NOT NULL,
            password_hash VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL,
            updated_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE sessions (
            id VARCHAR PRIMARY KEY,
            email VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL,
            revoked_at TIMESTAMP)""",
        """CREATE TABLE login_failures (
            key VARCHAR NOT NULL,
            failed_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE share_links (
            id VARCHAR PRIMARY KEY,
            model VARCHAR NOT NULL,
            view VARCHAR NOT NULL,
            created_by VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL,
            revoked_at TIMESTAMP,
            revoked_by VARCHAR,
            uses INTEGER NOT NULL,
            last_used_at TIMESTAMP)""",
        """CREATE TABLE audit_log (
            happened_at TIMESTAMP NOT NULL,
            actor VARCHAR NOT NULL,
            role VARCHAR,
            action VARCHAR NOT NULL,
            model VARCHAR,
            detail VARCHAR,
            outcome VARCHAR NOT NULL,
            client VARCHAR)""",
    ],
    7: [
        # how long a model's rows and outcomes are kept, and up to when they were deleted (the monitoring
        # results of those windows stay, and are never recomputed from the rows that are gone)
        """CREATE TABLE retention (
            model VARCHAR PRIMARY KEY,
            days INTEGER NOT NULL,
            purged_before TIMESTAMP,
            updated_at TIMESTAMP NOT NULL,
            updated_by VARCHAR NOT NULL)""",
    ],
    8: [
        # business analytics: per-segment sufficient statistics of every window and of the reference
        """CREATE TABLE segment_stats (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            window_start TIMESTAMP NOT NULL,
            column_name VARCHAR NOT NULL,
            segment VARCHAR NOT NULL,
            n_rows BIGINT NOT NULL,
            n_labels BIGINT NOT NULL,
            stats JSON NOT NULL,
            PRIMARY KEY (model, version, window_start, column_name, segment))""",
        """CREATE TABLE segment_reference (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            column_name VARCHAR NOT NULL,
            segment VARCHAR NOT NULL,
            position INTEGER NOT NULL,
            n_rows BIGINT NOT NULL,
            n_labels BIGINT NOT NULL,
            stats JSON NOT NULL,
            PRIMARY KEY (model, version, column_name, segment))""",
        # which inputs drive each version's answers (permutation importance, computed ahead of time)
        """CREATE TABLE importance (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            feature VARCHAR NOT NULL,
            importance DOUBLE NOT NULL,
            spread DOUBLE NOT NULL,
            rank INTEGER NOT NULL,
            metric VARCHAR NOT NULL,
            n_rows BIGINT NOT NULL,
            computed_at TIMESTAMP NOT NULL,
            PRIMARY KEY (model, version, feature))""",
        # people's verdicts on alerts, the threshold changes they led to, and what those changes kept quiet
        """CREATE TABLE alert_feedback (
            alert_id VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            rule VARCHAR NOT NULL,
            useful BOOLEAN NOT NULL,
            reason VARCHAR,
            actor VARCHAR NOT NULL,
            given_at TIMESTAMP NOT NULL,
            window_start TIMESTAMP)""",
        """CREATE TABLE rule_adjustments (
            id VARCHAR PRIMARY KEY,
            model VARCHAR NOT NULL,
            rule VARCHAR NOT NULL,
            old_threshold DOUBLE NOT NULL,
            new_threshold DOUBLE NOT NULL,
            reason VARCHAR NOT NULL,
            actor VARCHAR NOT NULL,
            made_at TIMESTAMP NOT NULL,
            reverted_at TIMESTAMP,
            reverted_by VARCHAR)""",
        """CREATE TABLE silenced_alerts (
            model VARCHAR NOT NULL,
            rule VARCHAR NOT NULL,
            subject VARCHAR NOT NULL,
            window_start TIMESTAMP NOT NULL,
            measure DOUBLE,
            default_threshold DOUBLE NOT NULL,
            used_threshold DOUBLE NOT NULL,
            title VARCHAR NOT NULL,
            what VARCHAR NOT NULL,
            recorded_at TIMESTAMP NOT NULL,
            PRIMARY KEY (model, rule, subject, window_start))""",
    ],
    9: [
        # per-window counts kept between calls: counting every window joins every row with every label, and
        # the pages ask on every rerun (core/store/rows.py, RowsFamily.window_fingerprints)
        """CREATE TABLE window_fingerprint_cache (
            model VARCHAR NOT NULL,
            unit VARCHAR NOT NULL,
            window_start TIMESTAMP NOT NULL,
            n_rows BIGINT NOT NULL,
            n_labels BIGINT NOT NULL,
            label_sum DOUBLE NOT NULL,
            last_label TIMESTAMP,
            as_of TIMESTAMP NOT NULL,
            max_row_id BIGINT NOT NULL,
            n_stored BIGINT NOT NULL,
            purged_before TIMESTAMP)""",
    ],
    10: [
        # many writers: each model's next row id (writers on several processes take blocks of ids here), a
        # batch id its sender named (taken first, so a batch sent twice is stored once), and which process
        # computes which monitoring window until when (so two workers never compute the same one)
        """CREATE TABLE id_counters (
            name VARCHAR PRIMARY KEY,
            next_id BIGINT NOT NULL)""",
        """CREATE TABLE batch_claims (
            batch_id VARCHAR PRIMARY KEY,
            model VARCHAR NOT NULL,
            holder VARCHAR NOT NULL,
            claimed_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE window_claims (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            scope VARCHAR NOT NULL,
            window_start TIMESTAMP NOT NULL,
            fingerprint VARCHAR NOT NULL,
            holder VARCHAR NOT NULL,
            claimed_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL)""",
    ],
    11: [
        # the time of the row an outcome is for, kept with the outcome: reading one window's outcomes then
        # skips every older outcome by this column instead of probing all of them by id, so monitoring a new
        # window costs the same however many outcomes are stored (bench/RESULTS.md, session 9)
        "ALTER TABLE labels ADD COLUMN row_ts TIMESTAMP",
        _label_row_times,
    ],
    12: [
        # a small sample of each window's answered rows, which later windows' estimates recalibrate on, and the
        # window counts each sample was made from: a calibration then reads a few samples instead of joining every
        # row of its period with its outcome (core/store/calibration.py; bench/RESULTS.md, session 10)
        """CREATE TABLE calibration_samples (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            window_start TIMESTAMP NOT NULL,
            row_ts TIMESTAMP NOT NULL,
            label_ts TIMESTAMP NOT NULL,
            probability DOUBLE,
            label DOUBLE,
            weight DOUBLE NOT NULL)""",
        """CREATE TABLE calibration_marks (
            model VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            window_start TIMESTAMP NOT NULL,
            mark VARCHAR NOT NULL,
            PRIMARY KEY (model, version, window_start))""",
    ],
}
