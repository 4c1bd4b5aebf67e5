"""Home: what the dashboard is, one card per demo."""
from ui.home import home_page

home_page()
