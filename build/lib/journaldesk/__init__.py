"""journaldesk: the help service for a school's e-journal, run from one shared sheet."""

__version__ = "0.1.0"
