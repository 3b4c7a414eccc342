"""Operations: what works across every domain app — customers' privacy requests, background tasks and their
interrupted email handovers, the `afterglow` command and the demo data. It sits above all domain apps (see
docs/architecture.md), so that no domain app has to import the others."""
