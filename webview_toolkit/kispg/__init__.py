"""The KISPG protocol: field specs, encData signing, the JSON API client, and a sandbox.

`specs.validate` checks a message against the guide's tables; `signing` builds and
verifies encData; `client.KispgClient` talks to KISPG (or the sandbox); `sandbox`
simulates KISPG as a Flask blueprint. Errors live in `errors`, result codes in `result_codes`,
the typed answers of the calls in `answers`.
"""
