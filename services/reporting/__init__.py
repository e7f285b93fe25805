"""Reports (báo cáo) and open data from the indicator history, "as of" any date.

Everything here reads ``indicator_history`` (one document per published feed record, see
``services/indicators/store.py``) and never today's state: a unit's status as of a date is
its latest record with ``as_of_utc`` before the end of that date in Asia/Ho_Chi_Minh.

- ``history``: history records as values, snapshots at cut-offs (pure)
- ``source``: reading the history from the store
- ``annual``: the annual report of a plan (pure tables)
- ``charts``, ``page``, ``annex``: inline SVG, the HTML page, the XLSX annex
- ``opendata``: the open-data export with small-cell suppression (pure) and its files
"""
