"""The tabs and panels of a problem's page, one module each; each reads a ``ui.page.context.PageContext``."""
