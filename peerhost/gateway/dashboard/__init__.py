"""The status page the gateway serves at ``/_dashboard``: server-rendered (Starlette + Jinja2
templates) with a little JavaScript polling JSON for live updates.

For anyone: the worker set (stake, reputation, recent jobs, slashes), recent settlements and the
gateway's latency. For an owner (a signed link, :mod:`peerhost.gateway.dashboard.access`): their projects,
functions and versions with rollback/disable transactions prepared for their wallet, recent
requests with their logs, spend and balance. See docs/operators.md.
"""
