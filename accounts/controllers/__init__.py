"""HTTP entry points of accounts: signing in and out, and the admin pages for staff, teams, API keys and audit."""
