"""The front controller: starts workflows, tracks them by correlation id, enforces deadlines, compensates."""
