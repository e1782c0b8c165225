"""Monitoring engine: windows of stored traffic -> typed check results -> alerts.

Split the way NannyML splits calculators from results: each check has a calculator module
(`drift`, `performance`, `quality`, `estimate`), results are typed (`result`), and the `runner`
decides which windows need computing and stores what they found.
"""
