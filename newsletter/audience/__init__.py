"""The subscriber list: addresses, the SQL store, import and export.

(The top-level ``subscribers/`` folder holds the data; this package holds the code.)
"""
