"""The sine-cubic demo page: the shared demo page over fitcore's `sine-cubic` problem."""
from ui.page.assembly import demo_page

demo_page("sine-cubic")
