"""Monitoring engine: windows of stored traffic -> typed check results.

Split the way NannyML splits calculators from results: each check has a calculator module
(`drift`, `performance`, `quality`, `estimate`) that takes frames and returns
:class:`~core.results.CheckResult` objects; `context` prepares a version's reference once, `window`
computes one window from its rows alone, and `runner` decides which windows need computing, reads
them from the store and saves what they found. `evidently_adapter` is the only module of `core` that
imports Evidently. Alerts are evaluated above this package, in `core.refresh`.
"""
