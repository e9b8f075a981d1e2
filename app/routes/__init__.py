"""One router per resource: health, options, sessions, compare, ws, pages."""
