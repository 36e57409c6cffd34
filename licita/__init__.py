"""Licita: open-source public e-procurement platform."""
