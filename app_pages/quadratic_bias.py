"""The quadratic-bias demo page: the shared demo page over fitcore's `quadratic-bias` problem."""
from ui.page import demo_page

demo_page("quadratic-bias")
