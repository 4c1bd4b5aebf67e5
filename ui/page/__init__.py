"""A problem's page as it is built: its state, settings, sidebar, controls, live loop and the view they draw.

Layered below ``ui.panels``: panels import these modules, never the other way round (``assembly`` is the one
module here that imports the panels; only page files and the own-data page import it).
"""
