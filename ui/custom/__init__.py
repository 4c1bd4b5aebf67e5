"""The "Your own data" page: its data-source panel and the settings that describe a source in a link."""
