"""Feedback services: intake from every source, tagging, routing, inboxes, replies and notifications."""
