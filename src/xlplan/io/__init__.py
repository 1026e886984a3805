"""The I/O edge: every byte that enters or leaves (calamine reads, atomic writes, in-place edits, LibreOffice, local exports)."""
