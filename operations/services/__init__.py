"""Services over every domain app's tables: privacy export and erasure, and the admin's actions on them."""
