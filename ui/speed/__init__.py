"""The Speed page: measured steps per second per implementation, and the device sweep."""
