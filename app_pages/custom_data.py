"""The "Your own data" page: a CSV file or a typed function, fitted on the shared demo page."""
from ui.custom.page import custom_page

custom_page()
