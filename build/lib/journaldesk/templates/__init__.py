"""The Jinja2 templates of the summary and the e-mails, shipped as package data."""
