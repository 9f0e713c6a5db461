"""The desktop UI (PySide6). Everything here is Qt; everything it does to data goes through the engine."""
