"""What pages read, named for what it serves: `overview` (the Overview cards), `kpis`, `compare`,
`charts` (Plotly figures from stored results) and `report` (the board report). Everything here reads
stored aggregates, never raw prediction rows."""
