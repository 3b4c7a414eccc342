"""HTTP entry points of surveys: the survey and unsubscribe pages behind signed links, and the dev outbox."""
