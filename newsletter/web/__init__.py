"""What the preview server and the subscriber-facing web app share."""
