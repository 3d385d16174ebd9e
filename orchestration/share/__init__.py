"""What may leave the warehouse: disclosure control (disclosure.py) and the shared packages built with it."""
