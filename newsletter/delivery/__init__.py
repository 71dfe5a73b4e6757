"""Delivery: issues, campaigns, the ledger and journal, the send loop, schedules and test sends."""
