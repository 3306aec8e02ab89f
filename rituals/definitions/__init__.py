"""The five rituals, one module each: open the one you want to read or change.

Each module defines ``RITUAL`` (a ``rituals.ritual.Ritual``): its kind, title, cadence, period shape,
steps, the window a run reviews, its findings (a typed object whose ``as_json()`` is the headless
``--json`` object), what its close freezes and the records its close writes. The figures themselves are
computed by the helper modules each definition names (``rituals.tag_sweep``, ``rituals.anomaly_report``...).
"""
