"""Speed: one demo's run on every implementation, eager and compiled, and the exact engine."""
from ui.speed.page import speed_page

speed_page()
