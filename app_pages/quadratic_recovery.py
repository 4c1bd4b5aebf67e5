"""The quadratic-recovery demo page: the shared demo page over fitcore's `quadratic-recovery` problem."""
from ui.page.assembly import demo_page

demo_page("quadratic-recovery")
