"""Where does a KISPG environment differ from our sandbox? Probes, a guided payment, and a report.

`probes` holds the automatic probes as data, `exchange` sends one request and records
the answer, `compare` masks, normalises and judges, `runner` plays the probes against
the target and the in-process sandbox, `guided` (with `catcher`) runs the optional
1,004-won payment, `report` writes JSON and a summary, `audit` ties them together.
The CLI edge is `webview_toolkit.cli.conformance_cmd`.
"""
