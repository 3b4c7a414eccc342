"""The admin pages for privacy requests and background tasks, in the accounts admin frame."""
