"""Compose: the article as the editor wrote it (front matter, Markdown, pasted blog text) read and checked."""
