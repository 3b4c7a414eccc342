"""What the shop platforms send, read into our terms. Pure: no database, no clock."""
