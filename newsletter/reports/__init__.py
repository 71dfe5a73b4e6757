"""After the send: what became of each issue and of the list, in numbers, charts and JSON."""
