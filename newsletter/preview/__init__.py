"""`newsletter preview`: a local web page showing the issue as readers will get it, kept live.

session.py renders and re-renders (one Snapshot per save), watch.py notices saves,
app.py serves the page, the email frames, the live-reload stream and the send-test form.
"""
