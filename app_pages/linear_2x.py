"""The linear-2x demo page: the shared demo page over fitcore's `linear-2x` problem."""
from ui.page.assembly import demo_page

demo_page("linear-2x")
