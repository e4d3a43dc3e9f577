"""The sheet contract, the default calendar and the settings example, shipped as package data."""
