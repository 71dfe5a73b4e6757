"""QA: every rule a finished email must pass before it is sent, and the report of them."""
