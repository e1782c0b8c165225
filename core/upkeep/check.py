"""The health of a store: every table read back, every model file's checksum, every version complete.

`python -m core check` prints this report; the model page shows a version's findings; a backup is
checked the same way before it is restored. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from core.config import Settings
from core.errors import ModelFileError
from core.errors import StoreDamagedError
from core.modeling.registry import read_metadata
from core.modeling.registry import sha256_file
from core.modeling.registry import weights_file
from core.monitoring.runner import windows_behind
from core.schema import ModelSpec
from core.store import Store
from core.store import VersionInfo


@dataclass(frozen=True)
class Finding:
    """One thing wrong (`problem`: data or a model is unusable) or worth knowing (`warning`: work pending)."""

    severity: str
    model: str | None
    sentence: str


@dataclass
class CheckReport:
    """What `check` found: rows per table read back, and the findings in sentences."""

    path: Path
    tables: dict[str, int | None] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    model_files: int = 0

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "problem"]

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """The report as the CLI prints it: a verdict first, then one line per finding."""
        readable = sum(1 for n in self.tables.values() if n is not None)
        rows = sum(n for n in self.tables.values() if n is not None)
        head = (
            f"{self.path}: {readable} of {len(self.tables)} tables read back in full ({rows:,} rows), "
            f"{self.model_files} model files checked."
        )
        if not self.findings:
            return [head, "Everything checks out."]
        verdict = f"{len(self.problems)} problem(s) found." if self.problems else "No damage; some work is pending."
        return [head, verdict] + [f"  [{f.severity}] {f.sentence}" for f in self.findings]


def check_store(store: Store, settings: Settings | None = None) -> CheckReport:
    """Read every table in full, then check every model's versions; never raises for what it finds."""
    report = CheckReport(path=store.path)
    for table, rows, problem in store.verify():
        report.tables[table] = rows
        if problem:
            report.findings.append(Finding("problem", None, f"Table `{table}` cannot be read back: {problem}"))
    if report.problems:  # the per-model reads below would hit the same damage: the table findings say it
        return report
    for table, n in store.duplicate_keys().items():
        report.findings.append(
            Finding("problem", None, f"Table `{table}` holds {n:,} key(s) stored more than once (two writers raced).")
        )
    for spec in store.list_specs():
        try:
            report.findings += model_findings(store, spec, report=report)
        except StoreDamagedError as exc:
            report.findings.append(Finding("problem", spec.name, exc.user_message))
    return report


def version_findings(store: Store, spec: ModelSpec, info: VersionInfo) -> list[Finding]:
    """What stops one version being whole: its weights and metadata files, and its reference rows."""
    out = []
    name = f"v{info.version} of `{spec.name}`"
    if info.weights_path:
        path = weights_file(store, info)
        if not path.is_file():
            out.append(Finding("problem", spec.name, f"{name} cannot score: its weights file {path} is missing."))
        elif info.weights_sha256 and sha256_file(path) != info.weights_sha256:
            out.append(
                Finding(
                    "problem",
                    spec.name,
                    f"{name} cannot score: its weights file {path} was changed after it was saved (checksum).",
                )
            )
        else:
            try:
                read_metadata(path.parent)
            except ModelFileError as exc:
                out.append(Finding("problem", spec.name, f"{name} cannot score: {exc.user_message}"))
    if store.reference_rows(spec=spec, reference_set=info.reference_set) == 0:
        out.append(
            Finding(
                "problem",
                spec.name,
                f"{name} has no reference rows (set `{info.reference_set}`), so its drift cannot be judged.",
            )
        )
    return out


def model_findings(store: Store, spec: ModelSpec, *, report: CheckReport | None = None) -> list[Finding]:
    """Every version's completeness, rows no version has scored yet, and monitoring left pending."""
    out: list[Finding] = []
    versions = store.list_versions(spec.name)
    if not any(v.is_live for v in versions):
        out.append(Finding("warning", spec.name, f"`{spec.name}` has no live version."))
    for info in versions:
        out += version_findings(store, spec, info)
        if report is not None and info.weights_path:
            report.model_files += 1
    backlog = store.scoring_backlog(spec=spec, versions=[v.version for v in versions if v.weights_path])
    for version, missing in sorted(backlog.items()):
        out.append(
            Finding(
                "warning",
                spec.name,
                f"v{version} of `{spec.name}` has not scored {missing:,} stored rows yet; the next monitoring run "
                "scores them once its file loads.",
            )
        )
    behind = windows_behind(store, spec)
    if behind:
        out.append(
            Finding(
                "warning",
                spec.name,
                f"Monitoring of `{spec.name}` is behind for {behind} window(s); "
                f"`python -m core monitor --model {spec.name}` (or the next scheduled run) brings it up to date.",
            )
        )
    return out
