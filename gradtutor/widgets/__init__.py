"""The tutor's widgets."""
