"""What services raise when input cannot be used as given."""

from __future__ import annotations


class FieldError(ValueError):
    """Input that cannot be used as given: `field` names the input, `message` says why (as shown to the person)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
