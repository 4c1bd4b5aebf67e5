"""The quadratic-bias demo page: the shared demo page over fitcore's `quadratic-bias` problem."""
from ui.page.assembly import demo_page

demo_page("quadratic-bias")
