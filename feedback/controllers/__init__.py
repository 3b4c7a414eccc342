"""HTTP entry points over feedback: staff inboxes, routing rules, dashboards; the public suggestion box and replies."""
